"""Released analyses: published CEvNS measurements redone from the collaborations' public data releases.

Each module builds a :class:`~reco.released.likelihood.ReleasedAnalysis` from the release shipped in
``data/releases/<name>/`` (backgrounds, binning, observed data, systematic variants) and this package's
generator (the CEvNS signal, folded with the analysis' response); :mod:`reco.released.run` fits it.
"""

from __future__ import annotations

import importlib

__all__ = ["ANALYSES", "build_released_analysis", "has_released_analysis"]

# preset name -> module that builds its analysis
ANALYSES = {
    "coherent_csi_2022": "reco.released.coherent_csi",
    "coherent_lar_2020": "reco.released.coherent_lar",
    "dresden_ii_2022": "reco.released.dresden_ii",
    "xenonnt_b8_2024": "reco.released.xenonnt_b8",
}


def has_released_analysis(name: str | None) -> bool:
    return name in ANALYSES


def build_released_analysis(cfg, **kwargs):
    """The ReleasedAnalysis of the preset ``cfg.name`` (signal from ``cfg``, release from data/releases)."""
    module = importlib.import_module(ANALYSES[cfg.name])
    return module.build_analysis(cfg, **kwargs)
