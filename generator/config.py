"""The run configuration: TOML files and named presets, validated on load into typed sections.

Every key carries its unit in its name. ``load_config`` applies ``--set section.key=value``
overrides before validation, so an override is checked exactly like the file.

Longer than ~400 lines because it is one concept, the configuration schema: every section's validated
dataclass, with its keys, units, defaults and allowed values, is read here in one place (the README's key
table follows it), together with the loader that applies them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._data import data_path
from ._validate import ConfigError, build, option
from .bsm import FLAVOURS, NSI_PAIRS
from .constants import COUPLING_SETS
from .form_factors import FORM_FACTOR_MODELS
from .nuclei import MASS_CONVENTIONS
from .sources.pion_dar import FACILITIES
from .sources.reactor import (DEFAULT_CAPTURE_PER_FISSION, DEFAULT_LOW_ENERGY, FISSION_FRACTION_SETS, FISSION_ISOTOPES,
                              LOW_ENERGY_MODELS)
from .sources.solar import SOLAR_COMPONENTS, SOLAR_MODELS

__all__ = [
    "Config",
    "ConfigError",
    "apply_override",
    "list_presets",
    "load_config",
    "preset_path",
]

NU_PDG_CODES = (12, -12, 14, -14, 16, -16)
PULSE_SHAPES = ("gaussian", "flat", "double_gaussian")


@dataclass(frozen=True)
class PionDarConfig:
    distance_m: float = option(unit="m", doc="distance from the target to the detector", gt=0)
    facility: str = option("sns", doc="facility preset", allowed=tuple(FACILITIES))
    beam_power_mw: float | None = option(None, unit="MW", doc="beam power (default: facility's)", gt=0)
    proton_energy_gev: float | None = option(None, unit="GeV", doc="proton kinetic energy (default: facility's)", gt=0)
    nu_per_proton_per_flavour: float | None = option(None, doc="neutrinos per POT per flavour", gt=0)
    rep_rate_hz: float | None = option(None, unit="Hz", doc="pulse repetition rate (default: facility's)", gt=0)
    pulse_shape: str | None = option(None, doc="proton pulse shape", allowed=PULSE_SHAPES)
    pulse_sigma_ns: float | None = option(None, unit="ns", doc="Gaussian sigma of the pulse or of each bunch", gt=0)
    pulse_width_ns: float | None = option(None, unit="ns", doc="full width of a flat pulse", gt=0)
    pulse_separation_ns: float | None = option(None, unit="ns", doc="bunch separation (double_gaussian)", gt=0)


@dataclass(frozen=True)
class ReactorConfig:
    thermal_power_gw: float | None = option(None, unit="GW", doc="thermal power (one core)", gt=0)
    distance_m: float | None = option(None, unit="m", doc="distance from the core (one core)", gt=0)
    cores: list[dict] | None = option(None, doc="several cores of one spectrum: [{thermal_power_gw, distance_m}, ...] "
                                      "(instead of thermal_power_gw and distance_m)")
    fission_fractions: Any = option("daya_bay", doc=f"a set name ({', '.join(FISSION_FRACTION_SETS)}) "
                                    f"or a table of {', '.join(FISSION_ISOTOPES)}")
    low_energy: str = option(DEFAULT_LOW_ENERGY, doc="treatment below 2 MeV ('conflux': CONFLUX summation spectra "
                             "joined to Huber-Mueller at 2 MeV; 'vogel_engel': VE 1989 shape joined at 2 MeV; 'none': "
                             "nothing below 2 MeV)", allowed=LOW_ENERGY_MODELS)
    e_min_mev: float = option(0.0, unit="MeV", doc="lowest antineutrino energy", ge=0, lt=8)
    e_max_mev: float = option(10.0, unit="MeV", doc="highest antineutrino energy", gt=2, le=12)
    # Upper bound: a light-water core converts ~0.6 238U per fission; breeders reach ~1.2-1.5 (conversion ratio
    # > 1), so 2 leaves room for any reactor while catching a value in the wrong unit (e.g. a percentage).
    capture_per_fission: float = option(DEFAULT_CAPTURE_PER_FISSION, doc="238U(n,gamma) captures per fission, each "
                                        "followed by a 239U and a 239Np beta decay (components reactor_u239, "
                                        "reactor_np239; all their antineutrinos are below 1.27 MeV)", ge=0, le=2)

    def __post_init__(self):
        single = (self.thermal_power_gw is not None, self.distance_m is not None)
        if self.cores is None:
            if not all(single):
                raise ConfigError("a reactor source needs source.thermal_power_gw and source.distance_m, or "
                                  "source.cores = [{thermal_power_gw = ..., distance_m = ...}, ...]")
        else:
            if any(single):
                raise ConfigError("source.cores replaces source.thermal_power_gw and source.distance_m: give one or "
                                  "the other")
            if not isinstance(self.cores, (list, tuple)) or not self.cores:
                raise ConfigError(f"source.cores = {self.cores!r}: a non-empty list of "
                                  "{thermal_power_gw = ..., distance_m = ...}")
            for i, c in enumerate(self.cores):
                if not isinstance(c, dict) or set(c) != {"thermal_power_gw", "distance_m"}:
                    raise ConfigError(f"source.cores[{i}] = {c!r}: needs exactly thermal_power_gw and distance_m")
                for k, v in c.items():
                    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                        raise ConfigError(f"source.cores[{i}].{k} = {v!r}: must be a number > 0")
        ff = self.fission_fractions
        if isinstance(ff, str):
            if ff not in FISSION_FRACTION_SETS:
                raise ConfigError(f"source.fission_fractions = {ff!r}: allowed sets are "
                                  f"{', '.join(map(repr, FISSION_FRACTION_SETS))}, or a table of fractions")
        elif isinstance(ff, dict):
            bad = sorted(set(ff) - set(FISSION_ISOTOPES))
            if bad:
                raise ConfigError(f"source.fission_fractions has unknown isotope(s) {', '.join(bad)}; "
                                  f"allowed: {', '.join(FISSION_ISOTOPES)}")
            for k, v in ff.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                    raise ConfigError(f"source.fission_fractions.{k} = {v!r}: must be a number >= 0")
            total = float(sum(ff.values()))
            if abs(total - 1.0) > 1e-3:
                raise ConfigError(f"source.fission_fractions sum to {total:.6g}: the fractions of "
                                  f"{', '.join(FISSION_ISOTOPES)} must sum to 1 (within 1e-3)")
        else:
            raise ConfigError(f"source.fission_fractions = {ff!r}: must be a set name or a table")

    def core_list(self) -> list[tuple[float, float]]:
        """[(thermal power in GW, distance in m), ...]: one entry for a single core."""
        if self.cores is None:
            return [(float(self.thermal_power_gw), float(self.distance_m))]
        return [(float(c["thermal_power_gw"]), float(c["distance_m"])) for c in self.cores]

    def fractions(self) -> dict[str, float]:
        ff = self.fission_fractions
        return dict(FISSION_FRACTION_SETS[ff]) if isinstance(ff, str) else {k: float(v) for k, v in ff.items()}


@dataclass(frozen=True)
class SolarConfig:
    components: list[str] = option(default_factory=lambda: SOLAR_COMPONENTS, doc="solar components",
                                   allowed=None)
    model: str = option("b16_gs98", doc="solar model normalisation", allowed=tuple(SOLAR_MODELS))
    b8_flux_cm2_s: float | None = option(None, unit="cm^-2 s^-1", doc="override the 8B flux", gt=0)

    def __post_init__(self):
        bad = [c for c in self.components if c not in SOLAR_COMPONENTS]
        if bad:
            raise ConfigError(f"source.components contains {', '.join(map(repr, bad))}; "
                              f"allowed: {', '.join(SOLAR_COMPONENTS)}")
        if not self.components:
            raise ConfigError("source.components is empty")


@dataclass(frozen=True)
class TableConfig:
    file: str = option(doc="CSV of energy_mev, differential flux in cm^-2 s^-1 MeV^-1")
    nu_pdg: int = option(doc="PDG code of the neutrino", allowed=NU_PDG_CODES)
    flux_scale: float = option(1.0, doc="factor applied to the tabulated flux", gt=0)
    name: str = option("table", doc="component name")


@dataclass(frozen=True)
class MonoRecoilConfig:
    recoil_kevnr: float = option(unit="keVnr", doc="recoil energy of every event", gt=0)
    rate_per_kg_day: float = option(1000.0, unit="kg^-1 day^-1", doc="event rate defining the exposure", gt=0)


@dataclass(frozen=True)
class FlatRecoilConfig:
    recoil_min_kevnr: float = option(unit="keVnr", doc="lower edge of the flat recoil spectrum", ge=0)
    recoil_max_kevnr: float = option(unit="keVnr", doc="upper edge of the flat recoil spectrum", gt=0)
    rate_per_kg_day: float = option(1000.0, unit="kg^-1 day^-1", doc="event rate defining the exposure", gt=0)

    def __post_init__(self):
        if self.recoil_max_kevnr <= self.recoil_min_kevnr:
            raise ConfigError(f"source.recoil_max_kevnr = {self.recoil_max_kevnr} must be > "
                              f"source.recoil_min_kevnr = {self.recoil_min_kevnr}")


SOURCE_KINDS = {"pion_dar": PionDarConfig, "reactor": ReactorConfig, "solar": SolarConfig, "table": TableConfig,
                "mono_recoil": MonoRecoilConfig, "flat_recoil": FlatRecoilConfig}
CALIBRATION_KINDS = ("mono_recoil", "flat_recoil")


@dataclass(frozen=True)
class GeometryConfig:
    shape: str = option("cylinder", doc="active volume shape, centred on the origin, axis along z",
                        allowed=("cylinder", "box"))
    radius_cm: float = option(10.0, unit="cm", doc="cylinder radius", gt=0)
    height_cm: float = option(20.0, unit="cm", doc="cylinder height", gt=0)
    size_x_cm: float = option(10.0, unit="cm", doc="box edge along x", gt=0)
    size_y_cm: float = option(10.0, unit="cm", doc="box edge along y", gt=0)
    size_z_cm: float = option(10.0, unit="cm", doc="box edge along z", gt=0)


@dataclass(frozen=True)
class TargetConfig:
    material: str = option(doc="chemical formula, e.g. CsI, NaI, Ge, Xe, Ar, CaWO4")
    mass_kg: float = option(unit="kg", doc="active target mass", gt=0)
    isotopes: dict[str, float] | None = option(None, doc="enrichment: isotope -> fraction within its element")
    geometry: GeometryConfig = option(default_factory=GeometryConfig, doc="active volume for vertices")

    def __post_init__(self):
        from .nuclei import material

        try:
            material(self.material, self.isotopes)
        except ValueError as e:
            raise ConfigError(f"target.material = {self.material!r}: {e}") from None


@dataclass(frozen=True)
class ExposureConfig:
    live_days: float | None = option(None, unit="day", doc="detector live time", gt=0)
    protons_on_target: float | None = option(None, doc="protons on target (pulsed sources)", gt=0)
    beam_energy_gwh: float | None = option(None, unit="GWh", doc="delivered beam energy (pulsed sources)", gt=0)


@dataclass(frozen=True)
class PhysicsConfig:
    form_factor: str = option("helm", doc="nuclear form factor", allowed=FORM_FACTOR_MODELS)
    proton_rms_radius_fm: float | None = option(None, unit="fm", doc="proton rms radius (default: model's)", gt=0)
    neutron_rms_radius_fm: float | None = option(None, unit="fm", doc="neutron rms radius (default: model's)", gt=0)
    coupling_scheme: str = option("radiative", doc="nucleon vector couplings", allowed=COUPLING_SETS)
    sin2_theta_w: float = option(0.23868, doc="weak mixing angle at low Q^2 (used by 'tree' couplings)", gt=0, lt=1)
    mass_convention: str = option("nuclear", doc="nuclear mass used in kinematics", allowed=MASS_CONVENTIONS)


@dataclass(frozen=True)
class RecoilConfig:
    threshold_kevnr: float = option(0.0, unit="keVnr", doc="lowest recoil energy generated / counted", ge=0)
    efficiency_kevnr: list[float] | None = option(None, unit="keVnr", doc="efficiency curve abscissae", ge=0)
    efficiency: list[float] | None = option(None, doc="efficiency values (0..1) at efficiency_kevnr", ge=0, le=1)

    def __post_init__(self):
        a, b = self.efficiency_kevnr, self.efficiency
        if (a is None) != (b is None):
            raise ConfigError("recoil.efficiency_kevnr and recoil.efficiency must be given together")
        if a is not None:
            if len(a) != len(b) or len(a) < 2:
                raise ConfigError("recoil.efficiency_kevnr and recoil.efficiency need the same length (>= 2)")
            if any(y <= x for x, y in zip(a, a[1:])):
                raise ConfigError("recoil.efficiency_kevnr must be strictly increasing")


@dataclass(frozen=True)
class WindowConfig:
    """The analysis' beam window (pulsed sources), in this package's frame: time within the pulse, the proton
    pulse centred at 0. ``cevns-rate`` reports the expectation inside it; ``cevns-run`` uses it as the
    detector's on-beam window."""

    start_ns: float = option(0.0, unit="ns", doc="start of the window relative to the pulse centre")
    length_ns: float = option(6000.0, unit="ns", doc="length of the window", gt=0)
    efficiency_flat_until_ns: float | None = option(
        None, unit="ns", doc="timing efficiency: 1 up to this time, exp(-efficiency_decay_per_us (t - t0)) after")
    efficiency_decay_per_us: float = option(0.0, unit="1/us", doc="decay constant of the timing efficiency", ge=0)


