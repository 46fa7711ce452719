"""Solar neutrinos (nu_e at production; CEvNS is flavour blind in the SM, so oscillations do not matter).

Total fluxes at Earth: B16 standard solar model, Vinyoles et al., ApJ 835, 202 (2017), Table 7
(GS98 and AGSS09met compositions). Shapes: 8B from Winter et al., PRC 73, 025503 (2006); pp, hep,
13N, 15O, 17F continuous spectra from Bahcall's tables (files in data/solar/, sources inside);
7Be and pep are lines.
"""

from __future__ import annotations

from ..constants import PDG
from .._data import data_path
from .base import Component, Source, pdf_from_grid
from .table import read_spectrum_table

__all__ = ["SOLAR_COMPONENTS", "SOLAR_MODELS", "solar_source"]

# cm^-2 s^-1; B16 (Vinyoles et al. 2017).
SOLAR_MODELS = {
    "b16_gs98": {"pp": 5.98e10, "pep": 1.44e8, "hep": 7.98e3, "be7": 4.93e9, "b8": 5.46e6,
                 "n13": 2.78e8, "o15": 2.05e8, "f17": 5.28e6},
    "b16_agss09met": {"pp": 6.03e10, "pep": 1.46e8, "hep": 8.25e3, "be7": 4.50e9, "b8": 4.50e6,
                      "n13": 2.04e8, "o15": 1.44e8, "f17": 3.26e6},
}
SOLAR_COMPONENTS = ("pp", "pep", "hep", "be7", "b8", "n13", "o15", "f17")
_SHAPE_FILES = {"pp": "pp.csv", "hep": "hep.csv", "b8": "b8_winter2006.csv", "n13": "n13.csv",
                "o15": "o15.csv", "f17": "f17.csv"}
# 7Be electron capture: lines at 861.8 and 384.3 keV (Bahcall, PRD 49, 3923 (1994)); the branch to the
# 477.6 keV 7Li state is the 477.6 keV gamma intensity, 10.44(4) % (current nuclear data), so 89.56 / 10.44 %.
# pep line at 1.442 MeV.
BE7_LINES_MEV = ((0.8618, 0.8956), (0.3843, 0.1044))
PEP_LINE_MEV = 1.442


def solar_source(*, live_days: float, components=SOLAR_COMPONENTS, model: str = "b16_gs98",
                 b8_flux_cm2_s: float | None = None) -> Source:
    fluxes = dict(SOLAR_MODELS[model])
    if b8_flux_cm2_s is not None:
        fluxes["b8"] = b8_flux_cm2_s
    live_s = live_days * 86400.0
    nue = PDG["nu_e"]
    comps = []
    for name in components:
        phi = fluxes[name]
        if name == "be7":
            for e_line, br in BE7_LINES_MEV:
                tag = f"be7_{round(e_line * 1000)}"
                comps.append(Component(tag, nue, phi * br * live_s, phi * br, line_mev=e_line))
        elif name == "pep":
            comps.append(Component("pep", nue, phi * live_s, phi, line_mev=PEP_LINE_MEV))
        else:
            e, d = read_spectrum_table(data_path("solar", _SHAPE_FILES[name]))
            comps.append(Component(name, nue, phi * live_s, phi, None, *pdf_from_grid(e, d)))
    return Source("solar", tuple(comps), live_s, exposure={"live_days": live_days, "solar_model": model,
                                                           "b8_flux_cm2_s": fluxes["b8"]})
