"""Nuclear weak form factors F(q), with q in fm^-1 and F(0) = 1.

- Helm with the Lewin-Smith parameters: Lewin & Smith, Astropart. Phys. 6, 87 (1996), eq. 4.7:
  F = 3 j1(q R0)/(q R0) exp(-q^2 s^2 / 2), s = 0.9 fm, a = 0.52 fm, c = 1.23 A^(1/3) - 0.60 fm,
  R0^2 = c^2 + 7/3 pi^2 a^2 - 5 s^2; rms radius R^2 = 3/5 R0^2 + 3 s^2.
- Klein-Nystrand: Klein & Nystrand, PRC 60, 014903 (1999): hard sphere of radius R_A = 1.2 A^(1/3) fm
  folded with a Yukawa of range a_k = 0.7 fm: F = 3 j1(q R_A)/(q R_A) / (1 + a_k^2 q^2);
  rms radius R^2 = 3/5 R_A^2 + 6 a_k^2.
- Symmetrised Fermi (exact transform): Sprung & Martorell, J. Phys. A 30, 6525 (1997); as used by
  Piekarewicz et al., PRC 94, 034316 (2016); rms radius R^2 = 3/5 c^2 + 7/5 pi^2 a^2.

Each model can be given an rms radius (e.g. a neutron radius different from the proton radius);
without one it uses its default geometry for the mass number A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FORM_FACTOR_MODELS",
    "FormFactor",
    "helm",
    "klein_nystrand",
    "symmetrized_fermi",
]

FORM_FACTOR_MODELS = ("helm", "klein_nystrand", "symmetrized_fermi", "none")

HELM_SKIN_FM = 0.9
LEWIN_SMITH_A_FM = 0.52
KN_YUKAWA_RANGE_FM = 0.7
_SMALL_X = 0.05  # below, series: the closed forms lose ~1e-16/x^3 to cancellation


def _spherical_bessel_ratio(x):
    """3 j1(x)/x, with its Taylor series below x = 0.05 (truncation error < 1e-16)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < _SMALL_X
    x2 = x[small] ** 2
    out[small] = 1.0 - x2 / 10.0 + x2 * x2 / 280.0 - x2**3 / 15120.0
    xl = x[~small]
    out[~small] = 3.0 * (np.sin(xl) - xl * np.cos(xl)) / xl**3
    return out


def lewin_smith_c_fm(a: int) -> float:
    return 1.23 * a ** (1.0 / 3.0) - 0.60


def helm_r0_fm(a: int, rms_radius_fm: float | None = None) -> float:
    """Helm box radius R0: Lewin-Smith default, or from an rms radius via R0^2 = 5/3 (R^2 - 3 s^2)."""
    s = HELM_SKIN_FM
    if rms_radius_fm is None:
        c = lewin_smith_c_fm(a)
        return float(np.sqrt(c * c + 7.0 / 3.0 * np.pi**2 * LEWIN_SMITH_A_FM**2 - 5.0 * s * s))
    r2 = 5.0 / 3.0 * (rms_radius_fm**2 - 3.0 * s * s)
    if r2 <= 0:
        raise ValueError(f"rms radius {rms_radius_fm} fm is too small for a Helm form factor with s = {s} fm")
    return float(np.sqrt(r2))


def helm(q_fm, a: int, rms_radius_fm: float | None = None):
    """Helm form factor (Lewin-Smith parameters unless an rms radius is given)."""
    q = np.asarray(q_fm, dtype=np.float64)
    r0 = helm_r0_fm(a, rms_radius_fm)
    return _spherical_bessel_ratio(q * r0) * np.exp(-0.5 * (q * HELM_SKIN_FM) ** 2)


def klein_nystrand(q_fm, a: int, rms_radius_fm: float | None = None):
    """Klein-Nystrand form factor."""
    q = np.asarray(q_fm, dtype=np.float64)
    ak = KN_YUKAWA_RANGE_FM
    if rms_radius_fm is None:
        ra = 1.2 * a ** (1.0 / 3.0)
    else:
        r2 = 5.0 / 3.0 * (rms_radius_fm**2 - 6.0 * ak * ak)
        if r2 <= 0:
            raise ValueError(f"rms radius {rms_radius_fm} fm is too small for Klein-Nystrand with a_k = {ak} fm")
        ra = np.sqrt(r2)
    return _spherical_bessel_ratio(q * ra) / (1.0 + (ak * q) ** 2)


def symmetrized_fermi(q_fm, a: int, rms_radius_fm: float | None = None, diffuseness_fm: float = LEWIN_SMITH_A_FM):
    """Symmetrised Fermi form factor (exact Fourier transform)."""
    q = np.asarray(q_fm, dtype=np.float64)
    ad = diffuseness_fm
    if rms_radius_fm is None:
        c = lewin_smith_c_fm(a)
    else:
        c2 = 5.0 / 3.0 * rms_radius_fm**2 - 7.0 / 3.0 * np.pi**2 * ad * ad
        if c2 <= 0:
            raise ValueError(f"rms radius {rms_radius_fm} fm is too small for a symmetrised Fermi with a = {ad} fm")
        c = np.sqrt(c2)
    # Small qc: moments of the symmetrised Fermi density, <r^2> = 3/5 c^2 + 7/5 pi^2 a^2 and
    # <r^4> = 3/7 c^4 + 18/7 pi^2 a^2 c^2 + 31/7 pi^4 a^4; F = 1 - q^2<r^2>/6 + q^4<r^4>/120.
    pa2 = (np.pi * ad) ** 2
    r2 = 0.6 * c * c + 1.4 * pa2
    r4 = 3.0 / 7.0 * c**4 + 18.0 / 7.0 * pa2 * c * c + 31.0 / 7.0 * pa2 * pa2
    out = np.asarray(1.0 - q * q * r2 / 6.0 + q**4 * r4 / 120.0, dtype=np.float64)
    nz = q * c > 0.01
    qq = q[nz]
    qc = qq * c
    pa = np.pi * qq * ad
    out[nz] = (
        3.0 / (qc * (qc * qc + pa * pa)) * (pa / np.sinh(pa)) * (pa / np.tanh(pa) * np.sin(qc) - qc * np.cos(qc))
    )
    return out


_MODELS = {"helm": helm, "klein_nystrand": klein_nystrand, "symmetrized_fermi": symmetrized_fermi}


@dataclass(frozen=True)
class FormFactor:
    """A form-factor choice: model name and optional proton / neutron rms radii (fm)."""

    model: str = "helm"
    proton_rms_radius_fm: float | None = None
    neutron_rms_radius_fm: float | None = None

    def __post_init__(self):
        if self.model not in FORM_FACTOR_MODELS:
            raise ValueError(f"unknown form factor {self.model!r}; allowed: {', '.join(FORM_FACTOR_MODELS)}")

    def proton(self, q_fm, a: int):
        return self._eval(q_fm, a, self.proton_rms_radius_fm)

    def neutron(self, q_fm, a: int):
        return self._eval(q_fm, a, self.neutron_rms_radius_fm)

    def _eval(self, q_fm, a, radius):
        if self.model == "none":
            return np.ones_like(np.asarray(q_fm, dtype=np.float64))
        return _MODELS[self.model](q_fm, a, radius)