FLAVOUR_KEYS = FLAVOURS


def _check_table(name: str, table, keys) -> None:
    if table is None:
        return
    bad = sorted(set(table) - set(keys))
    if bad:
        raise ConfigError(f"bsm.{name} has unknown key(s) {', '.join(map(repr, bad))}; allowed: {', '.join(keys)}")


@dataclass(frozen=True)
class BSMConfig:
    """Beyond-SM hypothesis (all zero = SM); see generator.bsm for the formulas and their sources."""

    nsi_eps_u: dict[str, float] | None = option(None, doc="vector NSI eps^u_ab: table of ee, mumu, tautau, emu, "
                                                "etau, mutau (real, eps_ab = eps_ba)")
    nsi_eps_d: dict[str, float] | None = option(None, doc="vector NSI eps^d_ab, same keys as nsi_eps_u")
    zprime_mass_mev: float | None = option(None, unit="MeV", doc="light vector mediator mass", ge=0.01)
    zprime_coupling: float = option(0.0, doc="Z' coupling g (to quarks and neutrinos)")
    zprime_nu_charge: float = option(1.0, doc="Z' charge of the neutrinos (coupling g x charge)")
    zprime_quark_charge: float = option(1.0, doc="Z' charge of every quark (universal: 1; B-L: 1/3 with "
                                        "zprime_nu_charge = -1)")
    scalar_mass_mev: float | None = option(None, unit="MeV", doc="light scalar mediator mass", ge=0.01)
    scalar_coupling: float = option(0.0, doc="scalar coupling g (to quarks and neutrinos)")
    scalar_charge_proton: float = option(15.1, doc="scalar charge per proton (Q_phi = 14 A + 1.1 Z)")
    scalar_charge_neutron: float = option(14.0, doc="scalar charge per neutron")
    magnetic_moment_mub: dict[str, float] | None = option(None, unit="mu_B", doc="neutrino magnetic moment per "
                                                          "flavour: table of e, mu, tau")
    charge_radius_cm2: dict[str, float] | None = option(None, unit="cm^2", doc="neutrino charge radius <r^2> per "
                                                        "flavour (SM values are negative, ~ -0.5e-32 cm^2)")
    charge_radius_fm2: dict[str, float] | None = option(None, unit="fm^2", doc="the same in fm^2 (1 fm^2 = "
                                                        "1e-26 cm^2); give one of the two")
    sin2_theta_w: float | None = option(None, doc="weak mixing angle of the hypothesis (shifts g_V^p by "
                                        "-2 (s^2 - physics.sin2_theta_w))", gt=0, lt=1)

    def __post_init__(self):
        _check_table("nsi_eps_u", self.nsi_eps_u, NSI_PAIRS)
        _check_table("nsi_eps_d", self.nsi_eps_d, NSI_PAIRS)
        _check_table("magnetic_moment_mub", self.magnetic_moment_mub, FLAVOUR_KEYS)
        _check_table("charge_radius_cm2", self.charge_radius_cm2, FLAVOUR_KEYS)
        _check_table("charge_radius_fm2", self.charge_radius_fm2, FLAVOUR_KEYS)
        if self.charge_radius_cm2 is not None and self.charge_radius_fm2 is not None:
            raise ConfigError("bsm: give charge_radius_cm2 or charge_radius_fm2, not both")
        if self.zprime_coupling != 0 and self.zprime_mass_mev is None:
            raise ConfigError(f"bsm.zprime_coupling = {self.zprime_coupling}: needs bsm.zprime_mass_mev")
        if self.scalar_coupling != 0 and self.scalar_mass_mev is None:
            raise ConfigError(f"bsm.scalar_coupling = {self.scalar_coupling}: needs bsm.scalar_mass_mev")

    def charge_radii_cm2(self) -> dict[str, float] | None:
        if self.charge_radius_fm2 is not None:
            return {k: v * 1e-26 for k, v in self.charge_radius_fm2.items()}
        return self.charge_radius_cm2

    def hypothesis(self, *, quiet_sm: bool = True):
        """The generator.bsm.BSMHypothesis of this section (None if it is the SM and ``quiet_sm``)."""
        from .bsm import BSMHypothesis

        h = BSMHypothesis.build(
            nsi_eps_u=self.nsi_eps_u, nsi_eps_d=self.nsi_eps_d, magnetic_moment_mub=self.magnetic_moment_mub,
            charge_radius_cm2=self.charge_radii_cm2(), zprime_mass_mev=self.zprime_mass_mev or 0.0,
            zprime_coupling=self.zprime_coupling, zprime_nu_charge=self.zprime_nu_charge,
            zprime_quark_charge=self.zprime_quark_charge, scalar_mass_mev=self.scalar_mass_mev or 0.0,
            scalar_coupling=self.scalar_coupling, scalar_charge_proton=self.scalar_charge_proton,
            scalar_charge_neutron=self.scalar_charge_neutron, sin2_theta_w=self.sin2_theta_w)
        return None if (quiet_sm and h.is_sm) else h


