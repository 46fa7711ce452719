"""Physical constants and unit conversions: the one place where numbers from outside live.

Conventions of the whole package: neutrino energies in MeV, recoil energies in keV, lengths in cm
(nuclear sizes in fm), times in ns, masses in kg. Natural-unit cross sections become areas only in
:func:`generator.cross_section` through :data:`HBARC_MEV_CM` squared.
"""

from __future__ import annotations

import math

__all__ = [
    "AMU_MEV",
    "AVOGADRO",
    "FERMI_CONSTANT_MEV2",
    "HBARC_MEV_CM",
    "HBARC_MEV_FM",
    "JOULE_PER_MEV",
    "M_ELECTRON_MEV",
    "M_MUON_MEV",
    "M_PION_MEV",
    "M_PROTON_MEV",
    "NS_PER_DAY",
    "NS_PER_S",
    "PDG",
    "SIN2_THETA_W_LOW_Q2",
    "TAU_MUON_NS",
    "TAU_PION_NS",
    "COUPLING_SETS",
    "CM2_PER_M2",
]

# Fermi constant, PDG 2024 (G_F/(hbar c)^3 = 1.1663788(6)e-5 GeV^-2); 1e-6 converts GeV^-2 -> MeV^-2.
FERMI_CONSTANT_MEV2 = 1.1663787e-5 * 1e-6
# hbar*c, CODATA 2018.
HBARC_MEV_FM = 197.3269804
HBARC_MEV_CM = HBARC_MEV_FM * 1e-13
# Atomic mass unit in MeV, CODATA 2018.
AMU_MEV = 931.49410242
# Particle masses, PDG 2024.
M_ELECTRON_MEV = 0.51099895
M_PROTON_MEV = 938.27208816
M_MUON_MEV = 105.6583755
M_PION_MEV = 139.57039
# Mean lifetimes, PDG 2024: pi+ 26.033 ns, mu+ 2.1969811 us.
TAU_PION_NS = 26.033
TAU_MUON_NS = 2196.9811
# SI exact values.
AVOGADRO = 6.02214076e23
JOULE_PER_MEV = 1.602176634e-13

NS_PER_S = 1e9
NS_PER_DAY = 86400.0 * NS_PER_S
CM2_PER_M2 = 1e4

# Weak mixing angle at zero momentum transfer in the MS-bar scheme:
# Erler & Ferro-Hernandez, JHEP 03 (2018) 196: sin^2 theta_W(0) = 0.23868(5)(2).
SIN2_THETA_W_LOW_Q2 = 0.23868

# Vector couplings of the neutrino to protons and neutrons.
#  "radiative": radiatively corrected values of PDG/Erler as used by COHERENT's rate code
#               (dukecevns xscns.cc, sm_vector_couplings): g_V^p = 0.0298, g_V^n = -0.5117.
#  "tree": tree level from sin^2 theta_W: g_V^p = 1/2 - 2 sin^2 theta_W, g_V^n = -1/2.
COUPLING_SETS = ("radiative", "tree")
_RADIATIVE_GVP = 0.0298
_RADIATIVE_GVN = -0.5117

# PDG Monte Carlo particle codes of the neutrinos.
PDG = {"nu_e": 12, "anti_nu_e": -12, "nu_mu": 14, "anti_nu_mu": -14, "nu_tau": 16, "anti_nu_tau": -16}


def vector_couplings(scheme: str = "radiative", sin2_theta_w: float = SIN2_THETA_W_LOW_Q2) -> tuple[float, float]:
    """Return (g_V^p, g_V^n) for a coupling scheme (see :data:`COUPLING_SETS`)."""
    if scheme == "radiative":
        return _RADIATIVE_GVP, _RADIATIVE_GVN
    if scheme == "tree":
        return 0.5 - 2.0 * sin2_theta_w, -0.5
    raise ValueError(f"unknown coupling scheme {scheme!r}; allowed: {', '.join(COUPLING_SETS)}")


# Prompt nu_mu energy from pi+ -> mu+ nu_mu at rest: (m_pi^2 - m_mu^2) / (2 m_pi) = 29.79 MeV.
E_PROMPT_NUMU_MEV = (M_PION_MEV**2 - M_MUON_MEV**2) / (2.0 * M_PION_MEV)
# Michel endpoint of mu+ decay at rest.
E_MICHEL_MAX_MEV = M_MUON_MEV / 2.0

__all__ += ["vector_couplings", "E_PROMPT_NUMU_MEV", "E_MICHEL_MAX_MEV"]

assert math.isclose(E_PROMPT_NUMU_MEV, 29.79, abs_tol=0.01)
