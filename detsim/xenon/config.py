"""Constants of the xenon model (NEST) and the validated ``[xenon]`` table of a detector preset.

:func:`work_function` is the one formula kept here rather than in physics.py: the config's default W
(``XenonConfig.w_ev``) is NEST's density-dependent work function, and with it here the modules of the package
import one way (config <- physics <- _*_kernels <- _kernels <- steps). physics.py re-exports it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from generator._validate import ConfigError, option

__all__ = [
    "HIGH_E_NR_KEV", "NEST_AVOGADRO", "NEST_ER_WIDTHS", "NEST_NR_FIELD_RANGE_V_CM", "NEST_NR_WIDTHS", "NEST_NR_YIELDS",
    "OLD_W_FACTOR", "RECOIL_ER", "RECOIL_NR", "SKEW_FIELD_RANGE_V_CM", "SKEW_MAX_QUANTA", "XENON_MOLAR_MASS",
    "XENON_REF_DENSITY", "XENON_Z", "XenonConfig", "section_class", "work_function",
]

# --- constants (NEST NEST.hh / NEST.cpp, read at NESTCollaboration/nest 2024-25) -----------------------------
XENON_REF_DENSITY = 2.90       # g/cm^3, NEST ``DENSITY`` in the Thomas-Imel density scaling
XENON_MOLAR_MASS = 131.293     # g/mol, natural xenon (NEST default molar mass)
XENON_Z = 54.0
NEST_AVOGADRO = 6.0221409e23   # NEST ``NEST_AVO``
OLD_W_FACTOR = 1.1716263232    # NEST ``InfraredER`` applied when OldW13eV (classic ~13.4 eV W) is on
HIGH_E_NR_KEV = 330.0          # NEST warns above the AmBe endpoint ("No data out here")
# NEST default_NRYieldsParam: alpha, beta, gamma, delta, epsilon, zeta, eta, theta, iota, p, kappa1, kappa2
NEST_NR_YIELDS = (11.0, 1.1, 0.0480, -0.0533, 12.6, 0.3, 2.0, 0.3, 2.0, 0.5, 1.0, 1.0)
# NEST default_NRERWidthsParam[0:6]: Fano ions, Fano excitons, A', xi, omega, skewness (NR)
NEST_NR_WIDTHS = (0.4, 0.4, 0.04, 0.5, 0.19, 2.25)
# NEST default_NRERWidthsParam[6:11] (ER): Fano (<0: field-dependent slope), min. omega amplitude, centre, width, skew
NEST_ER_WIDTHS = (-0.001, 0.046452, 0.45, 0.205, -0.2)
# Range of drift fields where the NEST NR model is backed by data: the NR fits of arXiv:2211.10726 use data from
# tens of V/cm (XENON10/LUX/XENONnT at 23 V/cm) to a few kV/cm; NEST's own skewness model covers 50-4000 V/cm and
# execNEST warns at zero field and above 12 kV/cm. Outside this range we warn; a field <= 0 is an error.
NEST_NR_FIELD_RANGE_V_CM = (10.0, 4000.0)
SKEW_FIELD_RANGE_V_CM = (50.0, 4000.0)  # NEST GetQuanta: skewness 0 outside this range or for N_q > 1e4
SKEW_MAX_QUANTA = 1e4

from ..quenching import RECOIL_ER, RECOIL_NR  # noqa: E402  the detsim stream's recoil_type codes


# --- configuration ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class XenonConfig:
    """[xenon] table of a detector preset."""

    drift_field_v_cm: float = option(100.0, unit="V/cm", doc="drift field in the liquid", gt=0)
    density_g_cm3: float = option(2.90, unit="g/cm3", doc="liquid-xenon density (NEST SetDensity(T, p))", gt=0)
    w_value_ev: float | None = option(None, unit="eV", doc="work function W (default: NEST's density-dependent "
                                      "value with OldW13eV, ~13.4 eV)", gt=0)
    nr_yield_params: list[float] = option(default_factory=lambda: NEST_NR_YIELDS,
                                          doc="NEST NRYieldsParam (12 values: alpha..kappa2)")
    nr_width_params: list[float] = option(default_factory=lambda: NEST_NR_WIDTHS,
                                          doc="NEST NRERWidthsParam[0:6]: Fano ions, Fano excitons, A', xi, "
                                          "omega, skewness")
    g1_phd: float = option(0.12, unit="phd/photon", doc="photon detection efficiency g1 (detected photons)",
                           gt=0, le=1)
    p_dphe: float = option(0.2, doc="double-photoelectron emission probability", ge=0, lt=1)
    spe_efficiency: float = option(1.0, doc="single-photoelectron acceptance (NEST sPEeff): a detected photon's PE "
                                   "is seen with this probability, raised by PMT occupancy as in NEST's GetS1; "
                                   "applied on top of g1_phd", gt=0, le=1)
    spe_resolution: float = option(0.4, unit="PE", doc="single-PE area resolution (Gaussian sigma)", ge=0)
    n_pmts: int = option(400, doc="number of active PMTs (S1 coincidence)", ge=1)
    s1_coincidence: int = option(3, doc="S1 needs photons in at least this many PMTs", ge=1)
    s1_threshold_pe: float = option(0.0, unit="PE", doc="S1 area threshold", ge=0)
    drift_velocity_cm_us: float = option(0.15, unit="cm/us", doc="electron drift velocity", gt=0)
    electron_lifetime_us: float = option(10000.0, unit="us", doc="free-electron lifetime (> 0; inf allowed)", gt=0)
    extraction_efficiency: float = option(0.75, doc="liquid-to-gas electron extraction efficiency", gt=0, le=1)
    se_gain_pe: float = option(30.0, unit="PE/electron", doc="mean S2 area of one extracted electron", gt=0)
    se_gain_sigma_pe: float = option(6.0, unit="PE", doc="Gaussian spread of one electron's S2 area", ge=0)
    s2_threshold_pe: float = option(100.0, unit="PE", doc="S2 threshold (trigger)", ge=0)
    gate_z_cm: float | None = option(None, unit="cm", doc="z of the liquid surface/gate (default +height/2)")

    def __post_init__(self):
        f = self.drift_field_v_cm
        lo, hi = NEST_NR_FIELD_RANGE_V_CM
        if not lo <= f <= hi:
            warnings.warn(f"xenon.drift_field_v_cm = {f:g} V/cm is outside the range where NEST's NR yield model "
                          f"is validated ({lo:g}-{hi:g} V/cm); yields are extrapolated", stacklevel=2)
        if len(self.nr_yield_params) != 12:
            raise ConfigError(f"xenon.nr_yield_params: NEST's NR yield model needs 12 values, got "
                              f"{len(self.nr_yield_params)}")
        if len(self.nr_width_params) != 6:
            raise ConfigError(f"xenon.nr_width_params: need 6 values (Fano ions, Fano excitons, A', xi, omega, "
                              f"skewness), got {len(self.nr_width_params)}")
        if self.nr_width_params[0] < 0 or self.nr_width_params[1] < 0:
            raise ConfigError("xenon.nr_width_params: the Fano factors must be >= 0")
        if self.s1_coincidence > self.n_pmts:
            raise ConfigError(f"xenon.s1_coincidence = {self.s1_coincidence}: more than n_pmts = {self.n_pmts}")

    @property
    def g1_pe(self) -> float:
        """g1 in PE per photon: g1_phd (eff + P_dphe (2 eff - eff^2)) with eff the SPE acceptance (the second PE of
        a photon is seen when the first is, or on its own draw: NEST GetS1); g1_phd (1 + P_dphe) at eff = 1."""
        eff = self.spe_efficiency
        return self.g1_phd * (eff + self.p_dphe * (2.0 * eff - eff * eff))

    @property
    def g2_pe(self) -> float:
        """g2 in PE per produced (surviving) electron: extraction efficiency x single-electron gain."""
        return self.extraction_efficiency * self.se_gain_pe

    @property
    def w_ev(self) -> float:
        return self.w_value_ev if self.w_value_ev is not None else work_function(self.density_g_cm3)[0]


section_class = XenonConfig


# --- work function (the config's default W; see the module docstring) ----------------------------------------

def work_function(density=XENON_REF_DENSITY, old_w=True):
    """NEST ``WorkFunction``: (W in eV, exciton/ion ratio alpha_W) at liquid density rho [g/cm^3]."""
    alpha = 0.067366 + density * 0.039693
    e_density = density / XENON_MOLAR_MASS * NEST_AVOGADRO * XENON_Z
    w = 18.7263 - 1.01e-23 * e_density
    return (w * OLD_W_FACTOR if old_w else w), alpha
