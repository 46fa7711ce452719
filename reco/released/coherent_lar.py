"""COHERENT CENNS-10 liquid argon, Analysis A, redone from the collaboration's data release.

Paper: COHERENT, "First Measurement of Coherent Elastic Neutrino-Nucleus Scattering on Argon",
PRL 126, 012002 (2021), arXiv:2003.10630. Data release: COHERENT, "COHERENT Collaboration data release from the
first detection of coherent elastic neutrino-nucleus scattering on argon", arXiv:2006.12659,
doi:10.5281/zenodo.3903810, shipped in ``data/releases/coherent_lar_2020/`` (see its README for every file).

The analysis as released: a 3-D binned likelihood in reconstructed energy (12 bins of 10 keVee, 0-120 keVee) x
F90 (8 bins of 0.05, 0.5-0.9) x arrival time (10 bins of 0.5 us, -0.1 to 4.9 us in the release's time frame,
whose origin puts the POT-trace mean at +440 ns). The released PDFs are expected counts per bin, normalised to the
paper's predictions (CEvNS 128, prompt BRN 497, delayed BRN 33, steady state 3152 ~ 3154 of the yaml).

What is taken from the release: the binning, the observed counts (``datanobkgsub.txt``), the steady-state,
prompt-BRN and delayed-BRN PDFs with the priors of ``LArParametersAnlA.yaml`` (3154 +- 25, 497 +- 160, 33 +- 33),
the BRN shape variants (energy +-1 sigma, timing mean +-1 sigma, timing width one-sided) and the CEvNS F90 +-1 sigma
variants as shape nuisances.

What comes from this package: the CEvNS template. The generator draws recoils from the preset's source, target and
exposure *without* the preset's folded efficiency table; here each event gets, in numpy,
  - the release's quenching factor QF = 0.246(6) + 0.00078(9) T[keVnr] (yaml ``larQF``; INPUTS 7.3),
  - Gaussian energy resolution sigma/E = 0.58/sqrt(E[keVee]) (yaml ``energyResolution``),
  - the acceptance efficiency of ``CENNS10AnlAEfficiency.txt`` (0.5-keVee bins) at the reconstructed energy,
  - its arrival time moved to the release frame: the generator's time is relative to the proton-pulse centre
    (POT Gaussian sigma 150 ns convolved with the pi+ and mu+ lifetimes, the yaml's ``snsPOTTraceTiming`` model),
    so t_release = t + 440 ns,
  - an F90 value distributed as the released CEvNS PDF's F90 projection in the event's energy bin: F90 is not
    something the generator or this response makes, and the released CEvNS PDF factorises exactly as
    energy x F90(energy) x time, so its per-energy F90 fractions are the release's F90 model.
Systematics of the signal: the release's F90 +-1 sigma (as the per (energy, F90) ratio of the released variants to
the nominal), the CEvNS timing mean (the POT-trace mean +-200 ns of the yaml, applied to our event times and
renormalised like the release's one-sided variant) and the QF +-1 sigma (yaml, a and b moved together).
"""

from __future__ import annotations

import numpy as np

from ._signal import unfolded_sample
from .likelihood import Axis, BinnedModel, Component, ReleasedAnalysis, ShapeNuisance
from .release_files import load_text_table, verify_release

__all__ = ["E_EDGES_KEVEE", "F90_EDGES", "PUBLISHED", "RELEASE", "T_EDGES_US", "build_analysis", "fold_signal",
           "load_release", "released_pdf_model", "signal_sample"]

RELEASE = "coherent_lar_2020"

# Binning of the released PDFs (bin centres 5..115 keVee, 0.525..0.875, 0.15..4.65 us)
E_EDGES_KEVEE = np.linspace(0.0, 120.0, 13)
F90_EDGES = np.linspace(0.5, 0.9, 9)
T_EDGES_US = np.linspace(-0.1, 4.9, 11)
SHAPE = (12, 8, 10)

# LArParametersAnlA.yaml of the release [data]
RELEASE_T0_NS = 440.0           # snsPOTTraceTiming a: POT-trace mean in the release's time frame
POT_MEAN_SIGMA_NS = 200.0       # its uncertainty
QF_A, QF_A_SIGMA = 0.246, 0.006          # larQF a
QF_B, QF_B_SIGMA = 0.00078, 0.00009      # larQF b [1/keVnr]
RESOLUTION_A = 0.58             # energyResolution: sigma/E = a / sqrt(E[keVee])
SS_PRIOR = (3154.0, 25.0)       # ssBackgroundPredictionNormalization
BRN_PRIOR = (497.0, 160.0)      # promptBeamRelatedNeutronPredictionNormalization
DELAYED_BRN_PRIOR = (33.0, 33.0)  # delayedBeamRelatedNeutronPredictionNormalization
GENERATION_THRESHOLD_KEVNR = 0.5  # the released efficiency is 0 below 1 keVnr (0.25 keVee bin centre)

