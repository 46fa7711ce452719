"""BSM cross sections: each term against an analytic limit or a published closed form; the [bsm] section.

References: vector NSI, Barranco, Miranda & Rashba, JHEP 12 (2005) 021; light vector and scalar mediators,
Cerdeno et al., JHEP 05 (2016) 118 (arXiv:1604.01025) and Dent et al., PRD 96 (2017) 095007; magnetic
moment, Vogel & Engel, PRD 39 (1989) 3378 and Kosmas et al., PRD 92 (2015) 013011; charge radius,
Cadeddu et al., PRD 98 (2018) 113010, with the g_V^p corrections of Erler used in COHERENT's dukecevns.
"""

import dataclasses
import math

import numpy as np
import pytest

from generator.bsm import (
    ALPHA_EM,
    BSMHypothesis,
    bsm_charges,
    charge_radius_shift,
    dsigma_dt_bsm,
    magnetic_prefactor_cm2,
)
from generator.config import ConfigError, load_config
from generator.constants import FERMI_CONSTANT_MEV2, HBARC_MEV_CM
from generator.cross_section import CrossSectionModel, dsigma_dt_cm2_per_kev, sigma_cm2
from generator.experiment import Experiment
from generator.form_factors import FormFactor
from generator.kinematics import t_max_kev
from generator.nuclei import isotope
from generator.rates import expected_rates
from generator.sampler import SamplerTables, sample_chunks

CS = isotope("Cs133")
S2 = 0.23868
TREE_NOFF = CrossSectionModel(coupling_scheme="tree", sin2_theta_w=S2, form_factor=FormFactor("none"))
GF = FERMI_CONSTANT_MEV2
PREF = GF**2 / math.pi * HBARC_MEV_CM**2 * 1e-3  # x M -> cm^2/keV


def with_bsm(model, **kw):
    return dataclasses.replace(model, bsm=BSMHypothesis.build(**kw))


def grid(iso=CS, model=TREE_NOFF, enu=(5.0, 29.79, 50.0)):
    """(E, T) pairs inside the kinematic range."""
    e = np.repeat(np.asarray(enu), 7)
    frac = np.tile(np.linspace(0.02, 0.98, 7), len(enu))
    return e, frac * t_max_kev(e, model.mass_mev(iso))


def kin(e, t_kev, m):
    t = t_kev * 1e-3
    return 1 - t / e - m * t / (2 * e * e) + t * t / (2 * e * e)


# -- every term vanishes at zero coupling ---------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    dict(zprime_mass_mev=10.0, zprime_coupling=0.0),
    dict(scalar_mass_mev=10.0, scalar_coupling=0.0),
    dict(nsi_eps_u={"ee": 0.0, "emu": 0.0}, nsi_eps_d={"mutau": 0.0}),
    dict(magnetic_moment_mub={"e": 0.0, "mu": 0.0}),
    dict(charge_radius_cm2={"e": 0.0}),
])
def test_each_term_vanishes_at_zero_coupling(kw):
    h = BSMHypothesis.build(**kw)
    assert h.is_sm
    model = dataclasses.replace(CrossSectionModel(), bsm=h)
    assert not model.is_bsm  # the SM code path
    e, t = grid(model=model)
    sm = dsigma_dt_cm2_per_kev(e, t, CS)
    for pdg in (12, -14, 16):  # the BSM formulas themselves reduce to the SM
        np.testing.assert_allclose(dsigma_dt_bsm(e, t, CS, model, pdg), sm, rtol=1e-13)


