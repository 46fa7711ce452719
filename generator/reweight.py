"""Per-event reweighting of CEvNS samples to BSM hypotheses, and systematic weights.

An event drawn with density p_gen(E, T, isotope, flavour) proportional to flux x dsigma_gen/dT carries, under
a hypothesis with dsigma_hyp, the weight

    w_hyp = w x dsigma_hyp/dT (E_nu, T, isotope, flavour) / dsigma_gen/dT (same),

so that sum(w_hyp) estimates the hypothesis' expected count above the sample's threshold, and weighted
histograms its spectra. The flux, the exposure and the isotope mix cancel. The ratio is exact per event
(numpy, :func:`generator.cross_section.dsigma_dt_cm2_per_kev` twice) or, with ``method="table"``, from a
numba kernel (generator._reweight_kernels) on tables of the BSM charges with cubic interpolation (agrees
with numpy to ~1e-8 relative).
Events where the generation density vanishes cannot represent the hypothesis there; they get weight 0 and are
counted in the metadata.

Hypothesis files (TOML): ``name`` and ``description`` (optional), a ``[bsm]`` table (see generator.config
BSMConfig) and an optional ``[physics]`` table overriding the sample's physics (form_factor,
proton_rms_radius_fm, neutron_rms_radius_fm, coupling_scheme, sin2_theta_w; not mass_convention, which
would move the kinematic end point).

Systematic weights: flux normalisation (w (1 +- sigma)); neutron-radius variation (R_n of every isotope
scaled by 1 +- delta, from its explicit or model-default rms radius). Quenching is not a weight: it maps
the same recoil to another keVee value, so it acts on the observable at the detector stage; the shift
per event is :func:`quenching_shift_kevee` (apply it in detsim/reco and refill the histograms).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._reweight_kernels import table_ratios
from ._validate import ConfigError, build
from .config import CALIBRATION_KINDS, BSMConfig, Config, PhysicsConfig, config_from_dict
from .cross_section import CrossSectionModel, dsigma_dt_cm2_per_kev, weak_charge
from .experiment import Experiment, cross_section_model
from .form_factors import (
    HELM_SKIN_FM,
    KN_YUKAWA_RANGE_FM,
    LEWIN_SMITH_A_FM,
    FormFactor,
    helm_r0_fm,
    lewin_smith_c_fm,
)
from .kinematics import t_max_kev
from .nuclei import ELEMENTS, Isotope

__all__ = [
    "Hypothesis",
    "Reweighter",
    "default_rms_radius_fm",
    "hypothesis_from_dict",
    "isotope_by_za",
    "load_hypothesis",
    "quenching_shift_kevee",
    "reweight_file",
    "sample_config",
]

HYPOTHESIS_PHYSICS_KEYS = ("form_factor", "proton_rms_radius_fm", "neutron_rms_radius_fm", "coupling_scheme",
                           "sin2_theta_w")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
METHODS = ("numpy", "table")


@dataclass(frozen=True)
class Hypothesis:
    """A named BSM hypothesis: a [bsm] section and [physics] overrides of the sample's physics."""

    name: str
    bsm: BSMConfig | None = None
    physics: dict = dataclasses.field(default_factory=dict)
    description: str = ""

    def model(self, sample_physics: PhysicsConfig) -> CrossSectionModel:
        merged = dataclasses.asdict(sample_physics)
        merged.update(self.physics)
        merged = {k: v for k, v in merged.items() if v is not None}
        return cross_section_model(build(PhysicsConfig, merged, "physics"), self.bsm)

    def to_dict(self) -> dict:
        out = {"name": self.name, "description": self.description, "physics": dict(self.physics)}
        if self.bsm is not None:
            out["bsm"] = {k: v for k, v in dataclasses.asdict(self.bsm).items() if v is not None}
        return out


