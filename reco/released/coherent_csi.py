"""COHERENT CsI[Na] full dataset redone from its public release (preset ``coherent_csi_2022``).

Paper: COHERENT, "Measurement of the Coherent Elastic Neutrino-Nucleus Scattering Cross Section on CsI by
COHERENT", Phys. Rev. Lett. 129, 081801 (2022), arXiv:2110.07730. Release: the ancillary files of
arXiv:2110.07730v2 (``data/releases/coherent_csi_2022/``, copied from the public mirror in Newtrinos.jl; see
the README there for provenance, licence and what each file holds).

The analysis, as the paper and its release define it:

- observables: reconstructed energy in photoelectrons (PE) and arrival time ``trec`` after the beam trigger
  (release frame), 0-60 PE x 0-6 us, in the paper's 9 x 11 bins (PE edges 0, 8, 12, 16, 20, 24, 32, 40, 50,
  60; time edges every 0.125 us up to 1 us, then 1, 2, 4, 6 us);
- data: the beam-on coincidence (C) event list ``dataBeamOnC.txt`` binned as above;
- steady-state background (SS): the anti-coincidence (AC) event list ``dataBeamOnAC.txt``. PE and time are
  independent for SS events (release note), so the template is the AC PE projection times the time shape of a
  uniform rate seen through the timing efficiency. Its statistical uncertainty enters as one nuisance per PE
  bin (the AC count of that bin moves by +-sqrt(n)), which also carries the normalisation uncertainty;
- beam-related neutrons (BRN, prior +-25 %) and neutrino-induced neutrons (NIN, +-36 %): the released PE and
  time projections (``brnPE/brnTrec``, ``ninPE/ninTrec``), uncorrelated, PE projection normalised to 1 over
  0-60 PE and already including the PE efficiency, time projection in counts (all PE) without the timing
  efficiency, which is applied here;
- CEvNS: this package's generator (preset source, target and exposure, without the preset's folded
  efficiency), folded event by event with the released quenching polynomial (``scintRespCoefficients.txt``,
  two +-1 sigma components -> two shape nuisances), the Gamma-distributed PE response (13.35 PE/keVee, INPUTS
  7.1), the PE efficiency (``effCoefficients.txt``, +-1 sigma -> one shape nuisance), the timing efficiency
  (1 up to 520 ns, then exp(-0.0494/us (t - 520 ns)), INPUTS 4.2) and the 0-6 us window, after moving the
  generator's times (proton pulse centred at 0) into the release frame (pulse mean at +440 ns).

The signal strength ``mu`` is sigma_meas / sigma_SM of this package's SM prediction; as in the paper, the
CEvNS count is fitted freely: the 10 % flux-normalisation uncertainty does not enter the fitted count, only
the conversion of the count into a cross section (it is added to the error of ``sigma_ratio`` in the notes).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammainc

from reco.released._signal import unfolded_sample
from reco.released.likelihood import Axis, BinnedModel, Component, ReleasedAnalysis, ShapeNuisance
from reco.released.release_files import load_text_table, verify_release

__all__ = ["PE_EDGES", "RELEASE", "TIME_EDGES_US", "build_analysis", "quenching_kevee", "pe_efficiency",
           "timing_efficiency", "pe_bin_probabilities"]

RELEASE = "coherent_csi_2022"

# The paper's binning (PRL 129, 081801, Fig. 2 / the fit): 9 PE bins x 11 arrival-time bins
PE_EDGES = np.array([0.0, 8.0, 12.0, 16.0, 20.0, 24.0, 32.0, 40.0, 50.0, 60.0])
TIME_EDGES_US = np.array([0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 2.0, 4.0, 6.0])

LIGHT_YIELD_PE_PER_KEVEE = 13.35     # INPUTS 7.1 [code, Newtrinos]
GAMMA_A = 0.0749                     # PE resolution: Gamma with shape 1 + b Eee, scale 1/(a/Eee (1 + b Eee))
GAMMA_B_PER_KEVEE = 9.56
TIMING_FLAT_UNTIL_US = 0.52          # INPUTS 4.2: timing efficiency 1 up to 520 ns, then exp(-0.0494/us ...)
TIMING_DECAY_PER_US = 0.0494
# Generator time (proton pulse centred at 0) -> release trec: the POT mean sits at +440 ns in the release frame.
# Cross-check: the released NIN time projection (ninTrec.txt, the neutrino-timing of nu_e CC on lead, without the
# timing efficiency) is reproduced to 0.2 % in every microsecond by this package's delayed-neutrino timing
# (Gaussian pulse sigma 150 ns, pion and muon lifetimes) with the pulse mean at 439 ns.
RELEASE_T0_NS = 440.0
BRN_PRIOR, NIN_PRIOR = 0.25, 0.36    # relative normalisation priors (paper; INPUTS 11)
# SS normalisation prior: the statistics of the AC sample the paper used, 0-12 us (the release note: "All events
# selected with PE < 250 and 0 <= trec < 12 us are included"). The copy shipped here (the Newtrinos mirror) stops
# at 6 us: 1295 AC events in 0-60 PE, i.e. 2.8 %. Scaled to 0-12 us with the timing efficiency (integral 9.05 us vs
# 5.31 us) they are ~2207 events, 1/sqrt(2207) = 2.1 %, the prior public re-analyses use (INPUTS 11).
SS_PRIOR = 0.021
SS_PRIOR_SHIPPED = 1.0 / np.sqrt(1295.0)
FLUX_NORM_UNCERTAINTY = 0.10         # nu per POT, arXiv:2109.11049 (INPUTS 4.3)
GENERATION_THRESHOLD_KEVNR = 1.0     # QF x T gives < 1 PE on average here; the PE efficiency is 0 below 7.07 PE

PUBLISHED = {
    "n_cevns": 306.0,
    "n_cevns_err": 20.0,
    "significance": 11.6,
    "sigma_ratio": None,
    "n_cevns_sm_predicted": 341.0,
    "citation": "COHERENT, Phys. Rev. Lett. 129, 081801 (2022), arXiv:2110.07730: 306 +- 20 CEvNS events "
                "fitted, null hypothesis rejected at 11.6 sigma, SM prediction 341 +- 11 (th) +- 42 (exp)",
}


# ---------------------------------------------------------------------------------------------------------
# Response pieces (plain numpy)

def quenching_kevee(t_nr_kev: np.ndarray, coeffs) -> np.ndarray:
    """Electron-equivalent energy [keVee] of a recoil [keVnr]: the released polynomial in MeV, clamped at 0."""
    x = np.asarray(t_nr_kev, dtype=float) * 1e-3
    a, b, c, d = coeffs
    return np.maximum(1e3 * (a * x + b * x**2 + c * x**3 + d * x**4), 0.0)


def pe_efficiency(pe: np.ndarray, coeffs) -> np.ndarray:
    """Released PE efficiency a / (1 + exp(-b (x - c))) + d, clamped to [0, 1]."""
    a, b, c, d = coeffs
    return np.clip(a / (1.0 + np.exp(-b * (np.asarray(pe, dtype=float) - c))) + d, 0.0, 1.0)


def timing_efficiency(t_us: np.ndarray) -> np.ndarray:
    """Timing efficiency vs release arrival time [us] (INPUTS 4.2)."""
    t = np.asarray(t_us, dtype=float)
    return np.where(t <= TIMING_FLAT_UNTIL_US, 1.0, np.exp(-TIMING_DECAY_PER_US * (t - TIMING_FLAT_UNTIL_US)))


def _timing_efficiency_bin_average(edges_us: np.ndarray) -> np.ndarray:
    """Exact average of the timing efficiency over each time bin."""
    lo, hi = edges_us[:-1], edges_us[1:]
    k, t0 = TIMING_DECAY_PER_US, TIMING_FLAT_UNTIL_US

    def integral(t):  # integral of the efficiency from 0 to t
        t = np.asarray(t, dtype=float)
        return np.where(t <= t0, t, t0 + (1.0 - np.exp(-k * (t - t0))) / k)

    return (integral(hi) - integral(lo)) / (hi - lo)


def gamma_fine_probabilities(e_ee_kev: np.ndarray, fine_edges: np.ndarray) -> np.ndarray:
    """Per event, the probability of each fine PE bin under the Gamma PE response (shape 1 + b Eee, mean
    13.35 PE/keVee x Eee; INPUTS 7.1). Returns (n_events, n_fine_bins); zero rows where Eee = 0."""
    e = np.asarray(e_ee_kev, dtype=float)
    out = np.zeros((len(e), len(fine_edges) - 1))
    live = e > 0
    shape = 1.0 + GAMMA_B_PER_KEVEE * e[live]
    scale = (e[live] / GAMMA_A) / shape                     # mean = shape x scale = Eee / 0.0749 = 13.35 Eee
    out[live] = np.diff(gammainc(shape[:, None], fine_edges[None, :] / scale[:, None]), axis=1)
    return out


def _fine_to_analysis_bins(fine_edges: np.ndarray, pe_edges: np.ndarray = PE_EDGES) -> np.ndarray:
    """0/1 matrix (n_fine, n_pe_bins) summing fine PE bins into the analysis bins (edges must coincide)."""
    centres = 0.5 * (fine_edges[1:] + fine_edges[:-1])
    which = np.searchsorted(pe_edges, centres, side="right") - 1
    return (which[:, None] == np.arange(len(pe_edges) - 1)[None, :]).astype(float)


def pe_bin_probabilities(e_ee_kev: np.ndarray, eff_coeffs, pe_edges: np.ndarray = PE_EDGES,
                         fine_pe: float = 1.0) -> np.ndarray:
    """Per event, the probability to be reconstructed and selected in each PE bin: the Gamma PE distribution
    integrated over fine bins of ``fine_pe`` PE, each weighted with the PE efficiency at its centre."""
    fine = np.arange(pe_edges[0], pe_edges[-1] + 0.5 * fine_pe, fine_pe)
    p = gamma_fine_probabilities(e_ee_kev, fine) * pe_efficiency(0.5 * (fine[1:] + fine[:-1]), eff_coeffs)
    return p @ _fine_to_analysis_bins(fine, pe_edges)


# ---------------------------------------------------------------------------------------------------------
# Release files

def _coefficient_rows(path) -> np.ndarray:
    return np.atleast_2d(load_text_table(path))


def _load_release():
    d = verify_release(RELEASE)
    rel = {
        "c": load_text_table(d / "dataBeamOnC.txt"),
        "ac": load_text_table(d / "dataBeamOnAC.txt"),
        "brn_pe": load_text_table(d / "brnPE.txt"),
        "brn_t": load_text_table(d / "brnTrec.txt"),
        "nin_pe": load_text_table(d / "ninPE.txt"),
        "nin_t": load_text_table(d / "ninTrec.txt"),
        "qf": _coefficient_rows(d / "scintRespCoefficients.txt"),      # nominal, s0 +1, s0 -1, s1 +1, s1 -1
        "eff": _coefficient_rows(d / "effCoefficients.txt"),           # nominal, +1 sigma, -1 sigma
    }
    if rel["qf"].shape != (5, 4) or rel["eff"].shape != (3, 4):
        raise ValueError("coherent_csi_2022 release: unexpected coefficient tables "
                         f"(QF {rel['qf'].shape}, efficiency {rel['eff'].shape}; expected (5, 4) and (3, 4))")
    return rel


def _bin_events(events: np.ndarray) -> np.ndarray:
    """Event list (PE, trec [us]) -> counts in the analysis bins (half-open: PE < 60, trec < 6 us)."""
    pe, t = events[:, 0], events[:, 1]
    keep = (pe >= PE_EDGES[0]) & (pe < PE_EDGES[-1]) & (t >= TIME_EDGES_US[0]) & (t < TIME_EDGES_US[-1])
    return np.histogram2d(pe[keep], t[keep], bins=(PE_EDGES, TIME_EDGES_US))[0]


def _rebin_projection(centres: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in uniform bins given by their centres -> counts in ``edges`` (overlap-weighted; a released bin
    straddling an analysis edge is split in proportion to the overlap)."""
    width = centres[1] - centres[0]
    lo, hi = centres - width / 2, centres + width / 2
    overlap = np.clip(np.minimum(hi[None, :], edges[1:, None]) - np.maximum(lo[None, :], edges[:-1, None]), 0, None)
    return overlap / width @ values


