"""Two-phase liquid-xenon TPC response (XENONnT, LZ, PandaX-4T, RED-100).

Microphysics follows NEST v2 (``NESTCollaboration/nest``, ``src/NEST.cpp``; model review
Szydagis et al., arXiv:2211.10726); every formula below was read in the NEST source and checked
number for number against NEST's Python bindings (nestpy 2.1.3, tests/detsim/test_xenon.py).

Mean yields
    NR (``GetYieldNR``, ``default_NRYieldsParam`` = alpha..kappa2):
        N_q = alpha E^beta,  TI = gamma F^delta (rho / 2.90)^0.3,
        Q_y = [1 - (1 + (E/zeta)^eta)^-kappa1] / [TI (E + epsilon)^p],  L_y = N_q/E - Q_y (both >= 0),
        N_e = Q_y E s,  N_ph = L_y E s [1 - (1 + (E/theta)^iota)^-kappa2],  s = sqrt(M_Xe / A)
        (NEST's per-isotope scale, M_Xe = 131.293 g/mol), exciton/ion split
        N_i = (4/TI)(exp(N_e TI/4) - 1), N_ex = N_e + N_ph - N_i (NEST clamps N_ex/N_i <= 1 below 1 keV
        and >= alpha_W above 100 keV); yields vanish when N_e + N_ph < 1 (``YieldResultValidity``).
    ER (``GetYieldBetaGR`` with all ``ERYieldsParam`` = -1, NEST's default beta model, Rischbieter,
        arXiv:1910.04211): field-dependent sigmoids for Q_y, N_q = E / W, N_ex/N_i = alpha_W erf(0.05 E).
    W (``WorkFunction``): W = (18.7263 - 1.01e-23 n_e) x 1.1716263 eV (``OldW13eV``, the default in
        the XENONnT and LZ files; n_e = rho N_A Z / M), alpha_W = 0.067366 + 0.039693 rho.

Fluctuations (``GetQuanta``, ``default_NRERWidthsParam``)
    NR: N_i ~ Gauss(N_q a, sqrt(F_i N_q a)), N_ex ~ Gauss(N_q a x, sqrt(F_ex N_q a x)) (rounded, >= 0),
        a = 1/(1 + x), x = N_ex/N_i, F_i = F_ex = 0.4.
    ER: N_q ~ Gauss(N_q, sqrt(F N_q)) with F = F_LXe(rho) + 0.001 sqrt(N_q E_drift), N_i ~ Binom(N_q, a).
    Recombination: r = 1 - (1 + x) N_e/N_q; N_e ~ SkewGauss(mean (1 - r) N_i, variance
        r(1 - r) N_i + omega^2 N_i^2, skewness alpha_s) truncated to [0, N_i]; N_ph = N_i + N_ex - N_e.
        NR omega = A' exp(-(f_e - xi)^2 / 2 w^2), f_e = N_e/N_q, (A', xi, w) = (0.04, 0.50, 0.19),
        alpha_s = 2.25; ER omega is a skewed Gaussian in f_e (0.45, 0.205, -0.2) with a field-dependent
        amplitude and the LUX skewness model. The skewness is 0 outside 50-4000 V/cm or N_q > 10^4.
        The location and scale of the skew-normal are corrected so mean and variance are as written.
    Known difference: NR means and widths and ER means agree with nestpy 2.1.3 (NEST v2.4) to <1 %; ER widths
    agree up to ~300 V/cm but are 10-20 % wider than nestpy's at 0.35-3 kV/cm, where the ER omega amplitude of
    the NEST version inside nestpy levels off at ~0.070 instead of the 0.086 of the formula read in the source
    (NEST v2.4.0 as transcribed by XENONnT/appletree). ER is not used for CEvNS signals.

Detector (standard two-phase TPC relations, as in NEST ``GetS1``/``GetS2``)
    S1: N_phd ~ Binom(N_ph, g1_phd); each detected photon gives 1 + Bernoulli(P_dphe) PE, each PE seen with
        the single-PE acceptance (NEST sPEeff, raised by PMT occupancy as in GetS1); area = N_PE +
        Gauss(0, sigma_spe sqrt(N_PE)); an n-fold coincidence is required, drawing a PMT (uniform among
        n_pmts) for each detected photon; s1_pass = coincidence and S1 >= s1_threshold_pe.
        g1[PE/photon] = g1_phd (1 + P_dphe).
    S2: t_drift = (z_gate - z) / v_drift, z_gate = +height/2 of the target geometry (liquid surface);
        survivors ~ Binom(N_e, exp(-t/tau_e)); extracted ~ Binom(., eps_ext); S2 = sum of extracted
        single-electron areas ~ Gauss(G, sigma_G) each, so g2 = eps_ext G. triggered = S2 >= s2_threshold_pe;
        s2_only = triggered and not s1_pass.

Per-event sampling runs in numba kernels that take the chunk's numpy Generator (same stream as numpy);
``sample_quanta_numpy`` is the plain-numpy reference the kernels are tested against.

Package layout (detsim/README.md): ``config`` (constants, :class:`XenonConfig`), ``physics`` (plain-numpy
reference of every formula), the numba kernels split by concept -- ``_yield_kernels`` (mean yields, NR table),
``_quanta_kernels`` (GetQuanta set-up and fluctuations), ``_signal_kernels`` (S1/S2) -- behind ``_kernels`` (their
Python drivers: :class:`QuantaModel`, :func:`sample_quanta`, :func:`s1_response`, :func:`s2_response`), ``steps``
(``xenon_steps``, ``steps``, ``metadata``). Everything is re-exported here, so ``detsim.xenon.<name>`` works as it
did when this was one module.
"""

from ._kernels import (
    MAX_MASS_NUMBER,
    NR_TABLE_E_KEV,
    NR_TABLE_OCTAVES,
    NR_TABLE_SUBBITS,
    SCALE_BY_MASS_NUMBER,
    QuantaModel,
    quanta_model,
    s1_response,
    s2_response,
    sample_quanta,
)
from .config import (
    HIGH_E_NR_KEV,
    NEST_AVOGADRO,
    NEST_ER_WIDTHS,
    NEST_NR_FIELD_RANGE_V_CM,
    NEST_NR_WIDTHS,
    NEST_NR_YIELDS,
    OLD_W_FACTOR,
    RECOIL_ER,
    RECOIL_NR,
    SKEW_FIELD_RANGE_V_CM,
    SKEW_MAX_QUANTA,
    XENON_MOLAR_MASS,
    XENON_REF_DENSITY,
    XENON_Z,
    XenonConfig,
    section_class,
    work_function,
)
from .physics import (
    drift_time_us,
    er_mean_yields,
    mean_yields,
    nr_mean_yields,
    nr_scale_free_yields,
    quanta_moments,
    quanta_parameters,
    sample_quanta_numpy,
)
from .steps import metadata, steps, xenon_steps

# As before the split: __all__ lists the main API; the other names imported above (constants, the model's
# building blocks) are public too.
__all__ = [
    "NEST_ER_WIDTHS", "NEST_NR_FIELD_RANGE_V_CM", "NEST_NR_WIDTHS", "NEST_NR_YIELDS", "QuantaModel", "XenonConfig",
    "er_mean_yields", "mean_yields", "metadata", "nr_mean_yields", "quanta_model", "quanta_moments",
    "quanta_parameters", "sample_quanta", "sample_quanta_numpy", "section_class", "steps", "work_function",
    "xenon_steps",
]
