"""HPGe response: Fano + noise resolution, trigger turn-on, PSD acceptance and rejection."""

import numpy as np
import pytest
from scipy.special import ndtr

from detsim.chain import Chain, ChainError, Step
from detsim.config import detector_from_dict
from detsim.hpge import hpge_steps, psd_expectation, resolution_sigma_kev
from generator.sampler import EVENT_COLUMNS_TRUTH

GEOMETRY = {"shape": "cylinder", "radius_cm": 3.0, "height_cm": 6.0}


def detector(**over):
    raw = {"technology": "hpge", "quenching": {"model": "constant", "value": 0.2},
           "hpge": {"fano": 0.11, "pair_energy_ev": 2.96,
                    "detectors": [{"threshold_ev": 150.0, "trigger_width_ev": 15.0, "pulser_fwhm_ev": 50.0}]},
           "psd": {"surface_model": "fraction", "surface_fraction": 0.5}}
    for k, v in over.items():
        raw.setdefault(k, {}).update(v)
    return detector_from_dict(raw)


def run(det, t_kevnr, n, seed=1):
    cols = {"t_nr_kev": np.full(n, t_kevnr), "target_z": np.full(n, 32, np.int16),
            "target_a": np.full(n, 74, np.int16), "x_cm": np.zeros(n), "y_cm": np.zeros(n), "z_cm": np.zeros(n)}
    chain = Chain(hpge_steps(det, GEOMETRY), {k: EVENT_COLUMNS_TRUTH[k] for k in cols})
    out, _ = chain.run(np.random.default_rng(seed), cols)
    return out


@pytest.mark.parametrize("t_kevnr", [2.0, 10.0, 50.0])
def test_resolution_is_fano_plus_noise(t_kevnr):
    det = detector()
    out = run(det, t_kevnr, 200_000)
    e_ee = 0.2 * t_kevnr
    expected = resolution_sigma_kev(e_ee, 0.11, 2.96, 50.0)
    assert out["e_det_kevee"].mean() == pytest.approx(e_ee, abs=3 * expected / np.sqrt(200_000) + 1e-4)
    # sigma^2 = eps F E + sigma_noise^2 (+ eps^2/12 from integer pairs, included in the tolerance)
    assert out["e_det_kevee"].std() == pytest.approx(expected, rel=0.01)


def test_fano_term_alone():
    det = detector(hpge={"detectors": [{"pulser_fwhm_ev": 0.0, "threshold_ev": 0.0}]})
    out = run(det, 100.0, 200_000)
    pairs = out["num_pairs"]
    mean = 20.0 / 2.96e-3
    assert pairs.var() / mean == pytest.approx(0.11, rel=0.03)  # Fano: var(N) = F <N>


def test_trigger_turn_on_follows_erf():
    det = detector()
    for t in (0.6, 0.75, 0.9):  # 120, 150, 180 eVee around the 150 eV threshold
        out = run(det, t, 50_000, seed=int(t * 100))
        e = out["e_det_kevee"]
        expected = ndtr((e - 0.150) / 0.015).mean()
        assert out["triggered"].mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / 5e4))


@pytest.mark.parametrize("t_kevnr", [1.0, 2.5, 10.0])
def test_psd_acceptance_and_rejection_match_configuration(t_kevnr):
    det = detector()
    out = run(det, t_kevnr, 200_000)
    slow = out["slow_pulse"]
    e = out["e_det_kevee"]
    acc_bulk = out["psd_pass"][~slow].mean()
    rej_slow = 1 - out["psd_pass"][slow].mean()
    n_b, n_s = (~slow).sum(), slow.sum()
    assert acc_bulk == pytest.approx(0.9, abs=4 * np.sqrt(0.09 / n_b))
    _, _, rej = psd_expectation(det.psd, e[slow])
    assert rej_slow == pytest.approx(rej.mean(), abs=4 * np.sqrt(0.25 / n_s))
    assert slow.mean() == pytest.approx(0.5, abs=0.01)


def test_rejection_improves_with_energy():
    det = detector()
    r = [psd_expectation(det.psd, e)[2] for e in (0.16, 0.3, 0.8, 2.0)]
    assert all(a < b for a, b in zip(r, r[1:], strict=False))
    assert r[-1] > 0.99


def test_geometric_surface_layer():
    det = detector(psd={"surface_model": "geometry", "transition_layer_mm": 1.0})
    n = 100_000
    rng = np.random.default_rng(2)
    r = 3.0 * np.sqrt(rng.random(n))
    phi = 2 * np.pi * rng.random(n)
    cols = {"t_nr_kev": np.full(n, 5.0), "target_z": np.full(n, 32, np.int16), "target_a": np.full(n, 74, np.int16),
            "x_cm": r * np.cos(phi), "y_cm": r * np.sin(phi), "z_cm": 6.0 * (rng.random(n) - 0.5)}
    out, _ = Chain(hpge_steps(det, GEOMETRY), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(rng, cols)
    # Volume fraction within 1 mm of the surface of a 3 cm x 6 cm cylinder.
    inner = np.pi * 2.9**2 * 5.8
    expected = 1 - inner / (np.pi * 9 * 6)
    assert out["slow_pulse"].mean() == pytest.approx(expected, abs=4 * np.sqrt(expected / n))


def test_chain_checks_columns():
    step = Step("needs_s1", ("s1_pe",), {"x": (np.float64, "")}, lambda rng, c: {"x": c["s1_pe"]})
    with pytest.raises(ChainError, match="step 'needs_s1' needs column"):
        Chain([step], {"t_nr_kev": (np.float64, "keV")})
