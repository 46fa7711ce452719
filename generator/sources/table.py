"""Spectra from text tables: user-supplied fluxes and the shipped solar shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Component, Source, pdf_from_grid, trapezoid

__all__ = ["read_spectrum_table", "table_source"]


def read_spectrum_table(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a two-column CSV (``#`` comments, one header line allowed): energy in MeV, density per MeV."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"spectrum table {str(path)!r} does not exist")
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f for f in line.replace(",", " ").replace(";", " ").split()]
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            if not rows:  # a header line
                continue
            raise ValueError(f"{path}:{lineno}: cannot read numbers from {line!r}") from None
        if len(vals) < 2:
            raise ValueError(f"{path}:{lineno}: expected 2 columns (energy_mev, flux), got {line!r}")
        rows.append(vals[:2])
    if len(rows) < 2:
        raise ValueError(f"{path}: a spectrum table needs at least 2 rows of (energy_mev, flux)")
    arr = np.array(rows)
    try:
        pdf_from_grid(arr[:, 0], arr[:, 1])
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return arr[:, 0], arr[:, 1]


def table_source(*, file, nu_pdg: int, live_days: float, flux_scale: float = 1.0, name: str = "table") -> Source:
    """A continuous source whose differential flux (cm^-2 s^-1 MeV^-1) is tabulated in ``file``."""
    e, phi = read_spectrum_table(file)
    flux = trapezoid(phi, e) * flux_scale
    live_s = live_days * 86400.0
    comp = Component(name, int(nu_pdg), flux * live_s, flux, None, *pdf_from_grid(e, phi))
    return Source("table", (comp,), live_s, exposure={"live_days": live_days, "file": str(file)})
