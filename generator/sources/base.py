"""What every neutrino source provides: components with a spectrum, a flavour, a fluence and a time model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Component", "PulseShape", "Source", "pdf_from_grid", "trapezoid"]


def trapezoid(y, x) -> float:
    return float(np.trapezoid(y, x))


def pdf_from_grid(energy_mev, density) -> tuple[np.ndarray, np.ndarray]:
    """Validate a tabulated spectrum and normalise it to unit integral (piecewise linear)."""
    e = np.asarray(energy_mev, dtype=np.float64)
    d = np.asarray(density, dtype=np.float64)
    if e.ndim != 1 or e.shape != d.shape or e.size < 2:
        raise ValueError("a spectrum needs two equally long 1-D columns with at least 2 rows")
    if not np.all(np.isfinite(e)) or not np.all(np.isfinite(d)):
        raise ValueError("a spectrum contains non-finite values")
    if np.any(np.diff(e) <= 0):
        raise ValueError("spectrum energies must be strictly increasing")
    if e[0] < 0:
        raise ValueError(f"spectrum energies must be >= 0 MeV, got {e[0]}")
    if np.any(d < 0):
        raise ValueError("spectrum densities must be >= 0")
    norm = trapezoid(d, e)
    if norm <= 0:
        raise ValueError("spectrum integrates to zero")
    return e, d / norm


@dataclass(frozen=True)
class PulseShape:
    """Time profile of the protons on target within one beam pulse (ns, centred on 0).

    kind: 'gaussian' (sigma_ns), 'flat' (width_ns), 'double_gaussian' (two bunches of sigma_ns,
    separation_ns apart, equal intensity).
    """

    kind: str = "gaussian"
    sigma_ns: float = 150.0
    width_ns: float = 0.0
    separation_ns: float = 0.0

    def density(self, t_ns):
        t = np.asarray(t_ns, dtype=np.float64)
        if self.kind == "gaussian":
            return np.exp(-0.5 * (t / self.sigma_ns) ** 2) / (np.sqrt(2 * np.pi) * self.sigma_ns)
        if self.kind == "flat":
            return np.where(np.abs(t) <= 0.5 * self.width_ns, 1.0 / self.width_ns, 0.0)
        if self.kind == "double_gaussian":
            h = 0.5 * self.separation_ns
            g = lambda x: np.exp(-0.5 * (x / self.sigma_ns) ** 2) / (np.sqrt(2 * np.pi) * self.sigma_ns)  # noqa: E731
            return 0.5 * (g(t - h) + g(t + h))
        raise ValueError(f"unknown pulse shape {self.kind!r}")


@dataclass(frozen=True)
class Component:
    """One neutrino flux component.

    The spectrum is either a line (``line_mev``) or a normalised piecewise-linear pdf on
    ``energy_mev``. ``fluence_cm2`` is the number of neutrinos per cm^2 over the whole exposure;
    ``flux_cm2_s`` the mean flux during live time. ``decay_times_ns`` are the mean lives convolved with
    the proton pulse for pulsed sources (pi+: prompt; pi+ then mu+: delayed); empty for continuous ones.
    """

    name: str
    nu_pdg: int
    fluence_cm2: float
    flux_cm2_s: float
    line_mev: float | None = None
    energy_mev: np.ndarray | None = None
    pdf_per_mev: np.ndarray | None = None
    decay_times_ns: tuple[float, ...] = ()

    def __post_init__(self):
        if (self.line_mev is None) == (self.energy_mev is None):
            raise ValueError(f"component {self.name}: give either a line energy or a tabulated spectrum")

    @property
    def is_line(self) -> bool:
        return self.line_mev is not None

    @property
    def e_max_mev(self) -> float:
        return float(self.line_mev if self.is_line else self.energy_mev[-1])

    def pdf(self, enu_mev):
        """Spectral density (per MeV, unit integral); lines have no density (use ``line_mev``)."""
        if self.is_line:
            raise ValueError(f"component {self.name} is a line at {self.line_mev} MeV")
        return np.interp(enu_mev, self.energy_mev, self.pdf_per_mev, left=0.0, right=0.0)

    def mean_energy_mev(self) -> float:
        if self.is_line:
            return float(self.line_mev)
        return trapezoid(self.energy_mev * self.pdf_per_mev, self.energy_mev)


@dataclass(frozen=True)
class Source:
    """A neutrino source at the detector: its components, exposure and time structure.

    ``live_time_s`` is the detector live time. For pulsed sources ``rep_rate_hz`` and ``pulse`` are set
    and ``n_pulses`` = live time x repetition rate; ``exposure`` records the quantities the normalisation
    was computed from (POT, GWh, fissions, ...), for the file metadata.
    """

    kind: str
    components: tuple[Component, ...]
    live_time_s: float
    rep_rate_hz: float | None = None
    pulse: PulseShape | None = None
    exposure: dict = field(default_factory=dict)

    @property
    def pulsed(self) -> bool:
        return self.rep_rate_hz is not None

    @property
    def n_pulses(self) -> int:
        return int(round(self.live_time_s * self.rep_rate_hz)) if self.pulsed else 0

    @property
    def flux_cm2_s(self) -> float:
        return float(sum(c.flux_cm2_s for c in self.components))