CITATION = ("COHERENT, PRL 126, 012002 (2021), arXiv:2003.10630 (Analysis A); data release arXiv:2006.12659, "
            "doi:10.5281/zenodo.3903810")

# The paper's numbers. The count and the prediction are in the release's yaml (cevnsBestfitNormalization 159 +- 43,
# cevnsPredictionNormalization 128 +- 17) [data]; the +-14 (syst) and the 3.5 sigma are the PRL's Analysis-A result
# as quoted in the task brief and recalled, NOT read in the paper's text here (only its abstract was reachable:
# "greater than 3 sigma"); 3.5 = 159 / sqrt(43^2 + 14^2), i.e. the statistical and systematic errors in quadrature.
# The paper quotes a cross section, not a ratio: sigma_ratio is the fitted over the predicted count, 159 / 128.
PUBLISHED = {
    "n_cevns": 159.0,
    "n_cevns_err": 43.0,
    "n_cevns_err_syst": 14.0,
    "significance": 3.5,
    "sigma_ratio": 159.0 / 128.0,
    "n_cevns_sm_predicted": 128.0,
    "n_cevns_sm_predicted_err": 17.0,
    "best_fit_backgrounds": {"ssb": (3131.0, 23.0), "brn": (553.0, 34.0), "brn_delayed": (10.0, 11.0)},
    "citation": CITATION,
}

PDF_FILES = {
    "cevns": "cevnspdf.txt",
    "cevns_f90_up": "cevnspdf+1sigF90.txt",
    "cevns_f90_down": "cevnspdf-1sigF90.txt",
    "cevns_timing_mean": "cevnspdfCEvNSTimingMeanSyst.txt",
    "ssb": "bkgpdf.txt",
    "brn": "brnpdf.txt",
    "brn_energy_up": "brnpdf+1sigEnergy.txt",
    "brn_energy_down": "brnpdf-1sigEnergy.txt",
    "brn_timing_mean_up": "brnpdf+1sigBRNTimingMean.txt",
    "brn_timing_mean_down": "brnpdf-1sigBRNTimingMean.txt",
    "brn_timing_width": "brnpdfBRNTimingWidthSyst.txt",
    "brn_delayed": "delbrnpdf.txt",
    "data": "datanobkgsub.txt",
}
EFFICIENCY_FILE = "CENNS10AnlAEfficiency.txt"


def _centres(edges: np.ndarray) -> np.ndarray:
    return 0.5 * (edges[1:] + edges[:-1])


def _read_3d(path) -> np.ndarray:
    """A released 3-D table (columns: energy keVee, F90, time us bin centres; value) as an array (E, F90, t)."""
    table = load_text_table(path)
    out = np.full(SHAPE, np.nan)
    idx = []
    for col, edges in enumerate((E_EDGES_KEVEE, F90_EDGES, T_EDGES_US)):
        i = np.searchsorted(edges, table[:, col]) - 1
        if np.any(i < 0) or np.any(i >= len(edges) - 1) or not np.allclose(_centres(edges)[np.clip(i, 0, None)],
                                                                           table[:, col], atol=1e-6):
            raise ValueError(f"{path}: column {col} does not hold the analysis' bin centres")
        idx.append(i)
    out[tuple(idx)] = table[:, 3]
    if np.isnan(out).any():
        raise ValueError(f"{path}: {int(np.isnan(out).sum())} of the {out.size} bins are missing")
    return out


def load_release() -> dict:
    """The release's 3-D tables (name -> (12, 8, 10) array) and efficiency table, after checking checksums."""
    directory = verify_release(RELEASE)
    out = {name: _read_3d(directory / fname) for name, fname in PDF_FILES.items()}
    out["efficiency"] = load_text_table(directory / EFFICIENCY_FILE)  # keVee centre, keVnr centre, efficiency
    return out


def signal_sample(cfg, n_events: int, seed: int | None = None) -> dict:
    """A fixed-N weighted CEvNS sample of the preset's source, target and exposure, with no efficiency applied."""
    ev = unfolded_sample(cfg, n_events, seed, GENERATION_THRESHOLD_KEVNR)
    base = cfg.generator.seed if seed is None else int(seed)  # the run's seed, as plan_run resolves it
    # the response's own normal draws (one per event), so that every systematic variant sees the same fluctuations
    ev["smear_z"] = np.random.default_rng(np.random.SeedSequence(base, spawn_key=(40, 2020))).standard_normal(
        len(ev["weight"]))
    return ev