def test_sm_config_stays_sm_and_bit_identical():
    a = load_config(preset="sns_csi")
    b = load_config(preset="sns_csi", overrides=["bsm.zprime_coupling=0", "bsm.nsi_eps_u.ee=0"])
    assert "bsm" not in a.to_dict() and b.bsm is not None
    ea, eb = Experiment.from_config(a), Experiment.from_config(b)
    assert eb.model.bsm is None
    np.testing.assert_array_equal(expected_rates(ea).events, expected_rates(eb).events)
    ta, tb = SamplerTables.build(ea), SamplerTables.build(eb)
    va, vb = (sample_chunks(t, 9, [0], [20_000], 20_000, 1.0) for t in (ta, tb))
    for k in va:
        np.testing.assert_array_equal(va[k], vb[k])


# -- non-standard interactions ---------------------------------------------------------------------------------

def barranco_nsi(e, t, iso, m, gvp, gvn, eu, ed, a):
    """Barranco, Miranda & Rashba (2005): coherent flavour-diagonal plus incoherent flavour-changing terms."""
    coh = iso.z * (gvp + 2 * eu[a][a] + ed[a][a]) + iso.n * (gvn + eu[a][a] + 2 * ed[a][a])
    inc = sum((iso.z * (2 * eu[a][b] + ed[a][b]) + iso.n * (eu[a][b] + 2 * ed[a][b])) ** 2 for b in range(3) if b != a)
    return PREF * m * (coh**2 + inc) * kin(e, t, m)


@pytest.mark.parametrize("pdg, flav", [(12, 0), (-14, 1), (16, 2)])
def test_nsi_matches_barranco_miranda_rashba(pdg, flav):
    eu = {"ee": 0.11, "mumu": -0.07, "emu": 0.05, "mutau": 0.02}
    ed = {"ee": -0.03, "tautau": 0.2, "etau": -0.04}
    model = with_bsm(TREE_NOFF, nsi_eps_u=eu, nsi_eps_d=ed)
    mu = np.asarray(model.bsm.eps_u)
    md = np.asarray(model.bsm.eps_d)
    assert mu[1, 0] == mu[0, 1] == 0.05  # symmetric
    e, t = grid()
    m = TREE_NOFF.mass_mev(CS)
    gvp, gvn = TREE_NOFF.couplings
    expected = barranco_nsi(e, t, CS, m, gvp, gvn, mu, md, flav)
    np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, model, pdg), expected, rtol=1e-12)


def test_nsi_cancelling_the_weak_charge_kills_the_nu_e_rate():
    # eps^u, eps^d with g_V^p + 2 eps^u + eps^d = 0 and g_V^n + eps^u + 2 eps^d = 0 zero Q_v for every nucleus.
    gvp, gvn = CrossSectionModel().couplings
    eu, ed = (-2 * gvp + gvn) / 3, (gvp - 2 * gvn) / 3
    sm = expected_rates(Experiment.from_config(load_config(preset="sns_csi")))
    bsm = expected_rates(Experiment.from_config(load_config(
        preset="sns_csi", overrides=[f"bsm.nsi_eps_u.ee={eu!r}", f"bsm.nsi_eps_d.ee={ed!r}"])))
    ci = bsm.components.index("delayed_nu_e")
    assert np.all(np.abs(bsm.events[ci]) < 1e-12 * sm.events[ci])
    others = [i for i in range(len(sm.components)) if i != ci]
    np.testing.assert_allclose(bsm.events[others], sm.events[others], rtol=1e-9)


# -- light vector mediator --------------------------------------------------------------------------------------

def test_zprime_matches_cerdeno_et_al():
    # Cerdeno et al. (2016): dsigma/dT = G_F^2 M/(4 pi) Q_W^2 [..] (1 - sqrt2 Q'/(G_F Q_W (q^2 + m^2)))^2, Q' = 3 A g^2
    g, mz = 3e-5, 15.0
    model = with_bsm(TREE_NOFF, zprime_mass_mev=mz, zprime_coupling=g)
    e, t = grid()
    m = TREE_NOFF.mass_mev(CS)
    qw = CS.n - (1 - 4 * S2) * CS.z
    q2 = 2 * m * t * 1e-3
    gv = 1 - math.sqrt(2) / GF * (3 * CS.a * g * g / qw) / (q2 + mz * mz)
    expected = GF**2 * m / (4 * math.pi) * qw**2 * gv**2 * kin(e, t, m) * HBARC_MEV_CM**2 * 1e-3
    np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, model, 14), expected, rtol=1e-12)


