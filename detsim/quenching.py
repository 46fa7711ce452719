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

Germanium models (compared in scripts/ge_quenching_comparison.py, as in arXiv:2502.12308)
-----------------------------------------------------------------------------------------
lindhard          with k unset: Lindhard's own k = 0.133 Z^(2/3) A^(-1/2) = 0.157 for Ge (no published sigma).
lindhard_adiabatic
                 Lindhard x adiabatic correction 1 - exp(-E_nr / xi) (Scholz et al., PRD 94, 122003 (2016),
                 arXiv:1608.03588, "a Lindhard model with a free electronic energy loss k and an adiabatic
                 correction for sub-keVnr nuclear recoils"): k = 0.179 +- 0.001 (abstract), xi = 0.16 keVnr (the
                 fit constant as implemented after 1608.03588 in the SNuDD code, k = 0.1789, xi = 0.16 [V-code]).
                 The abstract's check: QF = 13.7 % at 0.3 keVnr and 25.3 % at 8.5 keVnr. ``variation`` moves k.
dresden_fef      the Dresden-II iron-filtered-neutron ("Fef") curve, data/quenching/dresden2_fef_ybe.csv
                 (PRL 129, 211802 (2022); curve of Collar, Kavner & Lewis, arXiv:2102.10089), 0-4.5 keVnr;
                 above 4.5 keVnr Lindhard k = 0.157, which the curve already equals above 1.6 keVnr. No +-1 sigma.
dresden_ybe      the Dresden-II 88Y/Be photoneutron ("YBe") curve from the same file; above 4.5 keVnr Lindhard with
                 k = 0.16590 matched to the curve's last point [ASSUMED continuation]. No +-1 sigma.
conus_2022       the CONUS measurement (Bonhomme et al., EPJC 82, 815 (2022), arXiv:2202.03754, 0.4-6.3 keVnr):
                 its Lindhard fit k = 0.162 +- 0.004 (stat+sys), adopted by CONUS+. The individual measured points
                 were not reachable in the stored sources: only the fit is shipped.

Silicon (Skipper CCDs, detsim.ccd)
----------------------------------
si_chavarria     the DAMIC CCD measurement (Chavarria et al., PRD 94, 082007 (2016), arXiv:1608.00957),
                 data/quenching/si_chavarria2016.csv, 0.68-2.28 keVnr (QF 8.8-17.1 %, well below Lindhard k = 0.15),
                 interpolated linearly in QF. Below 0.68 keVnr: Lindhard (k = 0.15) scaled to the first point
                 [ASSUMED extrapolation]; above 2.28 keVnr: Lindhard with the k that meets the last point,
                 SI_CHAVARRIA_TAIL_K [ASSUMED continuation]. No +-1 sigma (the table's keVnr errors are not
                 propagated). For Lindhard in Si use model = "lindhard", k = 0.15.

Every model takes ``variation`` (shift in units of its 1 sigma; e.g. +1/-1 for systematics) and an
optional relative event-by-event fluctuation of the QF.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from generator._data import csv_columns
from generator._validate import ConfigError

__all__ = ["GE_MODELS", "QUENCHING_MODELS", "RECOIL_CODE", "RECOIL_ER", "RECOIL_HEAT_ONLY", "RECOIL_NR",
           "RECOIL_SENSOR", "QuenchingModel", "coherent_csi_qf", "coherent_lar_qf", "dresden_qf",
           "lindhard_adiabatic_qf", "lindhard_qf", "si_chavarria_qf", "visible_yield"]

# The detsim stream's recoil_type column, in one place: nuclear recoils are quenched, electron recoils (t_nr_kev
# holds their deposited energy) are not, heat-only events (a calorimeter's low-energy excess) and sensor-only events
# (a CCD's dark-current clusters) give no ionisation or light.
RECOIL_NR, RECOIL_ER, RECOIL_HEAT_ONLY, RECOIL_SENSOR = 0, 1, 2, 3
RECOIL_CODE = {"nr": RECOIL_NR, "er": RECOIL_ER, "heat_only": RECOIL_HEAT_ONLY, "sensor": RECOIL_SENSOR}


