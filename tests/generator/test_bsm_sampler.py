"""Generation under a BSM hypothesis: the envelope bounds the density, and the draws follow the numpy BSM
cross section (KS / chi2 at fixed seeds) in T and in E_nu, per flavour and isotope."""

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import cumulative_trapezoid

from generator.config import load_config
from generator.cross_section import dsigma_dt_cm2_per_kev, sigma_cm2
from generator.experiment import Experiment
from generator.kinematics import enu_min_mev, t_max_kev
from generator.sampler import SamplerTables, sample_chunks
from generator.sources.pion_dar import michel_nue_pdf

HYPOTHESES = {
    "nsi": ["bsm.nsi_eps_u.ee=0.15", "bsm.nsi_eps_d.emu=0.1", "bsm.nsi_eps_u.mumu=-0.05"],
    "zprime": ["bsm.zprime_mass_mev=5", "bsm.zprime_coupling=6e-5"],
    "scalar": ["bsm.scalar_mass_mev=3", "bsm.scalar_coupling=5e-5"],
    "magnetic": ["recoil.threshold_kevnr=0.5", "bsm.magnetic_moment_mub.mu=1e-8", "bsm.magnetic_moment_mub.e=3e-9"],
    "combined": ["recoil.threshold_kevnr=2", "bsm.nsi_eps_u.ee=0.1", "bsm.zprime_mass_mev=20",
                 "bsm.zprime_coupling=5e-5", "bsm.magnetic_moment_mub.e=5e-9", "bsm.charge_radius_cm2.mu=2e-32"],
}
N = 100_000


def build(preset, overrides):
    exp = Experiment.from_config(load_config(preset=preset, overrides=overrides))
    return exp, SamplerTables.build(exp)