def efficiency_at(e_kevee: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The released acceptance of each 0.5-keVee bin; 0 below the table, its last value (0.963) above 40 keVee."""
    lo = table[:, 0] - 0.25
    i = np.searchsorted(lo, e_kevee, side="right") - 1
    eff = table[np.clip(i, 0, len(table) - 1), 2]
    return np.where(e_kevee < lo[0], 0.0, eff)


def fold_signal(ev: dict, release: dict, *, qf_sigma: float = 0.0, time_shift_ns: float = 0.0,
                f90_variant: str | None = None, efficiency_on: str = "reco") -> tuple[np.ndarray, np.ndarray]:
    """The CEvNS template (expected counts, MC variance), shape (12, 8, 10), from a weighted sample.

    ``qf_sigma`` moves the QF coefficients by that many sigma; ``time_shift_ns`` delays every event;
    ``f90_variant`` ("up"/"down") applies the release's F90 +-1 sigma variation; ``efficiency_on`` "reco" (default)
    evaluates the released efficiency at the reconstructed energy, "true" at the quenched (unsmeared) energy.
    """
    t_kevnr = ev["t_nr_kev"]
    qf = (QF_A + qf_sigma * QF_A_SIGMA) + (QF_B + qf_sigma * QF_B_SIGMA) * t_kevnr
    e_true = qf * t_kevnr
    e_reco = e_true + ev["smear_z"] * RESOLUTION_A * np.sqrt(e_true)  # sigma = 0.58 sqrt(E)
    eff = efficiency_at(e_reco if efficiency_on == "reco" else e_true, release["efficiency"])
    w = ev["weight"] * eff
    t_us = (ev["time_ns"] + RELEASE_T0_NS + time_shift_ns) * 1e-3
    h, _, _ = np.histogram2d(e_reco, t_us, bins=(E_EDGES_KEVEE, T_EDGES_US), weights=w)
    v, _, _ = np.histogram2d(e_reco, t_us, bins=(E_EDGES_KEVEE, T_EDGES_US), weights=w * w)
    frac = _f90_fractions(release, f90_variant)  # (12, 8)
    return h[:, None, :] * frac[:, :, None], v[:, None, :] * (frac * frac)[:, :, None]


def _f90_fractions(release: dict, variant: str | None) -> np.ndarray:
    """Per energy bin, the share of events in each F90 bin, from the released CEvNS PDF (F90 x energy projection).

    The nominal fractions sum to 1 in each energy bin (the efficiency already holds the F90 acceptance); a variant
    multiplies them by the release's variant/nominal ratio, so the per-energy total moves as in the release.
    Energy bins above 50 keVee, empty in the released CEvNS PDF, take the 40-50 keVee bin's fractions.
    """
    nominal = release["cevns"].sum(axis=2)
    filled = nominal.sum(axis=1) > 0
    last = np.flatnonzero(filled)[-1]
    frac = np.where(filled[:, None], nominal, nominal[last]) / np.where(filled, nominal.sum(axis=1),
                                                                        nominal[last].sum())[:, None]
    if variant is None:
        return frac
    shifted = release[f"cevns_f90_{variant}"].sum(axis=2)
    shifted = np.where(filled[:, None], shifted, shifted[last])
    base = np.where(filled[:, None], nominal, nominal[last])
    ratio = np.divide(shifted, base, out=np.ones_like(base), where=base > 0)
    return frac * ratio


def _mirror(nominal: np.ndarray, one_sided: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(-1 sigma, +1 sigma) from a one-sided variant, taken as +1 sigma and mirrored about the nominal."""
    return np.maximum(2.0 * nominal - one_sided, 0.0), one_sided


def _backgrounds(rel: dict) -> list:
    return [Component("ssb", rel["ssb"], SS_PRIOR[1] / SS_PRIOR[0]),
            Component("brn", rel["brn"], BRN_PRIOR[1] / BRN_PRIOR[0]),
            Component("brn_delayed", rel["brn_delayed"], DELAYED_BRN_PRIOR[1] / DELAYED_BRN_PRIOR[0])]


def _brn_shapes(rel: dict) -> list:
    return [ShapeNuisance("brn_energy", {"brn": (rel["brn_energy_down"], rel["brn_energy_up"])}),
            ShapeNuisance("brn_timing_mean", {"brn": (rel["brn_timing_mean_down"], rel["brn_timing_mean_up"])}),
            ShapeNuisance("brn_timing_width", {"brn": _mirror(rel["brn"], rel["brn_timing_width"])})]


def released_pdf_model(rel: dict | None = None, *, systematics: bool = False) -> BinnedModel:
    """The paper's own fit: the released CEvNS PDF (128 events) instead of this package's template.

    Without systematics this is the fit the release documents (it returns the yaml's best fits: CEvNS 160 +- 42,
    steady state 3131, prompt BRN 552, delayed BRN 10.5); a cross-check of the release and the likelihood.
    """
    rel = load_release() if rel is None else rel
    shapes = []
    if systematics:
        shapes = [ShapeNuisance("cevns_f90", {"cevns": (rel["cevns_f90_down"], rel["cevns_f90_up"])}),
                  ShapeNuisance("cevns_timing_mean", {"cevns": _mirror(rel["cevns"], rel["cevns_timing_mean"])}),
                  *_brn_shapes(rel)]
    return BinnedModel([Component("cevns", rel["cevns"]), *_backgrounds(rel)], rel["data"], shapes)


def build_analysis(cfg, *, n_signal_events: int = 200_000, seed: int | None = None,
                   systematics: bool = True) -> ReleasedAnalysis:
    """The released Analysis A with this package's CEvNS template (``cfg``: the coherent_lar_2020 preset)."""
    rel = load_release()
    ev = signal_sample(cfg, n_signal_events, seed)
    signal, signal_var = fold_signal(ev, rel)
    total = signal.sum()

    def renormalised(template):
        return template * (total / template.sum())

    components = [Component("cevns", signal, None, signal_var), *_backgrounds(rel)]
    shapes = []
    if systematics:
        shapes = [
            ShapeNuisance("cevns_f90", {"cevns": (fold_signal(ev, rel, f90_variant="down")[0],
                                                  fold_signal(ev, rel, f90_variant="up")[0])}),
            ShapeNuisance("cevns_timing_mean", {"cevns": (
                renormalised(fold_signal(ev, rel, time_shift_ns=-POT_MEAN_SIGMA_NS)[0]),
                renormalised(fold_signal(ev, rel, time_shift_ns=+POT_MEAN_SIGMA_NS)[0]))}),
            ShapeNuisance("cevns_qf", {"cevns": (fold_signal(ev, rel, qf_sigma=-1.0)[0],
                                                 fold_signal(ev, rel, qf_sigma=+1.0)[0])}),
            *_brn_shapes(rel),
        ]
    model = BinnedModel(components, rel["data"], shapes)
    axes = [Axis("energy_kevee", "reconstructed energy [keVee]", E_EDGES_KEVEE.copy()),
            Axis("f90", "F90 (prompt light fraction)", F90_EDGES.copy()),
            Axis("time_us", "arrival time, release frame [µs]", T_EDGES_US.copy())]
    notes = [
        f"CEvNS template from this package's generator ({n_signal_events} weighted events): {total:.1f} expected in "
        "the analysis bins, against the release's prediction of 128 +- 17.",
        "The response applied event by event is the release's: QF 0.246 + 0.00078 T, sigma/E = 0.58/sqrt(E keVee) and "
        "CENNS10AnlAEfficiency.txt evaluated at the reconstructed energy (at the unsmeared energy the total is ~1 % "
        "higher).",
        "F90 is not simulated: each energy bin takes the F90 distribution of the released CEvNS PDF in that bin "
        "(the released PDF is exactly energy x F90(energy) x time).",
        "Times are the generator's (POT Gaussian, sigma 150 ns, convolved with the pi+ and mu+ lifetimes) moved by "
        "+440 ns to the release frame (whose origin puts the POT mean at 0.44 µs); our time profile then matches the "
        "released CEvNS one to within a ~15 ns shift.",
        "The released CEvNS PDF is a product energy x F90 x time: every energy has the same arrival-time profile. "
        "Our template keeps the physics correlation (prompt nu_mu recoils stay below ~15 keVee, so at higher energies "
        "CEvNS is delayed); this alone lowers the fitted count by ~20 events (stat-only fits: 160 with the released "
        "PDF, 154 with our template made factorised, 134 with our template), within the paper's +-43.",
        "Systematic variants are profiled as nuisance parameters (CEvNS F90, CEvNS timing mean +-200 ns, QF, BRN "
        "energy, BRN timing mean, BRN timing width mirrored from its one-sided file); the paper fitted without them "
        "and quoted +-14 events of systematic uncertainty separately, and its 3.5 sigma includes them "
        "(159/sqrt(43^2 + 14^2) = 3.5); the statistics-only fit of the released PDFs gives 3.9 sigma.",
        "The backgrounds are the released PDFs with the yaml's prediction priors: steady state 3154 +- 25, prompt "
        "BRN 497 +- 160, delayed BRN 33 +- 33.",
    ]
    return ReleasedAnalysis(RELEASE, model, axes, dict(PUBLISHED), notes)