def test_zprime_heavy_limit_is_a_contact_nsi():
    eps = 0.04
    mz = 1e5  # 100 GeV: q^2 / m^2 < 1e-5 for every recoil here
    g = math.sqrt(eps * math.sqrt(2) * GF * mz * mz)
    zp = with_bsm(CrossSectionModel(), zprime_mass_mev=mz, zprime_coupling=g)
    nsi = with_bsm(CrossSectionModel(), nsi_eps_u={"ee": eps, "mumu": eps, "tautau": eps},
                   nsi_eps_d={"ee": eps, "mumu": eps, "tautau": eps})
    e, t = grid(model=zp)
    for pdg in (12, -14):
        np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, zp, pdg), dsigma_dt_cm2_per_kev(e, t, CS, nsi, pdg),
                                   rtol=3e-5)


def test_zprime_destructive_interference_zero():
    # Same-sign couplings: Q_v + 3 A g^2 / (sqrt2 G_F (2 M T + m^2)) = 0 at 2 M T* = c / (-Q_v) - m^2.
    g, mz = 1e-4, 10.0
    model = with_bsm(TREE_NOFF, zprime_mass_mev=mz, zprime_coupling=g)
    m = TREE_NOFF.mass_mev(CS)
    gvp, gvn = TREE_NOFF.couplings
    qv = CS.z * gvp + CS.n * gvn
    c = 3 * CS.a * g * g / (math.sqrt(2) * GF)
    t_star = (c / -qv - mz * mz) / (2 * m) * 1e3
    assert 0 < t_star < t_max_kev(50.0, m)
    ds = dsigma_dt_cm2_per_kev(50.0, np.array([0.5, 1.0, 1.5]) * t_star, CS, model, 14)
    sm = dsigma_dt_cm2_per_kev(50.0, t_star, CS, TREE_NOFF)
    assert ds[1] < 1e-12 * sm < ds[0] and ds[2] > 1e-12 * sm


# -- light scalar mediator ----------------------------------------------------------------------------------------

def test_scalar_term_closed_form_and_integral():
    # Dent et al. (2017) eq. 3.6: dsigma/dT = g^4 Q^2 M^2 T / (4 pi E^2 (2 M T + m^2)^2), Q = 14 A + 1.1 Z.
    g, ms = 2e-5, 8.0
    model = with_bsm(TREE_NOFF, scalar_mass_mev=ms, scalar_coupling=g)
    m = TREE_NOFF.mass_mev(CS)
    qphi = 14 * CS.a + 1.1 * CS.z
    e, t = grid()
    tm = t * 1e-3
    extra = g**4 * qphi**2 * m * m * tm / (4 * math.pi * e * e * (2 * m * tm + ms * ms) ** 2) * HBARC_MEV_CM**2 * 1e-3
    diff = dsigma_dt_cm2_per_kev(e, t, CS, model, 12) - dsigma_dt_cm2_per_kev(e, t, CS, TREE_NOFF)
    np.testing.assert_allclose(diff, extra, rtol=1e-10)
    # Integral over [0, T_max]: 1/(4 M^2) [ln(u1/m^2) + m^2/u1 - 1], u1 = 2 M T_max + m^2.
    for enu in (10.0, 40.0):
        u1 = 2 * m * t_max_kev(enu, m) * 1e-3 + ms * ms
        integral = (math.log(u1 / ms**2) + ms**2 / u1 - 1) / (4 * m * m)
        expected = g**4 * qphi**2 * m * m / (4 * math.pi * enu**2) * integral * HBARC_MEV_CM**2
        got = sigma_cm2(enu, CS, model, nu_pdg=12) - sigma_cm2(enu, CS, TREE_NOFF)
        assert got == pytest.approx(expected, rel=1e-9)