@pytest.fixture(scope="module", params=list(HYPOTHESES))
def sns(request):
    exp, tab = build("sns_csi", HYPOTHESES[request.param])
    assert exp.model.is_bsm and tab.arrays["tab_i"][4] == 1
    return request.param, exp, tab, sample_chunks(tab, 31, [0, 1], [N // 2, N // 2], N // 2, 1.0)


def numpy_envelope(a, row, enu, mass, t):
    """The kernel's target f(T) and envelope g(T) (module docstring of generator._kernels), in numpy."""
    edges, tab, env = a["bsm_edges"], a["bsm_tab"][row], a["bsm_env"][row]
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, edges.size - 2)
    w = (t - edges[k]) / (edges[k + 1] - edges[k])
    interp = [tab[c, k] * (1 - w) + tab[c, k + 1] * w for c in range(3)]
    tmax = 2 * enu * enu / (mass + 2 * enu) * 1e3

    def kin(x):
        x = x * 1e-3
        return np.maximum(1 - x / enu - mass * x / (2 * enu**2) + x * x / (2 * enu**2), 0)

    chord = kin(edges[0]) + (kin(tmax) - kin(edges[0])) * (t - edges[0]) / (tmax - edges[0])
    c2 = 1e-3 * mass / (2 * enu**2)
    mag = np.where(t > 0, 1 / np.where(t > 0, t, 1) - 1e-3 / enu + 1e-6 * t / (4 * enu**2), 0)
    f = interp[0] * kin(t) + interp[1] * c2 * t + interp[2] * mag
    g = env[0, k] * chord + env[1, k] * c2 * t + np.where(env[2, k] > 0, env[2, k] / np.where(t > 0, t, 1), 0)
    return f, g, tmax


def test_envelope_is_a_true_upper_bound(sns):
    name, exp, tab, _ = sns
    a = tab.arrays
    rng = np.random.default_rng(5)
    thr = exp.threshold_kevnr
    for p, (ci, ii) in enumerate(zip(a["pair_comp"], a["pair_iso"], strict=True)):
        iso = exp.material.isotopes[ii]
        mass = exp.model.mass_mev(iso)
        e_lo = float(enu_min_mev(thr, mass)) * 1.0001
        e_hi = exp.source.components[ci].e_max_mev
        for enu in np.concatenate([[e_hi], rng.uniform(e_lo, e_hi, 6)]):
            tmax = 2 * enu * enu / (mass + 2 * enu) * 1e3
            inner = a["bsm_edges"][(a["bsm_edges"] > thr) & (a["bsm_edges"] < tmax)]
            t = np.unique(np.concatenate([np.linspace(thr, tmax, 20001), inner, np.nextafter(inner, 0)]))
            f, g, _ = numpy_envelope(a, a["pair_row"][p], enu, mass, t)
            assert np.all(g >= f * (1 - 1e-12)), (name, p, enu)
            assert np.all(f >= 0)


def chi2_pvalue(observed, expected_prob):
    return stats.chisquare(observed, observed.sum() * np.asarray(expected_prob)).pvalue


def test_pairs_follow_the_bsm_rates(sns):
    name, exp, tab, ev = sns
    r = tab.rates
    obs = np.array([[np.count_nonzero((ev["component"] == ci) & (ev["target_a"] == a)) for _, a in r.isotope_za]
                    for ci in range(len(r.components))])
    keep = r.events.ravel() > 0
    assert chi2_pvalue(obs.ravel()[keep], (r.events / r.events.sum()).ravel()[keep]) > 1e-3


def test_prompt_recoil_spectrum_follows_numpy(sns):
    name, exp, tab, ev = sns
    ci = tab.component_names.index("prompt_nu_mu")
    enu = exp.source.components[ci].line_mev
    thr = exp.threshold_kevnr
    for iso in exp.material.isotopes:
        sel = (ev["component"] == ci) & (ev["target_a"] == iso.a)
        tm = float(t_max_kev(enu, exp.model.mass_mev(iso)))
        t = thr + (tm - thr) * np.concatenate([[0.0], np.geomspace(1e-9, 1.0, 100_000)])
        cdf = cumulative_trapezoid(dsigma_dt_cm2_per_kev(enu, t, iso, exp.model, 14), t, initial=0)
        x = ev["t_nr_kev"][sel]
        assert x.min() >= thr and x.max() <= tm
        assert stats.kstest(x, lambda v: np.interp(v, t, cdf / cdf[-1])).pvalue > 1e-3, (name, iso.name)


def test_delayed_nue_energy_follows_flux_times_bsm_cross_section(sns):
    name, exp, tab, ev = sns
    ci = tab.component_names.index("delayed_nu_e")
    iso = exp.material.isotopes[1]  # I127
    sel = (ev["component"] == ci) & (ev["target_a"] == iso.a)
    e = np.linspace(0, 52.83, 4001)
    dens = michel_nue_pdf(e) * sigma_cm2(e, iso, exp.model, exp.threshold_kevnr, nu_pdg=12)
    cdf = cumulative_trapezoid(dens, e, initial=0)
    assert stats.kstest(ev["enu_mev"][sel], lambda x: np.interp(x, e, cdf / cdf[-1])).pvalue > 1e-3, name


def test_reactor_magnetic_moment_recoil_marginal():
    # A large nu_e-bar magnetic moment dominates the low-T spectrum of a Ge detector: T follows
    # int dE p(E) dsigma/dT(E, T) (marginal over the flux) computed in numpy.
    exp, tab = build("reactor_ge", ["recoil.threshold_kevnr=0.2", "bsm.magnetic_moment_mub.e=2e-9"])
    ev = sample_chunks(tab, 8, [0], [80_000], 80_000, 1.0)
    ci = tab.component_names.index("reactor_u235")
    iso = exp.material.isotopes[3]  # Ge74
    comp = exp.source.components[ci]
    sel = (ev["component"] == ci) & (ev["target_a"] == iso.a)
    e = np.linspace(comp.energy_mev[0], comp.energy_mev[-1], 601)
    tm = float(t_max_kev(e[-1], exp.model.mass_mev(iso)))
    t = 0.2 + (tm - 0.2) * np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 800)])
    dens = np.trapezoid(comp.pdf(e)[:, None] * dsigma_dt_cm2_per_kev(e[:, None], t[None, :], iso, exp.model, -12),
                        e, axis=0)
    cdf = cumulative_trapezoid(dens, t, initial=0)
    assert stats.kstest(ev["t_nr_kev"][sel], lambda v: np.interp(v, t, cdf / cdf[-1])).pvalue > 1e-3
    # and the magnetic term matters here: the SM spectrum is rejected
    sm_exp, _ = build("reactor_ge", ["recoil.threshold_kevnr=0.2"])
    dens_sm = np.trapezoid(comp.pdf(e)[:, None] * dsigma_dt_cm2_per_kev(e[:, None], t[None, :], iso, sm_exp.model),
                           e, axis=0)
    cdf_sm = cumulative_trapezoid(dens_sm, t, initial=0)
    assert stats.kstest(ev["t_nr_kev"][sel], lambda v: np.interp(v, t, cdf_sm / cdf_sm[-1])).pvalue < 1e-6


def test_bsm_kernel_reproduces_the_sm_kernel_in_distribution():
    # A negligible NSI switches to the BSM tables and kernel; the draws match the SM kernel's.
    _, sm = build("sns_csi", ["recoil.threshold_kevnr=3"])
    _, bsm = build("sns_csi", ["recoil.threshold_kevnr=3", "bsm.nsi_eps_u.ee=1e-12"])
    assert sm.arrays["tab_i"][4] == 0 and bsm.arrays["tab_i"][4] == 1
    a = sample_chunks(sm, 1, [0], [60_000], 60_000, 1.0)
    b = sample_chunks(bsm, 2, [0], [60_000], 60_000, 1.0)
    for col in ("t_nr_kev", "enu_mev"):
        assert stats.ks_2samp(a[col], b[col]).pvalue > 1e-3
    # chunks stay independent of how they are grouped
    c = sample_chunks(bsm, 2, [0, 1], [30_000, 30_000], 30_000, 1.0)
    d = sample_chunks(bsm, 2, [1], [30_000], 30_000, 1.0)
    np.testing.assert_array_equal(c["t_nr_kev"][30_000:], d["t_nr_kev"])
