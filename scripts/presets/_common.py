"""Helpers shared by the experiment-preset builders (scripts/presets/<preset>.py).

The text of a preset: HEADER, the [recoil] table (recoil_block: grid, generation threshold, number format), the
[window] table (window_block) and the [detector] timing line for the same window (detector_timing); the efficiency
folds more than one experiment uses (poisson_fold, hpge_efficiency, the COHERENT CsI QF); the rate of a preset
with and without a replaced efficiency table (rates, rate_with_table).
What only one experiment uses stays in that experiment's module.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from scipy.special import ndtr
from scipy.stats import poisson

ROOT = Path(__file__).resolve().parents[2]
PRESET_DIR = ROOT / "data" / "presets"

# PE region of interest: the CsI-2021 ancillary-release analysis bins 0-60 PE (six 10-PE bins; public
# re-analysis notes of arXiv:2110.07730v2); the 2017 upper edge (30 or 60 PE) is not verified (INPUTS 12.1: M).
CSI_PE_MAX = 60
# Lindhard k for germanium: 0.162 +- 0.004 (Bonhomme et al., arXiv:2202.03754; adopted by CONUS+, INPUTS 7.2);
# the HPGe detector presets carry it (hpge_efficiency reads their quenching): this is the cited value.
GE_K = 0.162

# Beam windows in this package's time frame (time within the pulse; the proton pulse is centred at 0). The COHERENT
# LAr release puts the POT-trace mean at +440 ns of its time origin (LArParametersAnlA.yaml, INPUTS 4.2), so its
# window [a, b] is [a - 440, b - 440] ns here; ASSUMED: the CsI analyses use the same origin. A beam analysis'
# module gives its WINDOW = (start_ns, stop_ns) in this frame: the preset's [window] and [detector] timing tables
# use it and ``--compare`` applies the fraction of prompt / delayed neutrinos inside it.
RELEASE_T0_NS = 440.0


def window_block(window, efficiency_lines: str = "") -> str:
    """The preset's [window] from (start_ns, stop_ns) in this package's frame, plus optional timing-efficiency
    lines: cevns-rate reports the expectation inside it; cevns-run uses it as the on-beam window."""
    start, stop = window
    text = (f"# The analysis' beam window in this package's frame (time within the pulse, proton pulse centred at 0):\n"
            f"# cevns-rate reports expected_events_in_window; cevns-run uses it as the detector's on-beam window.\n"
            f"[window]\nstart_ns = {start:.1f}\nlength_ns = {stop - start:.1f}\n")
    return text + efficiency_lines


def detector_timing(window, off_shift_ns: float = 8000.0) -> str:
    """The [detector] table's timing line for the analysis window (start_ns, stop_ns): the on-beam window is the
    analysis window, the off-beam window as long and ``off_shift_ns`` earlier (clear of the previous pulse's
    delayed flux), so that the detector simulation and cevns-rate cut the same times."""
    start, stop = window
    length = stop - start
    return (f"timing = {{ on_start_ns = {start:.1f}, on_length_ns = {length:.1f}, "
            f"off_start_ns = {start - off_shift_ns:.1f}, off_length_ns = {length:.1f} }}")


EFF_FLOOR = 1e-4  # generation threshold: the highest grid energy below which the efficiency stays under this


def poisson_fold(mu_pe, eff_pe, n_max=400):
    """eff(T) = sum_n Poisson(n; mu(T)) eff_PE(n) for an array of mean PE counts."""
    n = np.arange(n_max + 1)
    pmf = poisson.pmf(n[None, :], np.asarray(mu_pe, dtype=float)[:, None])
    return pmf @ eff_pe(n)


def csi_qf_2021(t_kevnr):
    from detsim.quenching import coherent_csi_qf

    return coherent_csi_qf(t_kevnr)


def hpge_efficiency(t_kevnr, detector_name: str, overrides=(), quenching=None):
    """Mass-weighted erf turn-on of an HPGe detector preset, in keVnr (the preset's quenching, or the
    detsim.quenching.QuenchingModel ``quenching``; Z = 32)."""
    from detsim.config import load_detector
    from detsim.hpge import resolution_sigma_kev

    det = load_detector(detector_name, overrides=list(overrides))
    q = det.quenching.build() if quenching is None else quenching
    e = q.qf(t_kevnr, 32, 73) * np.asarray(t_kevnr)
    hp = det.hpge
    m = np.array([d.mass_kg for d in hp.detectors])
    out = np.zeros_like(e)
    for d, w in zip(hp.detectors, m / m.sum(), strict=True):
        s = np.sqrt(resolution_sigma_kev(e, hp.fano, hp.pair_energy_ev, d.pulser_fwhm_ev) ** 2
                    + (d.trigger_width_ev * 1e-3) ** 2)
        out += w * ndtr((e - d.threshold_ev * 1e-3) / s)
    return out


def read_existing_table(name: str):
    import tomllib

    with (PRESET_DIR / f"{name}.toml").open("rb") as f:
        r = tomllib.load(f)["recoil"]
    return np.array(r["efficiency_kevnr"]), np.array(r["efficiency"])


def generation_threshold(x, y, floor=EFF_FLOOR):
    """Highest grid point below which (and at which) the efficiency stays under ``floor``."""
    above = np.nonzero(y >= floor)[0]
    if len(above) == 0 or above[0] == 0:
        return 0.0
    return float(x[above[0] - 1])


def fmt_array(values, fmt, per_line=10, indent="  "):
    items = [format(float(v), fmt) for v in values]
    lines = [indent + ", ".join(items[i:i + per_line]) + "," for i in range(0, len(items), per_line)]
    return "[\n" + "\n".join(lines) + "\n]"


def fmt_eff(y):
    # 5 decimals; tiny values in scientific notation so that the turn-on keeps its shape
    return [0.0 if v < 1e-9 else (round(v, 5) if v >= 1e-3 else float(f"{v:.3e}")) for v in np.clip(y, 0, 1)]


def recoil_block(x, y, comment: str, threshold=None) -> str:
    """The [recoil] table; ``threshold`` (keVnr) is a hard analysis cut, otherwise the generation threshold."""
    if threshold is None:
        thr = generation_threshold(x, np.asarray(y))
        note = (f"# Generation starts at threshold_kevnr: the efficiency is below {EFF_FLOOR:g} there "
                "(loss negligible).\n")
    else:
        thr, note = threshold, ""
    return (f"[recoil]\n{comment}{note}"
            f"threshold_kevnr = {thr:g}\n"
            f"efficiency_kevnr = {fmt_array(x, 'g')}\n"
            f"efficiency = {fmt_array(fmt_eff(y), 'g', per_line=8)}\n")


def grid(*segments):
    """Concatenate np.arange segments (start, stop, step), stop included once."""
    pts = []
    for a, b, s in segments:
        pts.extend(np.round(np.arange(a, b + 0.5 * s, s), 6))
    return np.unique(np.array(pts))


CSI_GRID = grid((0.0, 20.0, 0.25), (20.5, 60.0, 0.5))


HEADER = ("# Built by scripts/make_experiment_presets.py (edit the script, not this file: the efficiency table is\n"
          "# computed there). Tags: [paper] read in the cited paper/abstract, [data] in an official data release,\n"
          "# [code] public analysis code, [calc] arithmetic from other entries, [ASSUMED] not from the paper.\n")


def rates(name, overrides=(), efficiency=True):
    from generator.config import load_config
    from generator.experiment import Experiment
    from generator.rates import expected_rates

    cfg = load_config(preset=name, overrides=list(overrides))
    return expected_rates(Experiment.from_config(cfg), use_efficiency=efficiency)


def rate_with_table(name, x, y):
    from generator.config import load_config
    from generator.experiment import Experiment
    from generator.rates import expected_rates

    cfg = load_config(preset=name)
    exp = dataclasses.replace(Experiment.from_config(cfg), efficiency_kevnr=np.asarray(x, float),
                              efficiency=np.clip(np.asarray(y, float), 0, 1))
    return expected_rates(exp).expected_events


def klein_nystrand(name):
    """The preset's rate with the Klein-Nystrand form factor instead of Helm (a --compare note)."""
    return rates(name, ["physics.form_factor=klein_nystrand"]).expected_events


# Preset text shared by the builders (the same TOML lines in several presets).
PHYSICS_BLOCK = '[physics]\nform_factor = "helm"\nmass_convention = "nuclear"\n'
# End of the BACKGROUNDS note of a preset whose published backgrounds could not be read (its start says which).
NO_BACKGROUNDS_TAIL = (
    " could not be read in the stored sources available when this preset was built, so the\n"
    "# preset has none and `cevns-run` reports the significance against no CEvNS as undefined (\"the model has no\n"
    "# background\") instead of a background-free number. Add [[detector.backgrounds]] with cited rates to get one.\n")


def generator_block(seed: int) -> str:
    """The [generator] table of an experiment preset: 1e5 template events in one chunk, the preset's seed."""
    return f"[generator]\nn_events = 100000\nchunk_size = 100000\nseed = {seed}\n"
