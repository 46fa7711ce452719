"""Quenching: nuclear-recoil energy (keVnr) to electron-equivalent energy (keVee).

Models
------
lindhard         Lindhard et al., Mat. Fys. Medd. Dan. Vid. Selsk. 33, 10 (1963):
                 eps = 11.5 Z^(-7/3) E_nr[keV], g = 3 eps^0.15 + 0.7 eps^0.6 + eps, QF = k g / (1 + k g).
                 Germanium default k = 0.162 +- 0.004 (Bonhomme et al., EPJC 82, 815 (2022),
                 arXiv:2202.03754, adopted by CONUS+); otherwise k = 0.133 Z^(2/3) A^(-1/2).
coherent_csi     COHERENT CsI[Na] 2021 release (arXiv:2111.02477): E_ee[MeV] = a x + b x^2 + c x^3 + d x^4,
                 x = E_nr[MeV], with two independent +-1 sigma coefficient sets (syst0, syst1).
coherent_lar     COHERENT LAr (arXiv:2003.10630 release): QF = 0.246(6) + 0.00078(9) E_nr[keV].
constant         a fixed QF (e.g. 0.0878 for CsI[Na] 2017, COHERENT Science 357, 1123).
table            QF tabulated against keVnr in a CSV file, interpolated linearly.

Every model takes ``variation`` (shift in units of its 1 sigma; e.g. +1/-1 for systematics) and an
optional relative event-by-event fluctuation of the QF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["QUENCHING_MODELS", "QuenchingModel", "coherent_csi_qf", "coherent_lar_qf", "lindhard_qf"]

QUENCHING_MODELS = ("lindhard", "coherent_csi", "coherent_lar", "constant", "table")

# COHERENT CsI[Na] 2021 release, scintRespCoefficients.txt (a, b, c, d) for E in MeV.
CSI_NOMINAL = (0.0554628, 4.30681, -111.707, 840.384)
CSI_SYST = {
    (0, +1): (0.0613632, 3.51547, -85.5548, 595.562),
    (0, -1): (0.0495624, 5.09815, -137.858, 1085.2),
    (1, +1): (0.055413, 3.93597, -93.1045, 630.092),
    (1, -1): (0.0555126, 4.67765, -130.309, 1050.68),
}


def lindhard_qf(t_kevnr, z, k):
    """Lindhard quenching factor (dimensionless) for recoil energies in keVnr on nuclei of charge z."""
    t = np.asarray(t_kevnr, dtype=np.float64)
    eps = 11.5 * np.power(np.asarray(z, dtype=np.float64), -7.0 / 3.0) * t
    g = 3.0 * eps**0.15 + 0.7 * eps**0.6 + eps
    return k * g / (1.0 + k * g)


def lindhard_standard_k(z, a):
    """Lindhard's own k = 0.133 Z^(2/3) A^(-1/2)."""
    return 0.133 * np.power(z, 2.0 / 3.0) / np.sqrt(a)


def coherent_csi_qf(t_kevnr, syst0: float = 0.0, syst1: float = 0.0):
    """QF of the COHERENT CsI[Na] 2021 model; syst0/syst1 shift the coefficients in units of their 1 sigma."""
    coef = np.array(CSI_NOMINAL)
    for i, v in ((0, syst0), (1, syst1)):
        if v:
            side = CSI_SYST[(i, 1 if v > 0 else -1)]
            coef = coef + abs(v) * (np.array(side) - np.array(CSI_NOMINAL))
    x = np.asarray(t_kevnr, dtype=np.float64) * 1e-3
    eee = coef[0] * x + coef[1] * x**2 + coef[2] * x**3 + coef[3] * x**4
    with np.errstate(invalid="ignore", divide="ignore"):
        qf = np.where(x > 0, eee / np.where(x > 0, x, 1.0), coef[0])
    return np.maximum(qf, 0.0)


def coherent_lar_qf(t_kevnr, variation: float = 0.0):
    """COHERENT LAr QF = 0.246 + 0.00078 T (uncertainties 0.006 and 0.00009 moved together by ``variation``)."""
    t = np.asarray(t_kevnr, dtype=np.float64)
    return (0.246 + 0.006 * variation) + (0.00078 + 0.00009 * variation) * t


@dataclass(frozen=True)
class QuenchingModel:
    model: str = "lindhard"
    k: float | None = None
    k_sigma: float = 0.0
    value: float | None = None  # constant model
    value_sigma: float = 0.0
    table_kevnr: tuple = ()
    table_qf: tuple = ()
    variation: float = 0.0  # overall shift in units of 1 sigma (lindhard, coherent_lar, constant)
    syst0: float = 0.0  # coherent_csi components
    syst1: float = 0.0
    fluctuation: float = 0.0  # relative event-by-event spread of the QF

    def qf(self, t_kevnr, z, a):
        """Mean QF for recoils (keVnr) on nuclei (Z, A)."""
        t = np.asarray(t_kevnr, dtype=np.float64)
        if self.model == "lindhard":
            k = lindhard_standard_k(np.asarray(z, float), np.asarray(a, float)) if self.k is None else self.k
            return lindhard_qf(t, z, k + self.variation * self.k_sigma)
        if self.model == "coherent_csi":
            return coherent_csi_qf(t, self.syst0, self.syst1)
        if self.model == "coherent_lar":
            return coherent_lar_qf(t, self.variation)
        if self.model == "constant":
            return np.full_like(t, self.value + self.variation * self.value_sigma)
        if self.model == "table":
            return np.interp(t, self.table_kevnr, self.table_qf)
        raise ValueError(f"unknown quenching model {self.model!r}; allowed: {', '.join(QUENCHING_MODELS)}")

    def quench(self, rng, t_kevnr, z, a):
        """Electron-equivalent energy (keVee) of each recoil, with the event-by-event QF fluctuation."""
        qf = self.qf(t_kevnr, z, a)
        if self.fluctuation > 0:
            qf = np.maximum(qf * (1.0 + self.fluctuation * rng.standard_normal(qf.shape)), 0.0)
        return qf * np.asarray(t_kevnr, dtype=np.float64)