def hypothesis_from_dict(raw: dict, name: str | None = None, where: str = "hypothesis") -> Hypothesis:
    """Validate a hypothesis table: name, description, [bsm], [physics] (errors name the key)."""
    unknown = sorted(set(raw) - {"name", "description", "bsm", "physics"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; a hypothesis holds name, "
                          "description, [bsm] and [physics]")
    name = name or raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(f"{where}: name = {name!r}: give a name of letters, digits and '_' (it becomes the "
                          "column weight_<name>), in the file or with --name")
    physics = raw.get("physics", {})
    if not isinstance(physics, dict):
        raise ConfigError(f"{where}: [physics] must be a table")
    bad = sorted(set(physics) - set(HYPOTHESIS_PHYSICS_KEYS))
    if bad:
        raise ConfigError(f"{where}: physics.{bad[0]} cannot be changed by a hypothesis; allowed: "
                          f"{', '.join(HYPOTHESIS_PHYSICS_KEYS)}")
    build(PhysicsConfig, physics, "physics")  # types and ranges
    bsm = build(BSMConfig, raw["bsm"], "bsm") if "bsm" in raw else None
    desc = raw.get("description", "")
    if not isinstance(desc, str):
        raise ConfigError(f"{where}: description must be a string")
    return Hypothesis(name, bsm, dict(physics), desc)


def load_hypothesis(path, name: str | None = None) -> Hypothesis:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"hypothesis file {str(path)!r} does not exist")
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return hypothesis_from_dict(raw, name, str(path))


def sample_config(metadata: dict) -> Config:
    """The generator configuration of a generator or detsim file (from its metadata)."""
    raw = metadata.get("config") if metadata.get("stage") == "generator" else metadata.get("generator_config")
    if raw is None:
        raw = metadata.get("config") or metadata.get("generator_config")
    if not isinstance(raw, dict):
        raise ConfigError("the file's metadata holds no generator configuration to reweight from")
    cfg = config_from_dict(raw)
    if cfg.source_kind in CALIBRATION_KINDS:
        raise ConfigError(f"a {cfg.source_kind!r} calibration sample has no neutrinos: nothing to reweight")
    return cfg


def isotope_by_za(z: int, a: int) -> Isotope:
    for isos in ELEMENTS.values():
        for iso in isos:
            if iso.z == z and iso.a == a:
                return iso
    raise ConfigError(f"no isotope with Z = {z}, A = {a} in the nuclear table")


def default_rms_radius_fm(form_factor: FormFactor, a: int, which: str = "neutron") -> float:
    """The rms radius a form factor uses for mass number ``a`` (its explicit value, else the model default)."""
    r = form_factor.neutron_rms_radius_fm if which == "neutron" else form_factor.proton_rms_radius_fm
    if r is not None:
        return float(r)
    if form_factor.model == "helm":
        return float(np.sqrt(0.6 * helm_r0_fm(a) ** 2 + 3.0 * HELM_SKIN_FM**2))
    if form_factor.model == "klein_nystrand":
        return float(np.sqrt(0.6 * (1.2 * a ** (1.0 / 3.0)) ** 2 + 6.0 * KN_YUKAWA_RANGE_FM**2))
    if form_factor.model == "symmetrized_fermi":
        return float(np.sqrt(0.6 * lewin_smith_c_fm(a) ** 2 + 1.4 * np.pi**2 * LEWIN_SMITH_A_FM**2))
    raise ConfigError(f"form factor {form_factor.model!r} has no radius to vary")


def with_neutron_radius(model: CrossSectionModel, radius_fm: float) -> CrossSectionModel:
    ff = model.form_factor
    return dataclasses.replace(model, form_factor=FormFactor(ff.model, ff.proton_rms_radius_fm, radius_fm))


