"""Event times relative to the beam: absolute time, on-beam and off-beam windows, duty factor.

For a pulsed source every event has a pulse index and a time within the pulse cycle (``time_ns``,
0 = proton-pulse centre). The on-beam window is [on_start_ns, on_start_ns + on_length_ns); the off-beam
(anti-coincidence) window is [off_start_ns, off_start_ns + off_length_ns) in the same cycle, typically
before the pulse. The duty factor of a window is repetition rate x its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BeamWindows", "absolute_time_s"]


@dataclass(frozen=True)
class BeamWindows:
    on_start_ns: float = 0.0
    on_length_ns: float = 6000.0
    off_start_ns: float = -8000.0
    off_length_ns: float = 6000.0

    def on_beam(self, time_ns):
        t = np.asarray(time_ns)
        return (t >= self.on_start_ns) & (t < self.on_start_ns + self.on_length_ns)

    def off_beam(self, time_ns):
        t = np.asarray(time_ns)
        return (t >= self.off_start_ns) & (t < self.off_start_ns + self.off_length_ns)

    def duty_factor(self, rep_rate_hz: float) -> float:
        return rep_rate_hz * self.on_length_ns * 1e-9


def absolute_time_s(pulse_index, time_ns, rep_rate_hz):
    """Seconds since the start of the run: pulse_index / f_rep + time within the pulse."""
    return np.asarray(pulse_index, dtype=np.float64) / rep_rate_hz + np.asarray(time_ns) * 1e-9
