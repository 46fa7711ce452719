"""Scintillating crystals and liquids read out by SiPMs or PMTs (CryoCsI, CsI[Na], NaI[Tl], LAr).

Chain (one step each)
---------------------
1. ``scint_quenching``: keVnr -> keVee with ``[quenching]`` (per-element constants from ``qf_by_z`` take
   precedence, e.g. Na and I in NaI). A ``recoil_type`` column (0 NR, 1 ER), when the input has one, gives
   electron recoils QF = 1 and the ER time profile; without it every event is a nuclear recoil.
2. ``photodetection`` (numba kernel, one pass per chunk, per-chunk ``numpy.random.Generator``):
   - primary PE ~ Poisson(LY x E_ee x nonproportionality(E_ee)) for a light yield in PE/keVee, or
     Binomial(Poisson(LY_photons x E_ee), PDE) for a yield in photons/keVee; an optional relative Gaussian
     "intrinsic" spread of the mean adds the excess variance of real scintillators;
   - each scintillation PE gets a delay from a sum of exponentials (component k with probability w_k,
     recoil-type dependent: liquid argon singlet/triplet) plus optional Gaussian jitter, and an array
     (0/1, Bernoulli(array_share): the binomial split between the two ends/arrays);
   - afterglow (delayed light from earlier depositions; a rate of single PE uniform in the window, split
     between arrays like light) and dark counts (Poisson(rate x window) per array, uniform in time);
   - every primary avalanche (scintillation, afterglow or dark) fires Borel(lambda) cells through prompt
     optical crosstalk (a Galton-Watson branching with Poisson(lambda) offspring; the total over Poisson(mu)
     primaries is the generalised Poisson with mean mu/(1-lambda), variance mu/(1-lambda)^3, Vinogradov 2009);
     each fired cell afterpulses with probability p_ap after an Exp(tau_ap) delay (afterpulses do not
     crosstalk or afterpulse again);
   - PE outside the integration window [-pretrigger_ns, window_ns) (relative to the interaction) are lost;
     the kept ones form the jagged column ``pe`` (``time_ns``, ``array``, ``kind``: 0 scintillation,
     1 crosstalk, 2 afterpulse, 3 dark count, 4 afterglow); ``pe_time_reference = "beam"`` adds the event's
     ``time_ns`` (time within the beam pulse) to the stored times;
   - charge in PE: sum of single-PE charges N(1, spe_resolution) (PMT-like gain spread; 0 -> charge = count).
3. ``pulse_shape`` (with ``[scintillator.psd] enabled``): F90 = PE in [-pretrigger, prompt_window) / all PE
   in the window; ``psd_pass`` = f90_min <= F90 <= f90_max (LAr nuclear-recoil band).
4. ``scint_trigger``: charge_pe >= threshold_pe, a coincidence of >= coincidence_pe PE in each array if
   asked, and an optional logistic acceptance a/(1+exp(-k(x-x0))) + d in PE (COHERENT CsI form).

Light yields measured with SiPMs already contain the SiPMs' correlated noise (INPUTS 10): the mean crosstalk
factor 1/(1-lambda) and the afterpulses that land in the window (p_ap per fired cell, a fraction
P(T + D < W)/P(T < W) of them inside). With ``ly_includes_crosstalk = true`` the primary mean is divided by
both, so the mean of the light's PE (scintillation, crosstalk, afterpulse) equals the measured LY x E_ee x the
light's window fraction, and neither effect is counted twice. Dark counts and afterglow are not light: they
come on top (a LY measurement subtracts them with the baseline).

Not modelled: position dependence of light collection, SiPM cell saturation and recovery, delayed
crosstalk, PMT afterpulse spectra, energy dependence of the LAr singlet fraction, pile-up between events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.special import gammaln

from generator._validate import ConfigError, option
from generator.eventfile import Jagged

from .chain import Step

__all__ = ["KernelParams", "PhotosensorConfig", "ScintillatorConfig", "ScintPSDConfig", "TimeProfileConfig",
           "afterpulse_window_ratio", "borel_cdf", "borel_pmf", "generalised_poisson_moments", "kernel_params", "mean_primary_pe", "metadata",
           "photodetect", "photodetect_loop", "photodetect_numpy", "prompt_fraction", "scintillator_steps",
           "section_class", "steps", "time_cdf"]

KIND_SCINT, KIND_CROSSTALK, KIND_AFTERPULSE, KIND_DARK, KIND_AFTERGLOW = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------------------------------------
# configuration ([scintillator] and its sub-tables)
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeProfileConfig:
    decay_times_ns: list[float] = option(default_factory=lambda: (1000.0,), unit="ns",
                                         doc="decay constant of each scintillation component", gt=0)
    weights_nr: list[float] = option(default_factory=lambda: (1.0,),
                                     doc="light share of each component for nuclear recoils", ge=0)
    weights_er: list[float] | None = option(None, doc="light share of each component for electron recoils "
                                            "(default: as for nuclear recoils)", ge=0)
    jitter_ns: float = option(0.0, unit="ns", doc="Gaussian time jitter per PE (transit-time spread)", ge=0)

    def __post_init__(self):
        n = len(self.decay_times_ns)
        if n == 0:
            raise ConfigError("scintillator.time_profile.decay_times_ns: give at least one decay time")
        for key in ("weights_nr", "weights_er"):
            w = getattr(self, key)
            if w is None:
                continue
            if len(w) != n:
                raise ConfigError(f"scintillator.time_profile.{key} has {len(w)} entries, decay_times_ns {n}")
            if sum(w) <= 0:
                raise ConfigError(f"scintillator.time_profile.{key}: the weights must not all be 0")

    def weights(self, electron: bool) -> np.ndarray:
        w = np.asarray(self.weights_er if (electron and self.weights_er is not None) else self.weights_nr, float)
        return w / w.sum()


@dataclass(frozen=True)
class PhotosensorConfig:
    kind: str = option("sipm", doc="photosensor type", allowed=("sipm", "pmt"))
    n_arrays: int = option(1, doc="independent arrays/ends sharing the light (1 or 2)", ge=1, le=2)
    array_share: float = option(0.5, doc="probability that a detected photon lands on array 0", gt=0, lt=1)
    coincidence: bool = option(False, doc="require coincidence_pe PE in each of the two arrays")
    coincidence_pe: int = option(1, doc="PE needed in each array for the coincidence", ge=1)
    crosstalk_lambda: float = option(0.0, doc="Borel branching parameter of prompt optical crosstalk "
                                     "(p_ct = 1 - exp(-lambda)); SiPM only", ge=0, lt=0.95)
    afterpulse_probability: float = option(0.0, doc="afterpulse probability per fired cell", ge=0, lt=1)
    afterpulse_tau_ns: float = option(200.0, unit="ns", doc="mean afterpulse delay (exponential)", gt=0)
    dark_rate_hz: float = option(0.0, unit="Hz", doc="dark-count rate of all sensors together", ge=0)
    dark_rate_hz_per_mm2: float = option(0.0, unit="Hz/mm2", doc="dark-count rate per sensor area (SiPM)", ge=0)
    sensor_area_mm2: float = option(0.0, unit="mm2", doc="total photosensitive area (with dark_rate_hz_per_mm2)",
                                    ge=0)
    spe_resolution: float = option(0.0, doc="relative Gaussian width of the single-PE charge", ge=0, le=2)

    def __post_init__(self):
        if self.kind == "pmt" and self.crosstalk_lambda > 0:
            raise ConfigError("scintillator.photosensor.crosstalk_lambda: optical crosstalk is a SiPM effect; "
                              "set it to 0 for kind = 'pmt'")
        if self.coincidence and self.n_arrays != 2:
            raise ConfigError("scintillator.photosensor.coincidence needs n_arrays = 2")

    @property
    def total_dark_rate_hz(self) -> float:
        return self.dark_rate_hz + self.dark_rate_hz_per_mm2 * self.sensor_area_mm2


@dataclass(frozen=True)
class ScintPSDConfig:
    enabled: bool = option(False, doc="compute the prompt fraction (F90) and the PSD cut")
    prompt_window_ns: float = option(90.0, unit="ns", doc="end of the prompt window after the interaction", gt=0)
    f90_min: float = option(0.5, doc="lower edge of the accepted prompt-fraction band", ge=0, le=1)
    f90_max: float = option(1.0, doc="upper edge of the accepted prompt-fraction band", ge=0, le=1)

    def __post_init__(self):
        if self.f90_max < self.f90_min:
            raise ConfigError("scintillator.psd: f90_max must be >= f90_min")


@dataclass(frozen=True)
class ScintillatorConfig:
    light_yield: float = option(10.0, doc="light yield (unit: light_yield_unit)", gt=0)
    light_yield_unit: str = option("pe_per_kevee", doc="'pe_per_kevee' (detected) or 'photons_per_kevee' "
                                   "(emitted, times pde)", allowed=("pe_per_kevee", "photons_per_kevee"))
    pde: float = option(1.0, doc="photon detection efficiency (light collection x PDE/QE) for photons_per_kevee",
                        gt=0, le=1)
    ly_includes_crosstalk: bool = option(False, doc="the PE/keVee light yield was measured with these SiPMs and "
                                         "already contains their correlated noise: the crosstalk factor "
                                         "1/(1-lambda) and the afterpulses in the window")
    intrinsic_resolution: float = option(0.0, doc="relative Gaussian spread of the mean light per event "
                                         "(excess over Poisson)", ge=0, le=1)
    nonproportionality_kevee: list[float] = option(default_factory=tuple, unit="keVee",
                                                   doc="energies of the relative-light-yield table", ge=0)
    nonproportionality_rel: list[float] = option(default_factory=tuple,
                                                 doc="relative light yield at those energies (1 = linear)", ge=0)
    qf_by_z: dict[str, float] = option(default_factory=dict, doc="constant QF per atomic number, e.g. "
                                       "{ 11 = 0.15, 53 = 0.05 }; overrides [quenching] for those nuclei")
    window_ns: float = option(3000.0, unit="ns", doc="integration window after the interaction", gt=0)
    pretrigger_ns: float = option(0.0, unit="ns", doc="part of the window before the interaction", ge=0)
    pe_time_reference: str = option("interaction", doc="PE times relative to the interaction, or to the beam "
                                    "pulse ('beam': adds time_ns; pulsed sources)", allowed=("interaction", "beam"))
    afterglow_rate_hz: float = option(0.0, unit="Hz", doc="rate of delayed-light single PE (afterglow) in the "
                                      "window", ge=0)
    threshold_pe: float = option(1.0, unit="PE", doc="trigger threshold on charge_pe", ge=0)
    efficiency_logistic: list[float] = option(default_factory=tuple, doc="optional acceptance (a, k, x0, d): "
                                              "a/(1+exp(-k(charge_pe-x0))) + d, clamped to [0, 1]")
    time_profile: TimeProfileConfig = option(default_factory=TimeProfileConfig)
    photosensor: PhotosensorConfig = option(default_factory=PhotosensorConfig)
    psd: ScintPSDConfig = option(default_factory=ScintPSDConfig)

    def __post_init__(self):
        if len(self.nonproportionality_kevee) != len(self.nonproportionality_rel):
            raise ConfigError("scintillator.nonproportionality_kevee and nonproportionality_rel differ in length")
        if list(self.nonproportionality_kevee) != sorted(self.nonproportionality_kevee):
            raise ConfigError("scintillator.nonproportionality_kevee must increase")
        if self.light_yield_unit == "pe_per_kevee" and self.pde != 1.0:
            raise ConfigError("scintillator.pde applies to light_yield_unit = 'photons_per_kevee' only (a PE/keVee "
                              "yield already contains it)")
        if self.ly_includes_crosstalk and self.light_yield_unit != "pe_per_kevee":
            raise ConfigError("scintillator.ly_includes_crosstalk needs a measured light_yield_unit = "
                              "'pe_per_kevee'")
        if self.pretrigger_ns < 3.0 * self.time_profile.jitter_ns:
            raise ConfigError(f"scintillator.pretrigger_ns = {self.pretrigger_ns!r}: must be >= 3 x time_profile."
                              f"jitter_ns ({3.0 * self.time_profile.jitter_ns!r} ns), or jittered prompt light falls "
                              f"before the window and is lost")
        if len(self.efficiency_logistic) not in (0, 4):
            raise ConfigError("scintillator.efficiency_logistic must be [a, k, x0, d]")
        for key, q in self.qf_by_z.items():
            if not key.isdigit() or not 1 <= int(key) <= 118:
                raise ConfigError(f"scintillator.qf_by_z: key {key!r} is not an atomic number")
            if not 0 < q <= 1:
                raise ConfigError(f"scintillator.qf_by_z.{key} = {q!r}: must be in (0, 1]")


section_class = ScintillatorConfig


# --------------------------------------------------------------------------------------------------------
# analytic expectations (metadata, tests)
# --------------------------------------------------------------------------------------------------------
def generalised_poisson_moments(mu, lam):
    """Mean and variance of the PE count for Poisson(mu) primaries each firing Borel(lam) cells."""
    return mu / (1.0 - lam), mu / (1.0 - lam) ** 3


def borel_pmf(n, lam):
    """Borel distribution P(n) = exp(-lam n) (lam n)^(n-1) / n!, n >= 1: cells fired by one primary avalanche."""
    n = np.asarray(n, dtype=np.float64)
    if lam == 0:
        return (n == 1).astype(np.float64)
    return np.exp(-lam * n + (n - 1) * np.log(lam * n) - gammaln(n + 1))


def borel_cdf(lam, tail=1e-15):
    """CDF of the Borel distribution at n = 1, 2, ... until 1 - tail; the last entry absorbs the tail."""
    if lam == 0:
        return np.array([2.0])
    n_max = 64
    while True:
        cdf = np.cumsum(borel_pmf(np.arange(1, n_max + 1), lam))
        if cdf[-1] >= 1 - tail or n_max > 1 << 20:
            break
        n_max *= 4
    cut = int(np.searchsorted(cdf, 1 - tail)) + 1
    cdf = cdf[:cut].copy()
    cdf[-1] = 2.0  # a uniform draw always ends the search
    return cdf


def time_cdf(t_ns, decay_times_ns, weights):
    """P(delay < t) for the multi-exponential scintillation profile (no jitter)."""
    t = np.maximum(np.asarray(t_ns, dtype=np.float64), 0.0)
    w = np.asarray(weights, float) / np.sum(weights)
    return sum(wk * -np.expm1(-t / tk) for wk, tk in zip(w, decay_times_ns, strict=True))


def prompt_fraction(decay_times_ns, weights, prompt_ns, window_ns):
    """Probability that a scintillation PE inside [0, window) falls in [0, prompt) (the mean F90, no noise)."""
    return time_cdf(min(prompt_ns, window_ns), decay_times_ns, weights) / time_cdf(window_ns, decay_times_ns,
                                                                                   weights)


# --------------------------------------------------------------------------------------------------------
# kernel parameters
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelParams:
    taus: np.ndarray  # decay constants (ns)
    cum_nr: np.ndarray  # cumulative component probabilities, nuclear recoils
    cum_er: np.ndarray  # ... electron recoils
    jitter: float
    photons_mode: bool
    pde: float
    intrinsic: float
    n_arrays: int
    share: float
    lam: float
    borel_cdf: np.ndarray  # CDF of the Borel distribution at n = 1, 2, ... (cells fired per primary)
    p_ap: float
    tau_ap: float
    dark_per_array_ns: float  # dark-count rate per array, per ns
    afterglow_ns: float  # afterglow rate per ns
    lo: float  # window start relative to the interaction (ns)
    hi: float  # window end (ns)
    prompt: float  # end of the prompt window (ns)
    spe: float
    add_offset: bool


def kernel_params(sc: ScintillatorConfig) -> KernelParams:
    tp, ps = sc.time_profile, sc.photosensor
    prompt = sc.psd.prompt_window_ns if sc.psd.enabled else sc.window_ns
    cum = [np.cumsum(tp.weights(e)) for e in (False, True)]
    for c in cum:
        c[-1] = 1.0 + 1e-12  # a uniform draw always lands in a component
    return KernelParams(np.asarray(tp.decay_times_ns, float), cum[0], cum[1], tp.jitter_ns,
                        sc.light_yield_unit == "photons_per_kevee", sc.pde, sc.intrinsic_resolution, ps.n_arrays,
                        ps.array_share, ps.crosstalk_lambda, borel_cdf(ps.crosstalk_lambda),
                        ps.afterpulse_probability, ps.afterpulse_tau_ns,
                        ps.total_dark_rate_hz * 1e-9 / ps.n_arrays, sc.afterglow_rate_hz * 1e-9, -sc.pretrigger_ns,
                        sc.window_ns, prompt, ps.spe_resolution, sc.pe_time_reference == "beam")


def afterpulse_window_ratio(sc: ScintillatorConfig) -> float:
    """Afterpulses inside the window per fired cell inside it, per unit afterpulse probability (NR profile):
    P(T + D < W) / P(T < W) with T the scintillation delay and D ~ Exp(afterpulse_tau_ns)."""
    tp, w_ns, tau_ap = sc.time_profile, sc.window_ns, sc.photosensor.afterpulse_tau_ns
    weights = tp.weights(False)
    both = 0.0
    for wk, tk in zip(weights, tp.decay_times_ns, strict=True):
        if abs(tk - tau_ap) < 1e-9 * tk:  # Gamma(2, tau): P(T + D < W) = 1 - e^{-x}(1 + x)
            x = w_ns / tk
            both += wk * -(np.expm1(-x) + x * np.exp(-x))
        else:  # hypoexponential CDF
            both += wk * (1.0 - (tk * np.exp(-w_ns / tk) - tau_ap * np.exp(-w_ns / tau_ap)) / (tk - tau_ap))
    inside = float(time_cdf(w_ns, tp.decay_times_ns, weights))
    return float(both) / inside if inside > 0 else 0.0


def mean_primary_pe(sc: ScintillatorConfig, e_kevee):
    """Mean primary PE (before crosstalk) for energies in keVee: LY x E x nonproportionality, and, for a light yield
    measured with these SiPMs, divided by the correlated-noise gain it already contains: the crosstalk factor
    1/(1-lambda) and the afterpulses in the window (1 + p_ap x afterpulse_window_ratio)."""
    e = np.asarray(e_kevee, dtype=np.float64)
    rel = np.interp(e, sc.nonproportionality_kevee, sc.nonproportionality_rel) if sc.nonproportionality_kevee \
        else 1.0
    mu = sc.light_yield * e * rel
    if sc.ly_includes_crosstalk:
        ps = sc.photosensor
        mu = mu * (1.0 - ps.crosstalk_lambda) / (1.0 + ps.afterpulse_probability * afterpulse_window_ratio(sc))
    return mu


# --------------------------------------------------------------------------------------------------------
# the per-event loop: plain Python (reference, same draws) and its numba compilation (production)
# --------------------------------------------------------------------------------------------------------
def _ensure_py(bt, ba, bk, need):
    """Grow the PE buffers (time, array, kind) to hold ``need`` entries (at least doubling)."""
    cap = bt.shape[0]
    new_cap = max(2 * cap, need)
    t = np.empty(new_cap, dtype=np.float32)
    a = np.empty(new_cap, dtype=np.int8)
    k = np.empty(new_cap, dtype=np.int8)
    t[:cap] = bt
    a[:cap] = ba
    k[:cap] = bk
    return t, a, k


_ensure = njit(cache=True, nogil=True)(_ensure_py)


def _pick_array_py(rng, n_arrays, share):
    """Array (0 or 1) a photon lands on: array 0 with probability ``share`` (one draw when there are two)."""
    if n_arrays == 2 and rng.random() >= share:
        return 1
    return 0


_pick_array = njit(cache=True, nogil=True)(_pick_array_py)


def photodetect_loop(rng, mean, is_er, offset, taus, cum_nr, cum_er, jitter, photons_mode, pde, intrinsic,
                     n_arrays, share, lam, borel_cdf, p_ap, tau_ap, dark_per_array_ns, afterglow_ns, lo, hi, prompt,
                     spe, add_offset, capacity):
    """Per-event photodetection; returns per-event arrays and the flat (time, array, kind) PE buffer.

    The same source runs under the interpreter (reference) and compiled by numba (``_photodetect_kernel``);
    both draw the same numbers from ``rng`` in the same order.
    """
    n = mean.shape[0]
    n_pe = np.zeros(n, dtype=np.int32)
    n_prim = np.zeros(n, dtype=np.int32)
    n_a0 = np.zeros(n, dtype=np.int32)
    n_prompt = np.zeros(n, dtype=np.int32)
    charge = np.zeros(n, dtype=np.float64)
    cap = max(capacity, 16)
    bt = np.empty(cap, dtype=np.float32)
    ba = np.empty(cap, dtype=np.int8)
    bk = np.empty(cap, dtype=np.int8)
    width = hi - lo
    n_comp = taus.shape[0]
    m = 0
    for i in range(n):
        start = m
        mu = mean[i]
        # 1. primary photoelectrons
        if intrinsic > 0.0 and mu > 0.0:
            mu = mu * max(0.0, 1.0 + intrinsic * rng.normal())
        if photons_mode:
            nph = rng.poisson(mu)
            k = rng.binomial(nph, pde) if nph > 0 else 0
        else:
            k = rng.poisson(mu)
        n_prim[i] = k
        cum = cum_er if is_er[i] else cum_nr
        if m + k > bt.shape[0]:
            bt, ba, bk = _ensure(bt, ba, bk, m + k)
        for _ in range(k):
            c = 0
            if n_comp > 1:
                u = rng.random()
                while u >= cum[c]:
                    c += 1
            t = rng.exponential(taus[c])
            if jitter > 0.0:
                t += jitter * rng.normal()
            bt[m] = t
            ba[m] = _pick_array(rng, n_arrays, share)
            bk[m] = 0
            m += 1
        # 2. afterglow: single PE uniform in the window, split between arrays like light
        if afterglow_ns > 0.0:
            k = rng.poisson(afterglow_ns * width)
            if m + k > bt.shape[0]:
                bt, ba, bk = _ensure(bt, ba, bk, m + k)
            for _ in range(k):
                t = lo + width * rng.random()
                bt[m] = t
                ba[m] = _pick_array(rng, n_arrays, share)
                bk[m] = 4
                m += 1
        # 3. dark counts of each array, uniform in the window
        if dark_per_array_ns > 0.0:
            for a in range(n_arrays):
                k = rng.poisson(dark_per_array_ns * width)
                if m + k > bt.shape[0]:
                    bt, ba, bk = _ensure(bt, ba, bk, m + k)
                for _ in range(k):
                    bt[m] = lo + width * rng.random()
                    ba[m] = a
                    bk[m] = 3
                    m += 1
        # 4. every primary avalanche: Borel crosstalk cells (same time, same array), then afterpulses
        n_primaries = m
        for j in range(start, n_primaries):
            t = np.float64(bt[j])
            aj = ba[j]
            extra = 0
            if lam > 0.0:  # Borel(lambda) cells in all: inverse CDF, one uniform
                u = rng.random()
                while u >= borel_cdf[extra]:
                    extra += 1
                if m + extra > bt.shape[0]:
                    bt, ba, bk = _ensure(bt, ba, bk, m + extra)
                for _ in range(extra):
                    bt[m] = t
                    ba[m] = aj
                    bk[m] = 1
                    m += 1
            if p_ap > 0.0:  # each of the 1 + extra fired cells afterpulses with probability p_ap
                if m + 1 + extra > bt.shape[0]:
                    bt, ba, bk = _ensure(bt, ba, bk, m + 1 + extra)
                for _ in range(1 + extra):
                    if rng.random() < p_ap:
                        bt[m] = t + rng.exponential(tau_ap)
                        ba[m] = aj
                        bk[m] = 2
                        m += 1
        # 5. keep the PE inside the integration window (in place), count arrays and the prompt part
        w = start
        for j in range(start, m):
            t = np.float64(bt[j])
            if t >= lo and t < hi:
                if t < prompt:
                    n_prompt[i] += 1
                if ba[j] == 0:
                    n_a0[i] += 1
                bt[w] = t + offset[i] if add_offset else t
                ba[w] = ba[j]
                bk[w] = bk[j]
                w += 1
        m = w
        n_pe[i] = m - start
        # 6. charge: sum of N(1, spe) single-PE charges
        if spe > 0.0 and n_pe[i] > 0:
            charge[i] = max(0.0, n_pe[i] + spe * np.sqrt(n_pe[i]) * rng.normal())
        else:
            charge[i] = n_pe[i]
    return n_pe, n_prim, n_a0, n_prompt, charge, bt[:m], ba[:m], bk[:m]


_photodetect_kernel = njit(cache=True, nogil=True)(photodetect_loop)


def _args(p: KernelParams):
    return (p.taus, p.cum_nr, p.cum_er, p.jitter, p.photons_mode, p.pde, p.intrinsic, p.n_arrays, p.share,
            p.lam, p.borel_cdf, p.p_ap, p.tau_ap, p.dark_per_array_ns, p.afterglow_ns, p.lo, p.hi, p.prompt, p.spe,
            p.add_offset)


def _capacity(p: KernelParams, mean) -> int:
    per_cell = (1.0 + p.p_ap / (1.0 - p.lam)) / (1.0 - p.lam)
    noise = (p.dark_per_array_ns * p.n_arrays + p.afterglow_ns) * (p.hi - p.lo)
    return int(1.1 * (float(np.sum(mean)) + noise * len(mean)) * per_cell) + 1024


def _pack(out):
    n_pe, n_prim, n_a0, n_prompt, charge, bt, ba, bk = out
    jag = Jagged(n_pe, {"time_ns": bt, "array": ba, "kind": bk})
    return {"num_pe": n_pe, "num_primary_pe": n_prim, "num_pe_a": n_a0, "num_pe_b": n_pe - n_a0,
            "num_prompt_pe": n_prompt, "charge_pe": charge}, jag


def photodetect(rng, mean, is_er, offset, p: KernelParams, *, jit: bool = True):
    """Run the photodetection loop (numba kernel, or the interpreted reference with ``jit=False``)."""
    mean = np.ascontiguousarray(mean, dtype=np.float64)
    is_er = np.ascontiguousarray(is_er, dtype=np.bool_)
    offset = np.ascontiguousarray(offset, dtype=np.float64)
    fn = _photodetect_kernel if jit else photodetect_loop
    return _pack(fn(rng, mean, is_er, offset, *_args(p), _capacity(p, mean)))


def photodetect_numpy(rng, mean, is_er, offset, p: KernelParams):
    """Independent vectorised numpy implementation of the same model (other draw order: same distributions).

    Used by the tests as a reference for the kernel's distributions and by the benchmark as the plain-numpy
    speed baseline.
    """
    mean = np.asarray(mean, dtype=np.float64)
    n = len(mean)
    mu = mean.copy()
    if p.intrinsic > 0:
        mu = mu * np.maximum(0.0, 1.0 + p.intrinsic * rng.standard_normal(n))
    n_prim = rng.binomial(rng.poisson(mu), p.pde) if p.photons_mode else rng.poisson(mu)
    ev = np.repeat(np.arange(n), n_prim)
    u = rng.random(ev.size)
    comp = np.where(np.asarray(is_er)[ev], np.searchsorted(p.cum_er, u, side="right"),
                    np.searchsorted(p.cum_nr, u, side="right"))
    t = rng.standard_exponential(ev.size) * p.taus[comp]
    if p.jitter > 0:
        t = t + p.jitter * rng.standard_normal(ev.size)
    arr = (rng.random(ev.size) >= p.share).astype(np.int8) if p.n_arrays == 2 else np.zeros(ev.size, np.int8)
    parts = [(ev, t, arr, np.full(ev.size, KIND_SCINT, np.int8))]
    width = p.hi - p.lo
    if p.afterglow_ns > 0:
        e2 = np.repeat(np.arange(n), rng.poisson(p.afterglow_ns * width, n))
        a2 = (rng.random(e2.size) >= p.share).astype(np.int8) if p.n_arrays == 2 else np.zeros(e2.size, np.int8)
        parts.append((e2, p.lo + width * rng.random(e2.size), a2, np.full(e2.size, KIND_AFTERGLOW, np.int8)))
    if p.dark_per_array_ns > 0:
        for a in range(p.n_arrays):
            e3 = np.repeat(np.arange(n), rng.poisson(p.dark_per_array_ns * width, n))
            parts.append((e3, p.lo + width * rng.random(e3.size), np.full(e3.size, a, np.int8),
                          np.full(e3.size, KIND_DARK, np.int8)))
    ev, t, arr, kind = (np.concatenate(x) for x in zip(*parts, strict=True))
    extra = np.zeros(ev.size, dtype=np.int64)
    if p.lam > 0:  # Borel(lambda) - 1 extra cells per primary: total progeny of a Poisson(lambda) branching
        pending = np.ones(ev.size, dtype=np.int64)
        while pending.any():
            pending = rng.poisson(p.lam * pending)
            extra += pending
    xt = np.repeat(np.arange(ev.size), extra)
    out = [(ev, t, arr, kind), (ev[xt], t[xt], arr[xt], np.full(xt.size, KIND_CROSSTALK, np.int8))]
    if p.p_ap > 0:
        ap = np.repeat(np.arange(ev.size), rng.binomial(1 + extra, p.p_ap))
        out.append((ev[ap], t[ap] + p.tau_ap * rng.standard_exponential(ap.size), arr[ap],
                    np.full(ap.size, KIND_AFTERPULSE, np.int8)))
    ev, t, arr, kind = (np.concatenate(x) for x in zip(*out, strict=True))
    keep = (t >= p.lo) & (t < p.hi)
    ev, t, arr, kind = ev[keep], t[keep], arr[keep], kind[keep]
    order = np.argsort(ev, kind="stable")
    ev, t, arr, kind = ev[order], t[order], arr[order], kind[order]
    n_pe = np.bincount(ev, minlength=n).astype(np.int32)
    n_a0 = np.bincount(ev[arr == 0], minlength=n).astype(np.int32)
    n_prompt = np.bincount(ev[t < p.prompt], minlength=n).astype(np.int32)
    charge = n_pe.astype(np.float64)
    if p.spe > 0:
        charge = np.maximum(0.0, charge + p.spe * np.sqrt(charge) * rng.standard_normal(n))
    if p.add_offset:
        t = t + np.asarray(offset, dtype=np.float64)[ev]
    jag = Jagged(n_pe, {"time_ns": t.astype(np.float32), "array": arr, "kind": kind})
    return {"num_pe": n_pe, "num_primary_pe": n_prim.astype(np.int32), "num_pe_a": n_a0, "num_pe_b": n_pe - n_a0,
            "num_prompt_pe": n_prompt, "charge_pe": charge}, jag


# --------------------------------------------------------------------------------------------------------
# chain steps
# --------------------------------------------------------------------------------------------------------
PE_FIELDS = {"time_ns": (np.float32, "ns"), "array": (np.int8, ""), "kind": (np.int8, "")}


def _is_er(c) -> np.ndarray:
    rt = c.get("recoil_type")
    n = len(c["t_nr_kev"]) if "t_nr_kev" in c else len(c["e_ee_kevee"])
    return np.zeros(n, dtype=bool) if rt is None else np.asarray(rt) == 1


def scintillator_steps(det, gen_meta: dict | None = None) -> list[Step]:
    sc: ScintillatorConfig = det.scintillator
    ps = sc.photosensor
    gen_meta = gen_meta or {}
    if sc.pe_time_reference == "beam" and gen_meta and not gen_meta.get("pulsed"):
        raise ConfigError("scintillator.pe_time_reference = 'beam' needs a pulsed source (time_ns is absolute "
                          "for continuous sources); use 'interaction'")
    quench = det.quenching.build()
    fluct = det.quenching.fluctuation
    qf_z = {int(k): v for k, v in sc.qf_by_z.items()}
    params = kernel_params(sc)

    def quenching(rng, c):
        t, z = c["t_nr_kev"], c["target_z"]
        qf = np.asarray(quench.qf(t, z, c["target_a"]), dtype=np.float64) * np.ones(len(t))
        for zz, q in qf_z.items():
            qf[z == zz] = q
        if fluct > 0:
            qf = np.maximum(qf * (1.0 + fluct * rng.standard_normal(len(t))), 0.0)
        qf[_is_er(c)] = 1.0  # electron recoils: t_nr_kev holds the deposited energy, QF = 1
        return {"e_ee_kevee": qf * t}

    def photodetection(rng, c):
        mean = mean_primary_pe(sc, c["e_ee_kevee"])
        out, jag = photodetect(rng, mean, _is_er(c), c["time_ns"], params)
        out["pe"] = jag
        return out

    provides = {"num_primary_pe": (np.int32, "PE"), "num_pe": (np.int32, "PE"), "charge_pe": (np.float32, "PE")}
    if sc.psd.enabled:
        provides["num_prompt_pe"] = (np.int32, "PE")
    if ps.n_arrays == 2:
        provides.update({"num_pe_a": (np.int32, "PE"), "num_pe_b": (np.int32, "PE")})
    steps = [
        Step("scint_quenching", ("t_nr_kev", "target_z", "target_a"), {"e_ee_kevee": (np.float64, "keVee")},
             quenching),
        Step("photodetection", ("e_ee_kevee", "time_ns"), provides, photodetection, jagged={"pe": dict(PE_FIELDS)}),
    ]
    if sc.psd.enabled:
        lo_cut, hi_cut = sc.psd.f90_min, sc.psd.f90_max

        def pulse_shape(rng, c):
            n = c["num_pe"]
            with np.errstate(invalid="ignore", divide="ignore"):
                f90 = np.where(n > 0, c["num_prompt_pe"] / np.maximum(n, 1), np.nan)
            return {"f90": f90, "psd_pass": (n > 0) & (f90 >= lo_cut) & (f90 <= hi_cut)}

        steps.append(Step("pulse_shape", ("num_pe", "num_prompt_pe"), {"f90": (np.float32, ""),
                                                                     "psd_pass": (np.bool_, "")}, pulse_shape))
    eff = tuple(sc.efficiency_logistic)

    def trigger(rng, c):
        q = c["charge_pe"].astype(np.float64)
        ok = q >= sc.threshold_pe
        if ps.coincidence:
            ok &= (c["num_pe_a"] >= ps.coincidence_pe) & (c["num_pe_b"] >= ps.coincidence_pe)
        if eff:
            a, k, x0, d = eff
            p = np.clip(a / (1.0 + np.exp(-k * (q - x0))) + d, 0.0, 1.0)
            ok &= rng.random(len(q)) < p
        return {"triggered": ok}

    needs = ("charge_pe", "num_pe_a", "num_pe_b") if ps.coincidence else ("charge_pe",)
    steps.append(Step("scint_trigger", needs, {"triggered": (np.bool_, "")}, trigger))
    return steps


def steps(det, geometry: dict, gen_meta: dict) -> list[Step]:
    return scintillator_steps(det, gen_meta)


def metadata(det, gen_meta: dict) -> dict:
    """Analytic figures of the response for the file metadata: PE per keVee, noise PE per window, F90 means."""
    sc: ScintillatorConfig = det.scintillator
    ps, tp = sc.photosensor, sc.time_profile
    lam = ps.crosstalk_lambda
    prim = float(mean_primary_pe(sc, 1.0)) * (sc.pde if sc.light_yield_unit == "photons_per_kevee" else 1.0)
    cells = 1.0 / (1.0 - lam)
    width = sc.window_ns + sc.pretrigger_ns
    light_in_window = {k: float(time_cdf(sc.window_ns, tp.decay_times_ns, tp.weights(e)))
                       for k, e in (("nr", False), ("er", True))}
    out = {"photosensor": ps.kind, "primary_pe_per_kevee": prim, "crosstalk_factor": cells,
           "pe_per_kevee_with_crosstalk": prim * cells,
           "pe_per_kevee_with_correlated_noise": prim * cells * (1.0 + ps.afterpulse_probability
                                                                 * afterpulse_window_ratio(sc)),
           "afterpulses_per_primary_pe": ps.afterpulse_probability * cells,
           "light_in_window_fraction": light_in_window,
           "dark_pe_per_window": ps.total_dark_rate_hz * width * 1e-9 * cells,
           "afterglow_pe_per_window": sc.afterglow_rate_hz * width * 1e-9 * cells}
    if sc.psd.enabled:
        out["prompt_fraction"] = {k: float(prompt_fraction(tp.decay_times_ns, tp.weights(e), sc.psd.prompt_window_ns,
                                                           sc.window_ns)) for k, e in (("nr", False), ("er", True))}
    return {"scintillator": out}