def quenching_shift_kevee(t_kevnr, z, a, nominal, varied):
    """E_ee(varied) - E_ee(nominal) per recoil (keVee), for two quenching models with ``qf(t, z, a)``.

    E.g. ``detsim.quenching.QuenchingModel("coherent_csi")`` and the same with ``syst0=+1``. A quenching
    variation changes which keVee value a recoil produces, not how probable the recoil is, so it is a shift of
    the observable (a detector-stage systematic), not a per-event weight. (Duck-typed: generator does not
    import detsim.)
    """
    t = np.asarray(t_kevnr, dtype=np.float64)
    return (np.asarray(varied.qf(t, z, a)) - np.asarray(nominal.qf(t, z, a))) * t


# -- the charge tables of the numba kernel (generator._reweight_kernels.table_ratios) ----------------------------

def _charges_any(t_kev, iso, model: CrossSectionModel, nu_pdg):
    """(Q_coh, incoherent A, B, 1e3 C) of the model: the SM is (Q_v, 0, 0, 0)."""
    if model.is_bsm:
        from .bsm import bsm_charges_split

        qa, incoh, b_val, c_val = bsm_charges_split(t_kev, iso, model, nu_pdg)
        return qa, incoh, b_val, 1e3 * c_val
    q = weak_charge(t_kev, iso, model)
    z = np.zeros_like(q)
    return q, z, z, z


def _encode(z, a, pdg):
    return (z * 1000 + a) * 100 + (pdg + 50)


def _decode(code: int) -> tuple[int, int, int]:
    za, p = divmod(code, 100)
    z, a = divmod(za, 1000)
    return z, a, p - 50


def _event_codes(cols, idx) -> np.ndarray:
    """One int64 per event for (Z, A, nu_pdg)."""
    z, a, pdg = (np.asarray(cols[k])[idx].astype(np.int64) for k in ("target_z", "target_a", "nu_pdg"))
    return _encode(z, a, pdg)


