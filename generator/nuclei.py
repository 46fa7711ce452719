"""Isotopes, elements and target materials.

Atomic masses: AME2020 (Wang et al., Chinese Phys. C 45, 030003 (2021)).
Natural abundances: IUPAC 2013 isotopic compositions (Meija et al., Pure Appl. Chem. 88, 293 (2016));
Ge and Xe as in ../shared/physics/INPUTS.md section 1.4.
Nuclear mass = atomic mass * u - Z * m_e (electron binding neglected, < 1e-4 relative).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .constants import AMU_MEV, AVOGADRO, M_ELECTRON_MEV, M_PROTON_MEV

__all__ = [
    "ELEMENTS",
    "MASS_CONVENTIONS",
    "Isotope",
    "Material",
    "TargetNucleus",
    "isotope",
    "material",
    "parse_formula",
]

MASS_CONVENTIONS = ("nuclear", "amu", "proton")


@dataclass(frozen=True)
class Isotope:
    symbol: str
    z: int
    a: int
    atomic_mass_u: float
    abundance: float

    @property
    def n(self) -> int:
        return self.a - self.z

    @property
    def name(self) -> str:
        return f"{self.symbol}{self.a}"

    def mass_mev(self, convention: str = "nuclear") -> float:
        """Nuclear mass in MeV under a convention: 'nuclear' (true, default), 'amu' (A*u), 'proton' (A*m_p)."""
        if convention == "nuclear":
            return self.atomic_mass_u * AMU_MEV - self.z * M_ELECTRON_MEV
        if convention == "amu":
            return self.a * AMU_MEV
        if convention == "proton":
            return self.a * M_PROTON_MEV
        raise ValueError(f"unknown mass convention {convention!r}; allowed: {', '.join(MASS_CONVENTIONS)}")


# (A, atomic mass in u, natural abundance) per element, with Z.
_TABLE: dict[str, tuple[int, list[tuple[int, float, float]]]] = {
    "H": (1, [(1, 1.00782503223, 0.999885), (2, 2.01410177812, 0.000115)]),
    "C": (6, [(12, 12.0, 0.9893), (13, 13.00335483507, 0.0107)]),
    "O": (8, [(16, 15.99491461957, 0.99757), (17, 16.99913175650, 0.00038), (18, 17.99915961286, 0.00205)]),
    "F": (9, [(19, 18.99840316273, 1.0)]),
    "Ne": (10, [(20, 19.9924401762, 0.9048), (21, 20.993846685, 0.0027), (22, 21.991385114, 0.0925)]),
    "Na": (11, [(23, 22.9897692820, 1.0)]),
    "Al": (13, [(27, 26.98153841, 1.0)]),
    "Si": (14, [(28, 27.97692653465, 0.92223), (29, 28.97649466490, 0.04685), (30, 29.973770136, 0.03092)]),
    "Ar": (18, [(36, 35.967545105, 0.003336), (38, 37.96273211, 0.000629), (40, 39.9623831237, 0.996035)]),
    "Ca": (20, [
        (40, 39.962590863, 0.96941), (42, 41.95861783, 0.00647), (43, 42.95876644, 0.00135),
        (44, 43.9554816, 0.02086), (46, 45.953689, 0.00004), (48, 47.95252276, 0.00187),
    ]),
    "Ge": (32, [
        (70, 69.92424875, 0.2052), (72, 71.922075826, 0.2745), (73, 72.923458956, 0.0776),
        (74, 73.921177761, 0.3652), (76, 75.921402726, 0.0775),
    ]),
    "I": (53, [(127, 126.9044719, 1.0)]),
    "Xe": (54, [
        (124, 123.905892, 0.00095), (126, 125.9042983, 0.00089), (128, 127.903531, 0.01910),
        (129, 128.9047808611, 0.26401), (130, 129.903509349, 0.04071), (131, 130.90508406, 0.21232),
        (132, 131.9041550856, 0.26909), (134, 133.90539466, 0.10436), (136, 135.907214484, 0.08857),
    ]),
    "Cs": (55, [(133, 132.905451961, 1.0)]),
    "W": (74, [
        (180, 179.9467108, 0.0012), (182, 181.94820394, 0.2650), (183, 182.95022275, 0.1431),
        (184, 183.95093092, 0.3064), (186, 185.9543628, 0.2843),
    ]),
}


def _build_elements() -> dict[str, tuple[Isotope, ...]]:
    out = {}
    for sym, (z, rows) in _TABLE.items():
        total = sum(r[2] for r in rows)
        # IUPAC abundances are rounded; renormalise so each element sums to exactly 1.
        out[sym] = tuple(Isotope(sym, z, a, m, ab / total) for a, m, ab in rows)
    return out


ELEMENTS: dict[str, tuple[Isotope, ...]] = _build_elements()


def isotope(name: str) -> Isotope:
    """Look up an isotope by name such as 'Xe131', '131Xe' or 'Ge-74'."""
    m = re.fullmatch(r"([A-Z][a-z]?)-?(\d+)|(\d+)-?([A-Z][a-z]?)", name.strip())
    if not m:
        raise ValueError(f"cannot parse isotope name {name!r}; write e.g. 'Xe131' or '131Xe'")
    sym, a = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    if sym not in ELEMENTS:
        raise ValueError(f"unknown element {sym!r} in {name!r}; known: {', '.join(sorted(ELEMENTS))}")
    for iso in ELEMENTS[sym]:
        if iso.a == int(a):
            return iso
    known = ", ".join(f"{sym}{i.a}" for i in ELEMENTS[sym])
    raise ValueError(f"unknown isotope {name!r}; known isotopes of {sym}: {known}")


def parse_formula(formula: str) -> list[tuple[str, int]]:
    """Split a chemical formula such as 'CaWO4' into [('Ca', 1), ('W', 1), ('O', 4)]."""
    parts = re.findall(r"([A-Z][a-z]?)(\d*)", formula)
    if not parts or "".join(s + n for s, n in parts) != formula:
        raise ValueError(f"cannot parse chemical formula {formula!r}; write e.g. 'CsI', 'CaWO4', 'Al2O3'")
    out: dict[str, int] = {}
    for sym, count in parts:
        if sym not in ELEMENTS:
            raise ValueError(f"unknown element {sym!r} in {formula!r}; known: {', '.join(sorted(ELEMENTS))}")
        out[sym] = out.get(sym, 0) + (int(count) if count else 1)
    return list(out.items())


@dataclass(frozen=True)
class TargetNucleus:
    """One isotope of a material with the number of such nuclei per kg of material."""

    isotope: Isotope
    nuclei_per_kg: float


@dataclass(frozen=True)
class Material:
    formula: str
    nuclei: tuple[TargetNucleus, ...]
    molar_mass_g: float

    @property
    def isotopes(self) -> tuple[Isotope, ...]:
        return tuple(t.isotope for t in self.nuclei)

    def nuclei_per_kg(self) -> np.ndarray:
        return np.array([t.nuclei_per_kg for t in self.nuclei])


def element_molar_mass_g(symbol: str) -> float:
    return sum(i.abundance * i.atomic_mass_u for i in ELEMENTS[symbol])


def material(formula: str, isotopes: dict[str, float] | None = None) -> Material:
    """Build a target material from its formula with natural isotopic abundances.

    ``isotopes`` optionally replaces natural abundances by an enrichment, e.g. {'Xe136': 0.9, 'Xe134': 0.1}
    (fractions per element, renormalised). Isotopes with zero abundance are dropped.
    """
    composition = parse_formula(formula)
    override: dict[str, dict[int, float]] = {}
    for name, frac in (isotopes or {}).items():
        iso = isotope(name)
        if frac < 0:
            raise ValueError(f"isotope fraction for {name} is {frac}; must be >= 0")
        override.setdefault(iso.symbol, {})[iso.a] = frac
    for sym in override:
        if sym not in dict(composition):
            raise ValueError(f"isotope override for {sym} but {formula!r} contains no {sym}")
    nuclei = []
    molar_mass = 0.0
    per_element = []
    for sym, count in composition:
        isos = ELEMENTS[sym]
        if sym in override:
            fr = np.array([override[sym].get(i.a, 0.0) for i in isos])
            if fr.sum() <= 0:
                raise ValueError(f"isotope fractions for {sym} sum to zero")
            fr = fr / fr.sum()
        else:
            fr = np.array([i.abundance for i in isos])
        molar_mass += count * float(np.dot(fr, [i.atomic_mass_u for i in isos]))
        per_element.append((count, isos, fr))
    molecules_per_kg = 1000.0 / molar_mass * AVOGADRO
    for count, isos, fr in per_element:
        for iso, f in zip(isos, fr, strict=True):
            if f > 0:
                nuclei.append(TargetNucleus(iso, molecules_per_kg * count * f))
    return Material(formula, tuple(nuclei), molar_mass)
