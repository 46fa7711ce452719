"""Detector configurations: TOML presets in data/detectors/, validated into typed sections."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator._data import data_path
from generator._validate import ConfigError, build, option
from generator.config import apply_override

from .backgrounds import BackgroundConfig
from .quenching import QUENCHING_MODELS, QuenchingModel

__all__ = ["DetectorConfig", "list_detectors", "load_detector"]

# technology -> module implementing it: ``section_class`` (typed config of its TOML section, named like the
# technology), ``steps(det, geometry, gen_meta)`` and ``metadata(det, gen_meta)``.
TECHNOLOGY_MODULES = {"hpge": "detsim.hpge", "xenon": "detsim.xenon", "scintillator": "detsim.scintillator",
                      "calorimeter": "detsim.calorimeter", "ccd": "detsim.ccd"}
TECHNOLOGIES = tuple(TECHNOLOGY_MODULES)


@dataclass(frozen=True)
class QuenchingConfig:
    model: str = option("lindhard", doc="quenching model", allowed=QUENCHING_MODELS)
    k: float | None = option(None, doc="Lindhard k (default: 0.133 Z^2/3 A^-1/2)", gt=0)
    k_sigma: float = option(0.0, doc="1 sigma of k", ge=0)
    value: float | None = option(None, doc="constant QF", gt=0, le=1)
    value_sigma: float = option(0.0, doc="1 sigma of the constant QF", ge=0)
    table_file: str | None = option(None, doc="CSV of kevnr, qf for the 'table' model")
    variation: float = option(0.0, doc="shift of the model in units of its 1 sigma (systematics)", ge=-5, le=5)
    syst0: float = option(0.0, doc="COHERENT CsI component 0 shift (sigma units)", ge=-5, le=5)
    syst1: float = option(0.0, doc="COHERENT CsI component 1 shift (sigma units)", ge=-5, le=5)
    fluctuation: float = option(0.0, doc="relative event-by-event spread of the QF", ge=0, le=1)

    def __post_init__(self):
        if self.model == "constant" and self.value is None:
            raise ConfigError("quenching.value is required for the 'constant' model")
        if self.model == "table" and self.table_file is None:
            raise ConfigError("quenching.table_file is required for the 'table' model")

    def build(self) -> QuenchingModel:
        tx, ty = (), ()
        if self.model == "table":
            from generator.sources.table import read_spectrum_table

            try:
                x, y = read_spectrum_table(self.table_file)
            except ValueError as e:
                raise ConfigError(f"quenching.table_file: {e}") from None
            tx, ty = tuple(x), tuple(y)
        return QuenchingModel(self.model, self.k, self.k_sigma, self.value, self.value_sigma, tx, ty,
                              self.variation, self.syst0, self.syst1, self.fluctuation)


@dataclass(frozen=True)
class TimingConfig:
    on_start_ns: float = option(0.0, unit="ns", doc="start of the on-beam window after the pulse centre")
    on_length_ns: float = option(6000.0, unit="ns", doc="length of the on-beam window", gt=0)
    off_start_ns: float = option(-8000.0, unit="ns", doc="start of the off-beam (anti-coincidence) window")
    off_length_ns: float = option(6000.0, unit="ns", doc="length of the off-beam window", gt=0)


@dataclass(frozen=True)
class HPGeUnit:
    name: str = option("det", doc="detector name")
    mass_kg: float = option(1.0, unit="kg", doc="active mass (share of events)", gt=0)
    threshold_ev: float = option(200.0, unit="eVee", doc="trigger threshold (50 % point)", ge=0)
    trigger_width_ev: float = option(10.0, unit="eVee", doc="Gaussian width of the trigger turn-on", ge=0)
    pulser_fwhm_ev: float = option(60.0, unit="eVee", doc="electronic noise, pulser FWHM", ge=0)


@dataclass(frozen=True)
class HPGeConfig:
    pair_energy_ev: float = option(2.96, unit="eV", doc="energy per electron-hole pair at 77 K", gt=0)
    fano: float = option(0.11, doc="Fano factor", gt=0, le=1)
    energy_scale: float = option(1.0, doc="multiplies the measured energy (calibration)", gt=0)
    detectors: list[HPGeUnit] = option(default_factory=lambda: (HPGeUnit(),), doc="detectors of the array")


@dataclass(frozen=True)
class PSDConfig:
    enabled: bool = option(True, doc="apply the rise-time pulse-shape discrimination")
    surface_model: str = option("geometry", doc="'geometry': slow if the vertex lies in the transition layer; "
                                "'fraction': slow with probability surface_fraction", allowed=("geometry", "fraction"))
    transition_layer_mm: float = option(1.0, unit="mm", doc="thickness of the slow-pulse surface layer", ge=0)
    surface_fraction: float = option(0.0, doc="probability of a slow pulse ('fraction' model)", ge=0, le=1)
    bulk_rise_ns: float = option(250.0, unit="ns", doc="mean rise time of bulk events", gt=0)
    bulk_rise_sigma_ns: float = option(40.0, unit="ns", doc="rise-time spread of bulk events at high energy", gt=0)
    slow_rise_ns: float = option(700.0, unit="ns", doc="mean rise time of slow surface events", gt=0)
    slow_rise_sigma_ns: float = option(150.0, unit="ns", doc="rise-time spread of slow events at high energy", gt=0)
    rise_noise_ns_kev: float = option(60.0, unit="ns keVee", doc="noise term of the spread: adds (this/E)^2", ge=0)
    bulk_acceptance: float = option(0.9, doc="fraction of bulk events kept by the cut (sets the cut)", gt=0, lt=1)


@dataclass(frozen=True)
class DetectorConfig:
    technology: str = option(doc="detector technology", allowed=TECHNOLOGIES)
    name: str = option("unnamed")
    description: str = option("")
    reference: str = option("", doc="where the parameters come from")
    target_material: str | None = option(None, doc="the material this detector is made of (e.g. 'CsI', 'Ge'): "
                                         "detsim refuses generator files of another target")
    quenching: QuenchingConfig = option(default_factory=QuenchingConfig)
    timing: TimingConfig = option(default_factory=TimingConfig)
    hpge: HPGeConfig | None = option(None)
    psd: PSDConfig = option(default_factory=PSDConfig)
    backgrounds: list[BackgroundConfig] = option(default_factory=tuple, doc="backgrounds added to the stream")
    source_off_live_days: float = option(0.0, unit="day", doc="source-off live time (reactor OFF, beam off) "
                                         "for which steady-state backgrounds are generated too", ge=0)
    xenon: Any = option(None, doc="two-phase xenon TPC settings (detsim.xenon)")
    scintillator: Any = option(None, doc="scintillator + photosensor settings (detsim.scintillator)")
    calorimeter: Any = option(None, doc="cryogenic calorimeter settings (detsim.calorimeter)")
    ccd: Any = option(None, doc="Skipper-CCD settings (detsim.ccd)")

    def __post_init__(self):
        if self.technology == "hpge" and self.hpge is None:
            object.__setattr__(self, "hpge", HPGeConfig())
        for i, bg in enumerate(self.backgrounds):  # backgrounds only one technology has
            if bg.recoil_type == "heat_only" and self.technology != "calorimeter":
                raise ConfigError(f"backgrounds[{i}].recoil_type = 'heat_only': only a calorimeter has a heat "
                                  f"channel without ionisation (technology = {self.technology!r}); use 'er' or 'nr'")
            if bg.kind == "dark_clusters" and self.technology != "ccd":
                raise ConfigError(f"backgrounds[{i}].kind = 'dark_clusters': dark-current clusters are a CCD "
                                  f"background (technology = {self.technology!r})")
        for tech in ("xenon", "scintillator", "calorimeter", "ccd"):
            raw = getattr(self, tech)
            if raw is not None and self.technology != tech:
                raise ConfigError(f"[{tech}] given but technology = {self.technology!r}")
            if self.technology == tech:
                import importlib

                module = importlib.import_module(TECHNOLOGY_MODULES[tech])
                if raw is None:
                    raw = {}
                if not isinstance(raw, dict):
                    raise ConfigError(f"[{tech}] must be a table")
                object.__setattr__(self, tech, build(module.section_class, raw, tech))
        if self.technology == "ccd" and any(bg.kind == "dark_clusters" for bg in self.backgrounds):
            # the rate follows from [ccd] (dark current, pixels, exposure): always recomputed, so an override of
            # [ccd] cannot leave a stale rate behind
            import dataclasses

            from .ccd.physics import dark_cluster_rate_per_kg_day

            rate = dark_cluster_rate_per_kg_day(self.ccd)
            object.__setattr__(self, "backgrounds", tuple(
                dataclasses.replace(bg, rate_per_kg_day=rate) if bg.kind == "dark_clusters" else bg
                for bg in self.backgrounds))

    @property
    def module(self):
        import importlib

        return importlib.import_module(TECHNOLOGY_MODULES[self.technology])


def list_detectors() -> dict[str, str]:
    out = {}
    for p in sorted(data_path("detectors").glob("*.toml")):
        with p.open("rb") as f:
            out[p.stem] = tomllib.load(f).get("description", "")
    return out


def load_detector(name_or_path: str | Path, overrides=()) -> DetectorConfig:
    path = Path(name_or_path)
    if not path.is_file():
        preset = data_path("detectors", f"{name_or_path}.toml")
        if not preset.is_file() and (path.suffix == ".toml" or len(path.parts) > 1):
            raise ConfigError(f"detector file {str(name_or_path)!r} does not exist")
        if not preset.is_file():
            raise ConfigError(f"unknown detector {str(name_or_path)!r}; presets: {', '.join(list_detectors())}")
        path = preset
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return detector_from_dict(raw, overrides)


def detector_from_dict(raw: dict, overrides=()) -> DetectorConfig:
    raw = copy.deepcopy(raw)
    for o in overrides:
        apply_override(raw, o)
    return build(DetectorConfig, raw)


def to_dict(cfg: DetectorConfig) -> dict[str, Any]:
    import dataclasses

    from generator.config import _jsonable

    return _jsonable(dataclasses.asdict(cfg))