@dataclass(frozen=True)
class GeneratorConfig:
    n_events: int = option(10000, doc="events to generate in fixed-N mode", gt=0)
    chunk_size: int = option(100000, doc="events per chunk (fixes the random streams)", gt=0)
    seed: int = option(12345, doc="the run's one seed", ge=0)
    mode: str = option("fixed", doc="'fixed' N with weights, or 'pseudo_experiment' (N ~ Poisson)",
                       allowed=("fixed", "pseudo_experiment"))


@dataclass(frozen=True)
class Config:
    source: Any
    target: TargetConfig
    exposure: ExposureConfig = option(default_factory=ExposureConfig)
    physics: PhysicsConfig = option(default_factory=PhysicsConfig)
    recoil: RecoilConfig = option(default_factory=RecoilConfig)
    generator: GeneratorConfig = option(default_factory=GeneratorConfig)
    bsm: BSMConfig | None = option(None, doc="beyond-SM hypothesis (absent: the SM)")
    window: WindowConfig | None = option(None, doc="the analysis' beam window (pulsed sources)")
    name: str = option("unnamed", doc="configuration name")
    description: str = option("", doc="one line saying what this configuration is")
    # Sections owned by later stages; validated by them.
    detector: dict | None = option(None, doc="detector simulation settings (see detsim)")
    reco: dict | None = option(None, doc="reconstruction settings (see reco)")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["source"] = {"kind": self.source_kind, **dataclasses.asdict(self.source)}
        d.pop("source_kind", None)
        return _jsonable(d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    source_kind: str = option("", doc="(set from source.kind)")


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items() if v is not None}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def config_from_dict(raw: dict) -> Config:
    raw = copy.deepcopy(raw)
    if "source_kind" in raw:
        raise ConfigError("unknown key 'source_kind' at the top level (write source.kind)")
    src = raw.get("source")
    if not isinstance(src, dict):
        raise ConfigError("missing required table [source] (with a 'kind' key)")
    kind = src.pop("kind", None)
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"source.kind = {kind!r}: allowed values are {', '.join(map(repr, SOURCE_KINDS))}")
    if "target" not in raw:
        raise ConfigError("missing required table [target] (material, mass_kg)")
    source = build(SOURCE_KINDS[kind], src, "source")
    raw["source"] = {}
    fields = {f.name: f for f in dataclasses.fields(Config)}
    unknown = sorted(set(raw) - set(fields) - {"source"})
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(map(repr, unknown))}; allowed: "
                          f"{', '.join(sorted(k for k in fields if k != 'source_kind'))}")
    raw.pop("source")
    cfg = build(_ConfigNoSource, raw)
    out = Config(source=source, source_kind=kind, **{f.name: getattr(cfg, f.name)
                                                          for f in dataclasses.fields(_ConfigNoSource)})
    _check_exposure(out)
    _check_bsm(out)
    if out.window is not None and kind != "pion_dar":
        raise ConfigError(f"[window] is a beam window: it needs a pulsed source (source.kind = 'pion_dar'), not {kind!r}")
    return out