# -- magnetic moment -----------------------------------------------------------------------------------------------

def test_magnetic_prefactor_in_cm2():
    # pi alpha^2 / m_e^2 = pi alpha^2 lambdabar_C^2, lambdabar_C = 3.8615926796e-11 cm (CODATA 2018): 2.495e-25 cm^2.
    assert magnetic_prefactor_cm2() == pytest.approx(math.pi * ALPHA_EM**2 * 3.8615926796e-11**2, rel=1e-9)
    assert magnetic_prefactor_cm2() == pytest.approx(2.4947e-25, rel=1e-4)


def test_magnetic_moment_term_analytic_form():
    mu = 3e-10
    model = with_bsm(CrossSectionModel(), magnetic_moment_mub={"mu": mu})
    e, t = grid(model=model)
    from generator.kinematics import momentum_transfer_fm

    fp = model.form_factor.proton(momentum_transfer_fm(t, model.mass_mev(CS)), CS.a)
    tm = t * 1e-3
    expected = (magnetic_prefactor_cm2() * mu**2 * CS.z**2 * fp**2 * (1 / tm - 1 / e + tm / (4 * e * e)) * 1e-3)
    diff = dsigma_dt_cm2_per_kev(e, t, CS, model, -14) - dsigma_dt_cm2_per_kev(e, t, CS)
    np.testing.assert_allclose(diff, expected, rtol=1e-10)
    np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, model, 12), dsigma_dt_cm2_per_kev(e, t, CS), rtol=1e-14)
    # The magnetic and weak parts add incoherently (helicity flip): no cross term in mu.
    model2 = with_bsm(CrossSectionModel(), magnetic_moment_mub={"mu": 2 * mu})
    diff2 = dsigma_dt_cm2_per_kev(e, t, CS, model2, -14) - dsigma_dt_cm2_per_kev(e, t, CS)
    np.testing.assert_allclose(diff2, 4 * diff, rtol=1e-9)


def test_magnetic_moment_integral_above_threshold():
    # F = 1: int_thr^Tmax (1/T - 1/E + T/(4E^2)) dT = ln(Tmax/thr) - (Tmax - thr)/E + (Tmax^2 - thr^2)/(8E^2).
    mu = 1e-9
    model = with_bsm(TREE_NOFF, magnetic_moment_mub={"e": mu})
    m = TREE_NOFF.mass_mev(CS)
    for enu, thr in ((30.0, 1.0), (8.0, 0.01), (2.0, 1e-4)):
        tmax = t_max_kev(enu, m) * 1e-3
        th = thr * 1e-3
        k = math.log(tmax / th) - (tmax - th) / enu + (tmax**2 - th**2) / (8 * enu**2)
        expected = magnetic_prefactor_cm2() * mu**2 * CS.z**2 * k
        got = sigma_cm2(enu, CS, model, thr, nu_pdg=12) - sigma_cm2(enu, CS, TREE_NOFF, thr)
        assert got == pytest.approx(expected, rel=1e-9)


# -- charge radius and weak mixing angle --------------------------------------------------------------------------

@pytest.mark.parametrize("r2, erler", [(-0.83e-32, 0.0196964), (-0.48e-32, 0.0114381), (-0.30e-32, 0.00706633)])
def test_charge_radius_shift_reproduces_erler_corrections(r2, erler):
    # SM radii (Bernabeu et al.) -> g_V^p corrections for nu_e, nu_mu, nu_tau used in COHERENT's dukecevns
    # (`chgradcorr`, type 'erler'); the radii are quoted to two digits, hence 1.5 %.
    assert -charge_radius_shift(r2) == pytest.approx(erler, rel=0.015)


