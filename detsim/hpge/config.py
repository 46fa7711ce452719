"""HPGe settings. ``HPGeConfig`` (the ``section_class``), ``HPGeUnit`` and ``PSDConfig`` stay in detsim/config.py:
``DetectorConfig`` declares them as typed fields (``hpge``, ``psd``), so moving them here would make detsim.config
import detsim.hpge, whose steps import detsim.config (an import cycle). This module names them for the package and
holds its constant."""

from __future__ import annotations

import numpy as np

from ..config import HPGeConfig, HPGeUnit, PSDConfig

__all__ = ["FWHM_PER_SIGMA", "HPGeConfig", "HPGeUnit", "PSDConfig", "section_class"]

section_class = HPGeConfig

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