def _neutron_template(pe_table: np.ndarray, t_table: np.ndarray) -> tuple[np.ndarray, float]:
    """BRN or NIN expectation in the analysis bins from the released projections.

    PE projection: a PDF normalised to 1 over 0-60 PE (it continues to 250 PE), efficiency included. Time
    projection: counts over all PE in 10 ns bins, without the timing efficiency. Expected counts in 0-60 PE =
    (time counts x timing efficiency) x (PE integral over 0-60) / (PE integral over all PE)."""
    pe_c, pe_v = pe_table[:, 0], pe_table[:, 1]
    t_c, t_v = t_table[:, 0], t_table[:, 1]
    pe_hist = _rebin_projection(pe_c, pe_v, PE_EDGES) / pe_v.sum()
    t_hist = _rebin_projection(t_c, t_v * timing_efficiency(t_c), TIME_EDGES_US)
    template = np.outer(pe_hist, t_hist)
    before_timing_eff = _rebin_projection(t_c, t_v, TIME_EDGES_US).sum() * pe_hist.sum()
    return template, float(before_timing_eff)


def _steady_state(ac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SS template: the AC PE projection x a uniform rate seen through the timing efficiency (PE and time are
    independent for SS events, release note). Returns (template, AC counts in the analysis bins)."""
    ac_binned = _bin_events(ac)
    t_shape = np.diff(TIME_EDGES_US) * _timing_efficiency_bin_average(TIME_EDGES_US)
    return np.outer(ac_binned.sum(axis=1), t_shape / t_shape.sum()), ac_binned


# ---------------------------------------------------------------------------------------------------------
# CEvNS template

def _signal_events(cfg, n_events: int, seed: int | None) -> dict:
    """Fixed-N weighted sample of the preset's source/target/exposure, without the preset's folded efficiency."""
    return unfolded_sample(cfg, n_events, seed, GENERATION_THRESHOLD_KEVNR)


def _signal_templates(t_nr_kev, trec_us, weight, qf, eff, pairs) -> dict:
    """Expected CEvNS counts and MC variances in the analysis bins for each (QF row, efficiency row) in
    ``pairs``: {(i_qf, i_eff): (expected, variance)}. The Gamma response is computed once per QF row."""
    t_bin = np.searchsorted(TIME_EDGES_US, trec_us, side="right") - 1
    inside = (t_bin >= 0) & (t_bin < len(TIME_EDGES_US) - 1)
    t_nr_kev, t_bin = t_nr_kev[inside], t_bin[inside]
    w = (weight * timing_efficiency(trec_us))[inside]
    onehot = np.zeros((len(w), len(TIME_EDGES_US) - 1))
    onehot[np.arange(len(w)), t_bin] = 1.0
    fine = np.arange(PE_EDGES[0], PE_EDGES[-1] + 0.5, 1.0)                            # 1-PE fine bins
    to_bins = _fine_to_analysis_bins(fine)
    centres = 0.5 * (fine[1:] + fine[:-1])
    out = {}
    for i_qf in sorted({q for q, _ in pairs}):
        p_fine = gamma_fine_probabilities(quenching_kevee(t_nr_kev, qf[i_qf]), fine) * w[:, None]
        for i_eff in sorted({e for q, e in pairs if q == i_qf}):
            contrib = (p_fine * pe_efficiency(centres, eff[i_eff])[None, :]) @ to_bins   # (n, 9)
            out[(i_qf, i_eff)] = (contrib.T @ onehot, (contrib**2).T @ onehot)
    return out


def build_analysis(cfg, *, n_signal_events: int = 200_000, seed: int | None = None) -> ReleasedAnalysis:
    """The CsI[Na] full-dataset analysis (PRL 129, 081801) on the released data, CEvNS from this package."""
    rel = _load_release()
    data = _bin_events(rel["c"])

    ss, ac_binned = _steady_state(rel["ac"])
    brn, brn_raw = _neutron_template(rel["brn_pe"], rel["brn_t"])
    nin, nin_raw = _neutron_template(rel["nin_pe"], rel["nin_t"])

    ev = _signal_events(cfg, n_signal_events, seed)
    trec_us = (ev["time_ns"] + RELEASE_T0_NS) * 1e-3
    qf, eff = rel["qf"], rel["eff"]
    args = (ev["t_nr_kev"], trec_us, ev["weight"])
    # rows: QF nominal, syst0 +1, syst0 -1, syst1 +1, syst1 -1; efficiency nominal, +1 sigma, -1 sigma
    t = _signal_templates(*args, qf, eff, [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (0, 2)])
    signal, signal_var = t[(0, 0)]
    variants = {"qf_syst0_up": t[(1, 0)][0], "qf_syst0_down": t[(2, 0)][0], "qf_syst1_up": t[(3, 0)][0],
                "qf_syst1_down": t[(4, 0)][0], "pe_eff_up": t[(0, 1)][0], "pe_eff_down": t[(0, 2)][0]}

    shape_nuisances = [
        ShapeNuisance("qf_syst0", {"cevns": (variants["qf_syst0_down"], variants["qf_syst0_up"])}),
        ShapeNuisance("qf_syst1", {"cevns": (variants["qf_syst1_down"], variants["qf_syst1_up"])}),
        ShapeNuisance("pe_efficiency", {"cevns": (variants["pe_eff_down"], variants["pe_eff_up"])}),
    ]
    model = BinnedModel(
        components=[
            Component("cevns", signal, norm_sigma=None, mc_variance=signal_var),
            Component("ssb", ss, norm_sigma=SS_PRIOR),
            Component("brn", brn, norm_sigma=BRN_PRIOR),
            Component("nin", nin, norm_sigma=NIN_PRIOR),
        ],
        data=data,
        shape_nuisances=shape_nuisances,
    )
    axes = [Axis("pe", "reconstructed energy [PE]", PE_EDGES.copy()),
            Axis("time_us", "arrival time after the beam trigger [µs]", TIME_EDGES_US.copy())]
    n_sig = float(signal.sum())
    notes = [
        f"CEvNS from this package's generator ({len(ev['weight'])} weighted events, nu/POT "
        f"{cfg.source.nu_per_proton_per_flavour}, {cfg.target.mass_kg} kg at {cfg.source.distance_m} m, "
        f"{cfg.exposure.beam_energy_gwh} GWh): {n_sig:.1f} events expected in 0-60 PE x 0-6 us after the released "
        f"response (paper: SM prediction {PUBLISHED['n_cevns_sm_predicted']:.0f} +- 11 (th) +- 42 (exp)).",
        f"Observed (C): {int(data.sum())} events; AC (steady state): {int(ac_binned.sum())} events in the same "
        "window. The SS template factorises the AC PE projection and a uniform rate through the timing efficiency "
        f"(PE and time are independent for SS, release note); normalisation prior {SS_PRIOR:.1%}, the statistics of "
        "the paper's 0-12 us AC sample: the shipped copy of the event lists stops at 6 us "
        f"({SS_PRIOR_SHIPPED:.1%} from its 1295 AC events).",
        f"BRN {brn.sum():.1f} and NIN {nin.sum():.1f} events expected (released projections with the timing "
        f"efficiency applied; {brn_raw:.1f} and {nin_raw:.1f} before it), priors +-25 % and +-36 %. The release "
        "ships no BRN/NIN shape variants, so their shapes are fixed.",
        f"Generator times moved into the release frame by +{RELEASE_T0_NS:.0f} ns (POT mean); this reproduces the "
        "released NIN arrival-time projection. No beam-timing nuisance: the release ships none.",
        "Systematic shape nuisances from the release: QF polynomial components 0 and 1, PE efficiency (+-1 sigma); "
        "not included: the Gamma resolution and light-yield uncertainties (no variants released).",
        f"mu = sigma_meas / sigma_SM(this package). The paper fits the CEvNS count freely; the {FLUX_NORM_UNCERTAINTY:.0%} "
        "flux-normalisation uncertainty enters only the cross section: add it in quadrature to mu's error for "
        "sigma_ratio (not a prior on the signal in this fit).",
        "The fitted count's error (~32 events) goes through the covariance of mu and the signal's shape "
        "nuisances; it is statistical: the same without the QF/efficiency nuisances or the template statistics. "
        "The paper's +-20 is below what these data allow: with every background and nuisance known exactly the "
        "Cramer-Rao floor is +-30 (error floor above; +-29.8 in 1-PE x 62.5-ns bins, so not a binning effect), and "
        "Poisson toys at the best fit scatter by +-30. +-20 is close to the Fisher error at zero signal with the "
        "backgrounds known (+-21.5), not at 306 events.",
    ]
    return ReleasedAnalysis(name=cfg.name, model=model, axes=axes, published=dict(PUBLISHED), notes=notes)
