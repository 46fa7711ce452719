"""Detector simulation as a chain of small steps, each declaring the columns it needs and provides.

The chain is checked when it is built: a step whose inputs nobody provides is an error naming the step
and the column, before any event is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Chain", "ChainError", "Step", "target_geometry"]


class ChainError(ValueError):
    """A step needs a column that neither the input file nor an earlier step provides."""


@dataclass(frozen=True)
class Step:
    """One physics step: ``func(rng, columns) -> new columns`` (all arrays of the chunk's length)."""

    name: str
    needs: tuple[str, ...]
    provides: dict  # column -> (dtype, unit)
    func: Callable[[np.random.Generator, dict], dict]
    jagged: dict = field(default_factory=dict)  # group -> {field: (dtype, unit)} produced by this step


@dataclass
class Chain:
    steps: list[Step]
    inputs: dict  # column -> (dtype, unit) available from the input file

    def __post_init__(self):
        have = set(self.inputs)
        for step in self.steps:
            missing = [c for c in step.needs if c not in have]
            if missing:
                raise ChainError(f"step {step.name!r} needs column(s) {', '.join(missing)}, which neither the "
                                 f"input nor an earlier step provides (available: {', '.join(sorted(have))})")
            have |= set(step.provides)

    @property
    def provides(self) -> dict:
        out = {}
        for s in self.steps:
            out.update(s.provides)
        return out

    @property
    def jagged(self) -> dict:
        out = {}
        for s in self.steps:
            out.update(s.jagged)
        return out

    def run(self, rng: np.random.Generator, columns: dict) -> tuple[dict, dict]:
        cols = dict(columns)
        jag: dict = {}
        for s in self.steps:
            new = s.func(rng, cols)
            for k, (dt, _) in s.provides.items():
                cols[k] = np.asarray(new[k], dtype=dt)
            for g in s.jagged:
                jag[g] = new[g]
        return cols, jag


def target_geometry(gen_meta: dict) -> dict:
    """The active volume of the generator run (its [target.geometry]) from a file's metadata."""
    cfg = gen_meta.get("config") or gen_meta.get("generator_config") or {}
    return cfg.get("target", {}).get("geometry", {"shape": "cylinder", "radius_cm": 10.0, "height_cm": 20.0})
