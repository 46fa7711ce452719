"""Reweighting: exact per-event weights, sums equal the direct BSM rates, same distributions as generation under
the hypothesis; hypothesis files, systematics, the detsim case and cevns-reweight."""

import dataclasses

import numpy as np
import pytest

from generator.config import ConfigError, load_config
from generator.cross_section import dsigma_dt_cm2_per_kev
from generator.eventfile import EventReader, EventWriter
from generator.experiment import Experiment
from generator.form_factors import FormFactor
from generator.generate import generate
from generator.nuclei import isotope
from generator.rates import expected_rates
from generator.reweight import (
    Reweighter,
    default_rms_radius_fm,
    hypothesis_from_dict,
    load_hypothesis,
    quenching_shift_kevee,
    reweight_file,
)
from generator.sampler import EVENT_COLUMNS_TRUTH, SamplerTables, sample_chunks

THR = ["recoil.threshold_kevnr=5"]
HYPS = {
    "nsi": {"bsm": {"nsi_eps_u": {"ee": 0.1, "emu": 0.05}, "nsi_eps_d": {"mumu": -0.03}}},
    "zprime": {"bsm": {"zprime_mass_mev": 20.0, "zprime_coupling": 6e-5}},
    "scalar": {"bsm": {"scalar_mass_mev": 10.0, "scalar_coupling": 4e-5}},
    "magnetic": {"bsm": {"magnetic_moment_mub": {"mu": 3e-9, "e": 1e-9}}},
    "radius": {"bsm": {"charge_radius_cm2": {"e": -0.83e-32, "mu": -0.48e-32}},
               "physics": {"neutron_rms_radius_fm": 5.3}},
}
N = 400_000


