"""Neutrino sources: pion decay at rest, reactors, the Sun and user tables."""

from .base import Component, PulseShape, Source
from .pion_dar import FACILITIES, pion_dar_source
from .reactor import reactor_source
from .solar import solar_source
from .table import table_source

__all__ = ["FACILITIES", "Component", "PulseShape", "Source", "pion_dar_source", "reactor_source",
           "solar_source", "table_source"]