def test_charge_radius_shifts_gvp_for_its_flavour_only():
    r2 = {"e": -0.83e-32, "mu": -0.48e-32}
    model = with_bsm(TREE_NOFF, charge_radius_cm2=r2)
    e, t = grid()
    m = TREE_NOFF.mass_mev(CS)
    gvp, gvn = TREE_NOFF.couplings
    for pdg, key in ((12, "e"), (-12, "e"), (14, "mu"), (-14, "mu")):
        qv = CS.z * (gvp - charge_radius_shift(r2[key])) + CS.n * gvn
        np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, model, pdg), PREF * m * qv**2 * kin(e, t, m),
                                   rtol=1e-12)
    np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, model, 16), dsigma_dt_cm2_per_kev(e, t, CS, TREE_NOFF),
                               rtol=1e-14)
    fm2 = load_config(preset="sns_csi", overrides=["bsm.charge_radius_fm2.e=-0.83e-6"]).bsm.hypothesis()
    assert fm2.charge_radius_cm2[0] == pytest.approx(-0.83e-32)


def test_sin2_theta_w_hypothesis():
    e, t = grid()
    tree25 = CrossSectionModel(coupling_scheme="tree", sin2_theta_w=0.25, form_factor=FormFactor("none"))
    hyp = with_bsm(TREE_NOFF, sin2_theta_w=0.25)
    np.testing.assert_allclose(dsigma_dt_cm2_per_kev(e, t, CS, hyp, 14), dsigma_dt_cm2_per_kev(e, t, CS, tree25),
                               rtol=1e-12)
    rad = with_bsm(CrossSectionModel(), sin2_theta_w=S2 + 0.01)  # radiative couplings: linear shift -2 ds^2
    a, _, _ = bsm_charges(0.0, CS, rad, 14)
    assert math.sqrt(a) == pytest.approx(-(CS.z * (0.0298 - 0.02) + CS.n * -0.5117), rel=1e-12)


def test_neutron_radius_from_the_physics_section():
    a = expected_rates(Experiment.from_config(load_config(preset="sns_csi"))).expected_events
    b = expected_rates(Experiment.from_config(load_config(
        preset="sns_csi", overrides=["physics.neutron_rms_radius_fm=5.5"]))).expected_events
    assert b < a  # a larger neutron radius suppresses the coherent cross section


# -- general properties and validation --------------------------------------------------------------------------

def test_combined_hypothesis_nonnegative_and_zero_above_tmax():
    model = with_bsm(CrossSectionModel(), nsi_eps_u={"ee": -0.3, "etau": 0.2}, zprime_mass_mev=5.0,
                     zprime_coupling=5e-5, scalar_mass_mev=2.0, scalar_coupling=3e-5,
                     magnetic_moment_mub={"e": 1e-9}, charge_radius_cm2={"e": 1e-32})
    iso = isotope("I127")
    enu = np.linspace(0.5, 55.0, 56)[:, None]
    t = np.linspace(0.01, 80.0, 301)[None, :]
    ds = dsigma_dt_cm2_per_kev(enu, t, iso, model, 12)
    assert np.all(ds >= 0) and np.all(np.isfinite(ds))
    assert np.all(ds[t > t_max_kev(enu, model.mass_mev(iso))] == 0)


def test_flavour_dependent_hypothesis_needs_the_flavour():
    model = with_bsm(CrossSectionModel(), nsi_eps_u={"ee": 0.1})
    with pytest.raises(ValueError, match="nu_pdg"):
        dsigma_dt_cm2_per_kev(10.0, 1.0, CS, model)
    flavourless = with_bsm(CrossSectionModel(), zprime_mass_mev=10.0, zprime_coupling=1e-5)
    assert dsigma_dt_cm2_per_kev(10.0, 1.0, CS, flavourless) > 0