class Reweighter:
    """Weights of named hypotheses (and systematics) for events of one sample.

    ``sample``: the sample's generator Config. ``hypotheses``: list of :class:`Hypothesis`.
    ``flux_sigma``: add weight_flux_up/down = w (1 +- sigma). ``rn_variation``: add weight_rn_up/down with every
    isotope's neutron rms radius scaled by (1 +- delta). ``method``: 'numpy' (exact) or 'table' (numba kernel).
    """

    def __init__(self, sample: Config, hypotheses=(), *, flux_sigma: float | None = None,
                 rn_variation: float | None = None, method: str = "numpy"):
        if method not in METHODS:
            raise ConfigError(f"method {method!r}: allowed {', '.join(METHODS)}")
        if flux_sigma is not None and not 0 < flux_sigma < 1:
            raise ConfigError(f"flux sigma {flux_sigma}: must be in (0, 1)")
        if rn_variation is not None and not 0 < rn_variation < 1:
            raise ConfigError(f"neutron-radius variation {rn_variation}: must be in (0, 1)")
        names = [h.name for h in hypotheses]
        if len(set(names)) != len(names):
            raise ConfigError(f"hypothesis names must differ: {names}")
        self.sample = sample
        self.method = method
        self.flux_sigma = flux_sigma
        self.gen_model = cross_section_model(sample.physics, sample.bsm)
        self.hypotheses = list(hypotheses)
        # column -> (kind, model or per-isotope model factory)
        self.models: dict[str, object] = {f"weight_{h.name}": h.model(sample.physics) for h in self.hypotheses}
        if rn_variation is not None:
            for side, f in (("up", 1.0 + rn_variation), ("down", 1.0 - rn_variation)):
                self.models[f"weight_rn_{side}"] = ("rn", f)
        self.columns = list(self.models)
        if flux_sigma is not None:
            self.columns += ["weight_flux_up", "weight_flux_down"]
        self._tables = None
        self.n_zero_density = 0

    def model_for(self, column: str, iso: Isotope) -> CrossSectionModel:
        m = self.models[column]
        if isinstance(m, tuple):
            return with_neutron_radius(self.gen_model, default_rms_radius_fm(self.gen_model.form_factor, iso.a) * m[1])
        return m

    # -- numpy (exact) -----------------------------------------------------------------------------------
    def ratios(self, cols: dict) -> dict[str, np.ndarray]:
        """dsigma_column / dsigma_gen per event (1 for non-CEvNS events of a detsim file)."""
        n = len(cols["enu_mev"])
        cevns = np.ones(n, dtype=bool) if "origin" not in cols else np.asarray(cols["origin"]) == 0
        out = {c: np.ones(n) for c in self.models}
        if self.method == "table":
            return self._table_ratios(cols, cevns, out)
        idx = np.flatnonzero(cevns)
        if not idx.size:
            return out
        code = _event_codes(cols, idx)
        order = np.argsort(code, kind="stable")
        keys, starts = np.unique(code[order], return_index=True)
        bounds = np.append(starts, order.size)
        enu = np.asarray(cols["enu_mev"], dtype=np.float64)[idx]
        t = np.asarray(cols["t_nr_kev"], dtype=np.float64)[idx]
        for key, lo, hi in zip(keys, bounds[:-1], bounds[1:], strict=True):
            sel = order[lo:hi]
            zz, aa, pp = _decode(int(key))
            iso = isotope_by_za(zz, aa)
            den = dsigma_dt_cm2_per_kev(enu[sel], t[sel], iso, self.gen_model, pp)
            ok = den > 0
            self.n_zero_density += int(np.count_nonzero(~ok))
            for c in self.models:
                num = dsigma_dt_cm2_per_kev(enu[sel], t[sel], iso, self.model_for(c, iso), pp)
                out[c][idx[sel]] = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
        return out

    # -- numba tables --------------------------------------------------------------------------------------
    def _build_tables(self):
        from .sampler import bsm_recoil_grid, N_GUIDE

        exp = Experiment.from_config(self.sample)
        isos = exp.material.isotopes
        e_top = max(c.e_max_mev for c in exp.source.components)
        t_top = max(float(t_max_kev(e_top, self.gen_model.mass_mev(i))) for i in isos) * (1.0 + 1e-9)
        edges = bsm_recoil_grid(0.0, t_top)
        bucket = np.clip(np.searchsorted(edges, np.linspace(0.0, t_top, N_GUIDE + 1), side="right") - 1, 0,
                         edges.size - 2).astype(np.int64)
        pdgs = sorted({c.nu_pdg for c in exp.source.components})
        keys = [(i.z, i.a, p) for i in isos for p in pdgs]
        columns = list(self.models)
        tabs = np.zeros((1 + len(columns), len(keys), 4, edges.size))
        row_mass = np.zeros(len(keys))
        for r, (zz, aa, pp) in enumerate(keys):
            iso = isotope_by_za(zz, aa)
            row_mass[r] = self.gen_model.mass_mev(iso)
            tabs[0, r] = _charges_any(edges, iso, self.gen_model, pp)
            for m, c in enumerate(columns, start=1):
                tabs[m, r] = _charges_any(edges, iso, self.model_for(c, iso), pp)
        lookup = {k: r for r, k in enumerate(keys)}
        self._tables = (edges, bucket, tabs, row_mass, lookup)

    def _table_ratios(self, cols, cevns, out):
        if self._tables is None:
            self._build_tables()
        edges, bucket, tabs, row_mass, lookup = self._tables
        idx = np.flatnonzero(cevns)
        if not idx.size:
            return out
        code = _event_codes(cols, idx)
        row = np.full(idx.size, -1, dtype=np.int64)
        for (zz, aa, pp), r in lookup.items():
            row[code == _encode(zz, aa, pp)] = r
        if np.any(row < 0):
            raise ConfigError("events with an isotope or flavour outside the sample's configuration")
        res = np.empty((tabs.shape[0] - 1, idx.size))
        table_ratios(np.ascontiguousarray(np.asarray(cols["enu_mev"], dtype=np.float64)[idx]),
                     np.ascontiguousarray(np.asarray(cols["t_nr_kev"], dtype=np.float64)[idx]), row, row_mass,
                     edges, bucket, tabs, res)
        for m, c in enumerate(self.models):
            out[c][idx] = res[m]
        return out

    def weights(self, cols: dict) -> dict[str, np.ndarray]:
        """New weight columns for one chunk: ratio x original weight (and the flux systematics)."""
        w = np.asarray(cols["weight"], dtype=np.float64)
        out = {c: r * w for c, r in self.ratios(cols).items()}
        if self.flux_sigma is not None:
            out["weight_flux_up"] = w * (1.0 + self.flux_sigma)
            out["weight_flux_down"] = w * (1.0 - self.flux_sigma)
        return out