def _check_bsm(cfg: Config) -> None:
    b = cfg.bsm
    if b is None:
        return
    if cfg.source_kind in CALIBRATION_KINDS:
        raise ConfigError(f"[bsm] applies to neutrino sources, not to the calibration source {cfg.source_kind!r}")
    mm = b.magnetic_moment_mub or {}
    if any(v != 0 for v in mm.values()) and cfg.recoil.threshold_kevnr <= 0:
        raise ConfigError("bsm.magnetic_moment_mub needs recoil.threshold_kevnr > 0: the magnetic-moment cross "
                          "section grows as 1/T, so the number of recoils above T = 0 is infinite")


@dataclass(frozen=True)
class _ConfigNoSource:
    target: TargetConfig
    exposure: ExposureConfig = option(default_factory=ExposureConfig)
    physics: PhysicsConfig = option(default_factory=PhysicsConfig)
    recoil: RecoilConfig = option(default_factory=RecoilConfig)
    generator: GeneratorConfig = option(default_factory=GeneratorConfig)
    bsm: BSMConfig | None = option(None)
    window: WindowConfig | None = option(None)
    name: str = option("unnamed")
    description: str = option("")
    detector: dict | None = option(None)
    reco: dict | None = option(None)


def _check_exposure(cfg: Config) -> None:
    ex = cfg.exposure
    kind = cfg.source_kind
    if kind == "pion_dar":
        given = [k for k in ("protons_on_target", "beam_energy_gwh") if getattr(ex, k) is not None]
        if len(given) > 1:
            raise ConfigError("exposure: give only one of protons_on_target and beam_energy_gwh")
        if not given and ex.live_days is None:
            raise ConfigError("exposure: a pion-decay-at-rest source needs exposure.protons_on_target, "
                              "exposure.beam_energy_gwh or exposure.live_days (at the facility's beam power)")
        if cfg.source.facility != "sns" and cfg.source.nu_per_proton_per_flavour is None:
            raise ConfigError(f"source.nu_per_proton_per_flavour is required for facility {cfg.source.facility!r}: "
                              "only the SNS yield is verified (take it from the facility's spallation simulation)")
    else:
        for k in ("protons_on_target", "beam_energy_gwh"):
            if getattr(ex, k) is not None:
                raise ConfigError(f"exposure.{k} applies only to pulsed (pion_dar) sources, not {kind!r}")
        if ex.live_days is None:
            raise ConfigError(f"exposure.live_days is required for a {kind!r} source")


