"""Locate the shipped data directory (tables and presets), installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_path"]


def _data_root() -> Path:
    installed = Path(__file__).parent / "_data"  # wheel: data/ is force-included here
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "data"  # editable install or checkout


def data_path(*parts: str) -> Path:
    return _data_root().joinpath(*parts)