def reweight_file(input_path, output_path, hypotheses, *, flux_sigma=None, rn_variation=None, method="numpy",
                  step: int = 1_000_000, progress: bool | None = None) -> dict:
    """Copy an event file (generator or detsim) adding one weight column per hypothesis; return its metadata."""
    from tqdm import tqdm

    from . import __version__
    from .eventfile import EventFileError, EventReader, EventWriter

    reader = EventReader(input_path, require=("enu_mev", "t_nr_kev", "target_z", "target_a", "nu_pdg", "weight"))
    meta_in = reader.metadata
    rw = Reweighter(sample_config(meta_in), hypotheses, flux_sigma=flux_sigma, rn_variation=rn_variation,
                    method=method)
    clash = [c for c in rw.columns if c in reader.columns]
    if clash:
        raise ConfigError(f"{reader.path}: already has column(s) {', '.join(clash)}; choose other hypothesis names")
    if reader.n_events == 0:
        raise EventFileError(f"{reader.path}: no events to reweight")
    sums = {c: 0.0 for c in rw.columns}
    sums["weight"] = 0.0
    writer = None
    try:
        with tqdm(total=reader.n_events, unit="ev", unit_scale=True, desc="reweight",
                  disable=None if progress is None else not progress) as bar:
            for cols, jag in reader.iter_chunks(step=step):
                new = rw.weights(cols)
                if writer is None:
                    columns = {k: (np.asarray(v).dtype, reader.units.get(k, "")) for k, v in cols.items()}
                    columns.update({c: (np.float64, "") for c in new})
                    units_j = meta_in.get("jagged", {})
                    jagged = {g: {f: (np.asarray(v).dtype, units_j.get(g, {}).get(f, "")) for f, v in j.fields.items()}
                              for g, j in jag.items()}
                    writer = EventWriter(output_path, stage=meta_in.get("stage", "generator"), columns=columns,
                                         jagged=jagged)
                writer.write({**cols, **new}, jag)
                for c, v in new.items():
                    sums[c] += float(v.sum())
                sums["weight"] += float(np.asarray(cols["weight"], dtype=np.float64).sum())
                bar.update(len(cols["weight"]))
        skip = {"format", "format_version", "stage", "n_events", "columns", "jagged", "provenance_hash"}
        meta = {k: v for k, v in meta_in.items() if k not in skip}
        meta["package_version"] = __version__
        meta["parents"] = list(meta_in.get("parents", [])) + [
            {k: v for k, v in meta_in.items() if k not in ("columns", "jagged", "parents")}]
        meta["reweight"] = {
            "parent_file": str(reader.path),
            "parent_provenance_hash": meta_in.get("provenance_hash"),
            "method": method,
            "hypotheses": {f"weight_{h.name}": h.to_dict() for h in rw.hypotheses},
            "flux_sigma": flux_sigma,
            "rn_variation": rn_variation,
            "sum_of_weights": sums,
            "events_with_zero_generation_density": rw.n_zero_density,
            "formula": "w_hyp = weight * dsigma_hyp/dT / dsigma_gen/dT at (enu_mev, t_nr_kev, isotope, nu_pdg)",
        }
        out = writer.close(meta)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return out