def preset_path(name: str) -> Path:
    return data_path("presets", f"{name}.toml")


def list_presets() -> dict[str, str]:
    out = {}
    for p in sorted(data_path("presets").glob("*.toml")):
        with p.open("rb") as f:
            out[p.stem] = tomllib.load(f).get("description", "")
    return out


def _parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string


def apply_override(raw: dict, assignment: str) -> None:
    """Apply one ``section.key=value`` (value in TOML syntax; bare words are strings) to a raw config."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected section.key=value")
    key, text = assignment.split("=", 1)
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ConfigError(f"--set {assignment!r}: empty key")
    node = raw
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"--set {assignment!r}: {p} is not a table")
        node = nxt
    node[parts[-1]] = _parse_value(text.strip())


def read_raw(config: str | Path | None = None, preset: str | None = None) -> tuple[dict, str]:
    if (config is None) == (preset is None):
        raise ConfigError("give a configuration file or --preset NAME (not both)")
    if preset is not None:
        path = preset_path(preset)
        if not path.is_file():
            raise ConfigError(f"unknown preset {preset!r}; available: {', '.join(list_presets())}")
    else:
        path = Path(config)
        if not path.is_file():
            # A bare name that is a preset works too.
            if preset_path(str(config)).is_file():
                path = preset_path(str(config))
            else:
                raise ConfigError(f"configuration file {str(config)!r} does not exist "
                                  f"(presets: {', '.join(list_presets())})")
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return raw, str(path)


def load_config(config: str | Path | None = None, *, preset: str | None = None,
                overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load, override and validate a configuration (file path or preset name)."""
    raw, path = read_raw(config, preset)
    for o in overrides:
        apply_override(raw, o)
    src = raw.get("source")
    if isinstance(src, dict) and src.get("kind") == "table" and isinstance(src.get("file"), str):
        # a table's path is written relative to the configuration file that names it, not to the working directory
        f = Path(src["file"]).expanduser()
        if not f.is_absolute():
            src["file"] = str((Path(path).resolve().parent / f))
    return config_from_dict(raw)
