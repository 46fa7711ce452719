"""Scintillating crystals and liquids read out by SiPMs or PMTs (CryoCsI, CsI[Na], NaI[Tl], LAr).

Chain (one step each)
---------------------
1. ``scint_quenching``: keVnr -> keVee with ``[quenching]`` (per-element constants from ``qf_by_z`` take
   precedence, e.g. Na and I in NaI). A ``recoil_type`` column (0 NR, 1 ER), when the input has one, gives
   electron recoils QF = 1 and the ER time profile; without it every event is a nuclear recoil.
2. ``photodetection`` (numba kernel: one pass per chunk writing straight into the jagged ``pe`` buffers, drawing
   from a xoshiro256++ state seeded by the chunk's ``numpy.random.Generator``):
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

Package layout (detsim/README.md): ``config`` (:class:`ScintillatorConfig` and its sub-tables, PE kinds),
``physics`` (plain-numpy references: analytic expectations, :func:`photodetect_numpy`), ``_kernels`` (the numba
photodetection kernel and its driver :func:`photodetect`), ``steps`` (``scintillator_steps``, ``steps``,
``metadata``). Everything is re-exported here, so ``detsim.scintillator.<name>`` works as it did when this was
one module.
"""

from ._kernels import photodetect, photodetect_loop
from .config import (
    KIND_AFTERGLOW,
    KIND_AFTERPULSE,
    KIND_CROSSTALK,
    KIND_DARK,
    KIND_SCINT,
    PhotosensorConfig,
    ScintillatorConfig,
    ScintPSDConfig,
    TimeProfileConfig,
    section_class,
)
from .physics import (
    KernelParams,
    afterpulse_window_ratio,
    borel_cdf,
    borel_pmf,
    generalised_poisson_moments,
    kernel_params,
    mean_primary_pe,
    photodetect_numpy,
    prompt_fraction,
    time_cdf,
)
from .steps import PE_FIELDS, metadata, scintillator_steps, steps

# As before the split: __all__ lists the main API; the other names imported above (the PE kinds, PE_FIELDS) are
# public too.
__all__ = ["KernelParams", "PhotosensorConfig", "ScintillatorConfig", "ScintPSDConfig", "TimeProfileConfig",
           "afterpulse_window_ratio", "borel_cdf", "borel_pmf", "generalised_poisson_moments", "kernel_params", "mean_primary_pe", "metadata",
           "photodetect", "photodetect_loop", "photodetect_numpy", "prompt_fraction", "scintillator_steps",
           "section_class", "steps", "time_cdf"]