@pytest.fixture(scope="module")
def sm_sample():
    cfg = load_config(preset="sns_csi", overrides=THR)
    tab = SamplerTables.build(Experiment.from_config(cfg))
    ev = sample_chunks(tab, 77, range(4), [N // 4] * 4, N // 4, tab.expected_events / N)
    return cfg, ev


def hyp(name):
    return hypothesis_from_dict({"name": name, **HYPS[name]})


def direct_config(cfg, h):
    return dataclasses.replace(cfg, bsm=h.bsm, physics=dataclasses.replace(cfg.physics, **h.physics))


def test_weights_are_the_exact_cross_section_ratio(sm_sample):
    cfg, ev = sm_sample
    hs = [hyp(n) for n in HYPS]
    w = Reweighter(cfg, hs).weights(ev)
    gen = Experiment.from_config(cfg).model
    for h in hs:
        model = Experiment.from_config(direct_config(cfg, h)).model
        for zz, aa, pdg in {(int(a), int(b), int(c)) for a, b, c in zip(ev["target_z"][:2000], ev["target_a"][:2000],
                                                                         ev["nu_pdg"][:2000], strict=True)}:
            sel = np.flatnonzero((ev["target_z"] == zz) & (ev["target_a"] == aa) & (ev["nu_pdg"] == pdg))[:500]
            iso = isotope(f"{'Cs' if zz == 55 else 'I'}{aa}")
            ratio = (dsigma_dt_cm2_per_kev(ev["enu_mev"][sel], ev["t_nr_kev"][sel], iso, model, pdg)
                     / dsigma_dt_cm2_per_kev(ev["enu_mev"][sel], ev["t_nr_kev"][sel], iso, gen, pdg))
            np.testing.assert_allclose(w[f"weight_{h.name}"][sel], ev["weight"][sel] * ratio, rtol=1e-13)


def test_numba_tables_agree_with_numpy(sm_sample):
    cfg, ev = sm_sample
    hs = [hyp(n) for n in HYPS]
    a = Reweighter(cfg, hs, rn_variation=0.05).weights(ev)
    b = Reweighter(cfg, hs, rn_variation=0.05, method="table").weights(ev)
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-6, atol=1e-9 * np.mean(a[k]))


@pytest.mark.parametrize("name", list(HYPS))
def test_reweighted_sum_equals_the_direct_bsm_rate(sm_sample, name):
    cfg, ev = sm_sample
    h = hyp(name)
    w = Reweighter(cfg, [h]).weights(ev)[f"weight_{name}"]
    direct = expected_rates(Experiment.from_config(direct_config(cfg, h))).expected_events
    sigma = np.sqrt(np.sum((w - ev["weight"] * direct / ev["weight"].sum()) ** 2))  # MC error of the sum
    assert abs(w.sum() - direct) < 4 * sigma
    assert abs(w.sum() / direct - 1) < 0.02


def test_reweighting_equals_generation_under_the_hypothesis(sm_sample):
    cfg, ev = sm_sample
    h = hyp("zprime")
    w = Reweighter(cfg, [h]).weights(ev)["weight_zprime"]
    bcfg = direct_config(cfg, h)
    btab = SamplerTables.build(Experiment.from_config(bcfg))
    n_b = 200_000
    bev = sample_chunks(btab, 5, [0, 1], [n_b // 2] * 2, n_b // 2, btab.expected_events / n_b)
    for col, bins in (("t_nr_kev", np.linspace(5, 47, 22)), ("enu_mev", np.linspace(15, 53, 20))):
        s_w, _ = np.histogram(ev[col], bins, weights=w)
        v_w, _ = np.histogram(ev[col], bins, weights=w * w)
        s_b, _ = np.histogram(bev[col], bins, weights=bev["weight"])
        v_b, _ = np.histogram(bev[col], bins, weights=bev["weight"] ** 2)
        ok = (v_w + v_b) > 0
        chi2 = np.sum((s_w - s_b)[ok] ** 2 / (v_w + v_b)[ok])
        from scipy import stats

        assert stats.chi2.sf(chi2, ok.sum()) > 1e-3, col


def test_systematic_weights(sm_sample):
    cfg, ev = sm_sample
    rw = Reweighter(cfg, [], flux_sigma=0.1, rn_variation=0.05)
    w = rw.weights(ev)
    np.testing.assert_allclose(w["weight_flux_up"], 1.1 * ev["weight"], rtol=1e-15)
    np.testing.assert_allclose(w["weight_flux_down"], 0.9 * ev["weight"], rtol=1e-15)
    # R_n of each isotope scaled by 1.05 from its own Helm default (Lewin-Smith geometry)
    gen = Experiment.from_config(cfg).model
    for name in ("Cs133", "I127"):
        iso = isotope(name)
        r0 = default_rms_radius_fm(gen.form_factor, iso.a)
        assert r0 == pytest.approx(np.sqrt(0.6 * (1.23 * iso.a ** (1 / 3) - 0.6) ** 2 + 1.4 * np.pi**2 * 0.52**2),
                                   rel=1e-12)  # Helm with Lewin-Smith parameters keeps the Fermi rms radius
        up = dataclasses.replace(gen, form_factor=FormFactor("helm", None, 1.05 * r0))
        sel = np.flatnonzero(ev["target_a"] == iso.a)[:300]
        ratio = (dsigma_dt_cm2_per_kev(ev["enu_mev"][sel], ev["t_nr_kev"][sel], iso, up)
                 / dsigma_dt_cm2_per_kev(ev["enu_mev"][sel], ev["t_nr_kev"][sel], iso, gen))
        np.testing.assert_allclose(w["weight_rn_up"][sel], ev["weight"][sel] * ratio, rtol=1e-13)
    assert w["weight_rn_up"].sum() < ev["weight"].sum() < w["weight_rn_down"].sum()


def test_quenching_is_a_shift_not_a_weight():
    from detsim.quenching import QuenchingModel

    nominal, up = QuenchingModel("coherent_csi"), QuenchingModel("coherent_csi", syst0=1.0)
    t = np.array([3.0, 10.0, 30.0])
    shift = quenching_shift_kevee(t, 55, 133, nominal, up)
    np.testing.assert_allclose(shift, (up.qf(t, 55, 133) - nominal.qf(t, 55, 133)) * t, rtol=1e-15)
    assert np.all(shift != 0)


@pytest.mark.parametrize("raw, fragment", [
    ({"name": "a", "generator": {}}, "unknown key(s) 'generator'"),
    ({"name": "a b"}, "name = 'a b'"),
    ({"bsm": {}}, "name = None"),
    ({"name": "a", "physics": {"mass_convention": "amu"}}, "physics.mass_convention cannot be changed"),
    ({"name": "a", "bsm": {"nsi_eps_u": {"eq": 1}}}, "bsm.nsi_eps_u has unknown key(s) 'eq'"),
    ({"name": "a", "physics": {"sin2_theta_w": 2}}, "physics.sin2_theta_w = 2"),
])
def test_hypothesis_validation(raw, fragment):
    with pytest.raises(ConfigError) as e:
        hypothesis_from_dict(raw)
    assert fragment in str(e.value)


def test_hypothesis_file_and_name_override(tmp_path):
    p = tmp_path / "h.toml"
    p.write_text('name = "zp"\n[bsm]\nzprime_mass_mev = 10\nzprime_coupling = 1e-5\n')
    assert load_hypothesis(p).name == "zp" and load_hypothesis(p, "other").name == "other"
    with pytest.raises(ConfigError, match="does not exist"):
        load_hypothesis(tmp_path / "missing.toml")


def run_cli(*argv):
    from generator.cli import reweight_main

    return reweight_main([str(a) for a in argv])


def test_cevns_reweight_file_round_trip(tmp_path, capsys):
    src = tmp_path / "ev.h5"
    meta_in = generate(load_config(preset="sns_csi", overrides=THR + ["generator.chunk_size=20000"]), src,
                       n_events=30_000, progress=False)
    h = tmp_path / "nsi.toml"
    h.write_text('name = "nsi_ee"\n[bsm]\nnsi_eps_u = { ee = 0.1 }\n')
    out = tmp_path / "rw.root"
    assert run_cli(src, "-o", out, "--hypothesis", h, "--flux-sigma", "0.1", "--quiet", "--chunk-events", 7000) == 0
    assert "weight_nsi_ee" in capsys.readouterr().out
    r = EventReader(out, stage="generator")
    cols, _ = r.read()
    assert set(EVENT_COLUMNS_TRUTH) | {"weight_nsi_ee", "weight_flux_up", "weight_flux_down"} == set(cols)
    base, _ = EventReader(src).read()
    for k in EVENT_COLUMNS_TRUTH:
        np.testing.assert_array_equal(cols[k], base[k])
    expected = Reweighter(load_config(preset="sns_csi", overrides=THR), [load_hypothesis(h)]).weights(base)
    np.testing.assert_allclose(cols["weight_nsi_ee"], expected["weight_nsi_ee"], rtol=1e-14)
    rw = r.metadata["reweight"]
    assert rw["parent_provenance_hash"] == meta_in["provenance_hash"]
    assert rw["sum_of_weights"]["weight_nsi_ee"] == pytest.approx(cols["weight_nsi_ee"].sum())
    assert r.metadata["expected_events"] == meta_in["expected_events"]
    # errors: exit 2, one line, no output file
    assert run_cli(src, "-o", tmp_path / "x.h5", "--quiet") == 2
    assert run_cli(out, "-o", tmp_path / "y.h5", "--hypothesis", h, "--quiet") == 2  # the column exists already
    assert run_cli(tmp_path / "none.h5", "-o", tmp_path / "z.h5", "--hypothesis", h) == 2
    err = capsys.readouterr().err
    assert "nothing to do" in err and "already has column(s) weight_nsi_ee" in err and "no such file" in err
    assert not any((tmp_path / n).exists() for n in ("x.h5", "y.h5", "z.h5"))


def test_detsim_file_reweights_only_cevns_events(tmp_path):
    cfg = load_config(preset="reactor_ge", overrides=["recoil.threshold_kevnr=0.2"])
    tab = SamplerTables.build(Experiment.from_config(cfg))
    ev = sample_chunks(tab, 3, [0], [5000], 5000, 0.5)
    ev["origin"] = np.where(np.arange(5000) % 5 == 0, 1, 0).astype(np.int8)
    cols = {k: (v.dtype, "") for k, v in ev.items()}
    path = tmp_path / "det.h5"
    with EventWriter(path, stage="detsim", columns=cols) as w:
        w.write(ev)
        w.close({"generator_config": cfg.to_dict(), "provenance_hash": "x"})
    h = hypothesis_from_dict({"name": "mm", "bsm": {"magnetic_moment_mub": {"e": 1e-9}}})
    reweight_file(path, tmp_path / "out.h5", [h], method="table", progress=False)
    out, _ = EventReader(tmp_path / "out.h5", stage="detsim").read()
    bg = out["origin"] != 0
    np.testing.assert_array_equal(out["weight_mm"][bg], out["weight"][bg])
    assert np.all(out["weight_mm"][~bg] > out["weight"][~bg])  # the magnetic term only adds