@pytest.mark.parametrize("overrides, fragment", [
    (["bsm.nsi_eps_u.ex=0.1"], "bsm.nsi_eps_u has unknown key(s) 'ex'"),
    (["bsm.magnetic_moment_mub.nu=1e-10"], "bsm.magnetic_moment_mub has unknown key(s) 'nu'"),
    (["bsm.zprime_coupling=1e-4"], "bsm.zprime_coupling = 0.0001: needs bsm.zprime_mass_mev"),
    (["bsm.scalar_coupling=1e-4", "bsm.scalar_mass_mev=0"], "bsm.scalar_mass_mev = 0.0: must be >= 0.01 MeV"),
    (["bsm.magnetic_moment_mub.e=1e-10"], "needs recoil.threshold_kevnr > 0"),
    (["bsm.charge_radius_cm2.e=1e-32", "bsm.charge_radius_fm2.mu=1e-6"], "not both"),
    (["bsm.sin2_theta_w=1.5"], "bsm.sin2_theta_w = 1.5: must be < 1"),
    (["bsm.colour=1"], "unknown key 'colour' in [bsm]"),
])
def test_bsm_section_validation(overrides, fragment):
    with pytest.raises(ConfigError) as e:
        load_config(preset="sns_csi", overrides=overrides)
    assert fragment in str(e.value)


def test_bsm_on_a_calibration_source_is_refused():
    with pytest.raises(ConfigError, match="calibration"):
        load_config(preset="mono_recoil_csi", overrides=["bsm.nsi_eps_u.ee=0.1"])


def test_bsm_config_round_trips_through_metadata():
    from generator.config import config_from_dict

    c = load_config(preset="sns_csi", overrides=["bsm.nsi_eps_u.emu=0.1", "bsm.scalar_mass_mev=3",
                                                 "bsm.scalar_coupling=1e-5"])
    assert config_from_dict(c.to_dict()) == c


def test_cevns_rate_reports_the_bsm_rate(capsys):
    import json

    from generator.cli import rate_main

    over = ["--set", "recoil.threshold_kevnr=5", "--set", "bsm.nsi_eps_u.ee=0.1"]
    assert rate_main(["--preset", "sns_csi", *over, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    direct = expected_rates(Experiment.from_config(load_config(
        preset="sns_csi", overrides=["recoil.threshold_kevnr=5", "bsm.nsi_eps_u.ee=0.1"])))
    assert d["expected_events"] == pytest.approx(direct.expected_events, rel=1e-12)
    assert d["bsm"]["parameters"] == {"nsi_eps_u": {"ee": 0.1}}
    assert d["sm_expected_events"] > d["expected_events"]
    assert rate_main(["--preset", "sns_csi", *over]) == 0
    out = capsys.readouterr().out
    assert "BSM hypothesis" in out and "SM expectation for the same exposure" in out
    assert rate_main(["--preset", "sns_csi", "--set", "bsm.magnetic_moment_mub.e=1e-10"]) == 2
    assert "needs recoil.threshold_kevnr > 0" in capsys.readouterr().err


def test_generate_under_a_hypothesis(tmp_path):
    from generator.eventfile import EventReader
    from generator.generate import generate

    cfg = load_config(preset="sns_csi", overrides=["recoil.threshold_kevnr=5", "bsm.zprime_mass_mev=20",
                                                   "bsm.zprime_coupling=6e-5", "generator.chunk_size=10000"])
    meta = generate(cfg, tmp_path / "bsm.h5", n_events=20_000, progress=False)
    direct = expected_rates(Experiment.from_config(cfg)).expected_events
    assert meta["expected_events"] == pytest.approx(direct, rel=1e-12)  # its own normalisation
    assert meta["bsm"]["parameters"]["zprime_mass_mev"] == 20.0 and meta["config"]["bsm"]["zprime_coupling"] == 6e-5
    ev, _ = EventReader(tmp_path / "bsm.h5").read()
    assert ev["weight"].sum() == pytest.approx(direct, rel=1e-12) and ev["t_nr_kev"].min() >= 5.0
