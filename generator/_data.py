"""Locate the shipped data directory (tables and presets), installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["csv_columns", "data_path", "read_csv_rows"]


def _data_root() -> Path:
    installed = Path(__file__).parent / "_data"  # wheel: data/ is force-included here
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "data"  # editable install or checkout


def data_path(*parts: str) -> Path:
    return _data_root().joinpath(*parts)


def read_csv_rows(*parts: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (as strings) of a shipped comma-separated table: blank lines and '#' comment lines are
    skipped, the first remaining line is the header."""
    lines = [ln.strip() for ln in data_path(*parts).read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return lines[0].split(","), [ln.split(",") for ln in lines[1:]]


def csv_columns(*parts: str) -> dict:
    """Columns (float arrays) by header name of a shipped all-numeric table (see ``read_csv_rows``)."""
    import numpy as np

    header, rows = read_csv_rows(*parts)
    a = np.array(rows, dtype=np.float64)
    return {name: a[:, j] for j, name in enumerate(header)}