def visible_yield(qf, recoil_type=None) -> np.ndarray:
    """Visible (ionisation or scintillation) energy per unit of deposited energy, per event: the quenching factor
    ``qf`` for nuclear recoils, 1 for electron recoils, 0 for heat-only and sensor-only events."""
    qf = np.asarray(qf, dtype=np.float64)
    if recoil_type is None:  # a bare generator chunk: nuclear recoils only
        return qf
    rt = np.asarray(recoil_type)
    return np.where(rt == RECOIL_ER, 1.0, np.where(rt >= RECOIL_HEAT_ONLY, 0.0, qf))

QUENCHING_MODELS = ("lindhard", "coherent_csi", "coherent_lar", "constant", "table", "lindhard_adiabatic",
                    "dresden_fef", "dresden_ybe", "conus_2022", "si_chavarria")
# The germanium models of the QF comparison (scripts/ge_quenching_comparison.py).
GE_MODELS = ("lindhard", "lindhard_adiabatic", "dresden_fef", "dresden_ybe", "conus_2022")

# Scholz et al. 2016 (arXiv:1608.03588): k = 0.179 +- 0.001 [abstract]; xi = 0.16 keVnr [V-code, SNuDD].
ADIABATIC_K, ADIABATIC_K_SIGMA, ADIABATIC_XI_KEV = 0.179, 0.001, 0.16
# Bonhomme et al. 2022 (arXiv:2202.03754): k = 0.162 +- 0.004 [abstract].
CONUS_2022_K, CONUS_2022_K_SIGMA = 0.162, 0.004
# Continuations of the Dresden-II curves above their last point (4.5 keVnr): Lindhard k = 0.157 for Fef (the curve
# is Lindhard 0.157 above 1.6 keVnr) and k matched to the YBe curve at 4.5 keVnr [ASSUMED].
DRESDEN_FILE = ("quenching", "dresden2_fef_ybe.csv")
DRESDEN_TAIL_K = {"fef": 0.157, "ybe": 0.16590}
# Models whose parameters are fixed by their publication (k is not a free parameter there).
_FIXED = {"dresden_fef", "dresden_ybe", "conus_2022", "si_chavarria"}
_NO_SIGMA = {"dresden_fef", "dresden_ybe", "table", "coherent_csi", "si_chavarria"}
SI_CHAVARRIA_FILE = ("quenching", "si_chavarria2016.csv")
SI_HEAD_K = 0.15  # Lindhard k whose shape extrapolates the Si curve below its first point

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


def lindhard_adiabatic_qf(t_kevnr, z, k, xi_kev):
    """Lindhard QF times the adiabatic correction 1 - exp(-E_nr/xi) (Scholz et al. 2016, arXiv:1608.03588)."""
    t = np.asarray(t_kevnr, dtype=np.float64)
    return lindhard_qf(t, z, k) * -np.expm1(-t / xi_kev)


@lru_cache(maxsize=1)
def _dresden_table():
    c = csv_columns(*DRESDEN_FILE)
    return c["kevnr"], {"fef": c["qf_fef"], "ybe": c["qf_ybe"]}


def dresden_qf(t_kevnr, curve: str = "fef"):
    """The Dresden-II Fef or YBe germanium QF (keVnr); Lindhard continuation above the table (see module doc)."""
    if curve not in DRESDEN_TAIL_K:
        raise ValueError(f"dresden curve {curve!r}: allowed fef, ybe")
    x, ys = _dresden_table()
    t = np.asarray(t_kevnr, dtype=np.float64)
    return np.where(t <= x[-1], np.interp(t, x, ys[curve]), lindhard_qf(t, 32, DRESDEN_TAIL_K[curve]))


@lru_cache(maxsize=1)
def si_chavarria_table():
    """(keVnr, QF) of the Chavarria et al. 2016 silicon measurement."""
    c = csv_columns(*SI_CHAVARRIA_FILE)
    return c["kevnr"], c["kevee"] / c["kevnr"]


@lru_cache(maxsize=1)
def si_chavarria_tail_k() -> float:
    """Lindhard k (Z = 14) equal to the measured QF at the table's last point (continuity above it)."""
    x, y = si_chavarria_table()
    g = lindhard_qf(x[-1], 14, 1.0) / (1.0 - lindhard_qf(x[-1], 14, 1.0))  # k g / (1 + k g) at k = 1 -> g
    return float(y[-1] / (1.0 - y[-1]) / g)


