"""The generator sample every released analysis folds with its own response."""

from __future__ import annotations

import dataclasses

import numpy as np

from generator.generate import plan_run
from generator.sampler import sample_chunks

__all__ = ["unfolded_sample"]


def unfolded_sample(cfg, n_events: int, seed: int | None, threshold_kevnr: float) -> dict:
    """A fixed-N weighted CEvNS sample (name -> array) of the preset's source, target and exposure, generated above
    ``threshold_kevnr`` and *without* the preset's folded efficiency: the release's response replaces it."""
    recoil = dataclasses.replace(cfg.recoil, efficiency_kevnr=None, efficiency=None, threshold_kevnr=threshold_kevnr)
    plan = plan_run(dataclasses.replace(cfg, recoil=recoil), n_events=n_events, seed=seed, mode="fixed")
    ev = sample_chunks(plan.tables, plan.seed, np.arange(len(plan.sizes)), plan.sizes, plan.chunk_size, plan.weight)
    return {k: np.asarray(v) for k, v in ev.items()}