def si_chavarria_qf(t_kevnr):
    """QF of silicon recoils (keVnr) after Chavarria et al. 2016, with the continuations of the module doc."""
    x, y = si_chavarria_table()
    t = np.asarray(t_kevnr, dtype=np.float64)
    head = lindhard_qf(t, 14, SI_HEAD_K) * (y[0] / lindhard_qf(x[0], 14, SI_HEAD_K))
    tail = lindhard_qf(t, 14, si_chavarria_tail_k())
    return np.where(t < x[0], head, np.where(t > x[-1], tail, np.interp(t, x, y)))


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
    xi_kev: float | None = None  # lindhard_adiabatic: adiabatic-correction energy (default 0.16 keVnr)

    def __post_init__(self):
        m = self.model
        if m not in QUENCHING_MODELS:
            raise ConfigError(f"quenching.model = {m!r}: allowed {', '.join(QUENCHING_MODELS)}")
        if m in _FIXED and (self.k is not None or self.k_sigma):
            raise ConfigError(f"quenching.k / k_sigma: the {m} model has its published parameters; use 'lindhard' "
                              "for a free k")
        if m in _NO_SIGMA and self.variation:
            raise ConfigError(f"quenching.variation = {self.variation}: no +-1 sigma is published for the {m} "
                              "model" + (" (use syst0 / syst1)" if m == "coherent_csi" else ""))
        if m == "lindhard" and self.variation and self.k_sigma <= 0:
            raise ConfigError("quenching.variation needs quenching.k_sigma > 0 for the 'lindhard' model")
        if m == "lindhard_adiabatic" and self.k is not None and self.variation and self.k_sigma <= 0:
            raise ConfigError("quenching.variation with a custom k needs quenching.k_sigma > 0")
        if self.xi_kev is not None and (m != "lindhard_adiabatic" or not self.xi_kev > 0):
            raise ConfigError(f"quenching.xi_kev = {self.xi_kev}: only for 'lindhard_adiabatic', and > 0")
        if self.k is not None and not self.k > 0:
            raise ConfigError(f"quenching.k = {self.k}: must be > 0")

    def lindhard_k_and_sigma(self):
        """(k, sigma_k) of the Lindhard-family models (lindhard, conus_2022, lindhard_adiabatic); k is None for
        'lindhard' without a custom k (the standard k of each nucleus)."""
        if self.model == "conus_2022":
            return CONUS_2022_K, CONUS_2022_K_SIGMA
        if self.model == "lindhard_adiabatic" and self.k is None:
            return ADIABATIC_K, ADIABATIC_K_SIGMA
        return self.k, self.k_sigma

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
        if self.model in ("conus_2022", "lindhard_adiabatic"):
            k, ks = self.lindhard_k_and_sigma()
            k = k + self.variation * ks
            if self.model == "conus_2022":
                return lindhard_qf(t, z, k)
            return lindhard_adiabatic_qf(t, z, k, ADIABATIC_XI_KEV if self.xi_kev is None else self.xi_kev)
        if self.model in ("dresden_fef", "dresden_ybe"):
            return dresden_qf(t, self.model.split("_")[1])
        if self.model == "si_chavarria":
            return si_chavarria_qf(t)
        raise ValueError(f"unknown quenching model {self.model!r}; allowed: {', '.join(QUENCHING_MODELS)}")

    def quench(self, rng, t_kevnr, z, a):
        """Electron-equivalent energy (keVee) of each recoil, with the event-by-event QF fluctuation."""
        qf = self.qf(t_kevnr, z, a)
        if self.fluctuation > 0:
            qf = np.maximum(qf * (1.0 + self.fluctuation * rng.standard_normal(qf.shape)), 0.0)
        return qf * np.asarray(t_kevnr, dtype=np.float64)

    def quench_by_type(self, rng, t_kevnr, z, a, recoil_type=None):
        """Visible energy (keVee) of each event of any recoil type: ``quench`` for nuclear recoils, the deposited
        energy for electron recoils, 0 for heat-only and sensor-only events (see ``visible_yield``). The QF
        fluctuation is drawn for every event, so the draws do not depend on the mix of types."""
        e = self.quench(rng, t_kevnr, z, a)
        if recoil_type is None:
            return e
        rt = np.asarray(recoil_type)
        # every other type's visible energy is its deposit times its fixed yield (1 for ER, 0 without ionisation)
        return np.where(rt == RECOIL_NR, e, visible_yield(0.0, rt) * np.asarray(t_kevnr, dtype=np.float64))
