"""Generator events as NuHepMC (HepMC3 with the neutrino generators' conventions, NuHepMC 1.0.0,
arXiv:2310.13211), for Geant4 (G4HepMC3 readers) and the tools that read GENIE, NEUT, NuWro or MARLEY output.

Per event, one primary vertex (status 1) at the interaction point, with
- in: the neutrino (status 4) with E_nu along +z of the detector frame (the beam axis: the file declares it), the
  target nucleus at rest (status 20, nuclear PDG code 100ZZZAAA0, mass M of the generator's mass convention);
- out: the neutrino and the recoiling nucleus (status 1). The nucleus has kinetic energy T (the sampled recoil):
  |p| = sqrt(T^2 + 2 M T), cos(theta) = (E + M)/E sqrt(T / (T + 2 M)) (elastic two-body kinematics), azimuth
  uniform from a stream of the file's seed; the neutrino takes p_nu - p_A and E - T, so energy and momentum are
  conserved exactly and the outgoing neutrino is on its mass shell to rounding;
- the CV weight = the event's weight (expected events per generated event: the weights sum to the expectation
  of the file's exposure); attributes signal_process_id (150: NC low-energy nuclear scattering, E.C.1), LabPos
  (cm -> mm), and cevns.time_ns / cevns.pulse_index / cevns.component (the vertex time is c t in mm as well).
Run info: NuHepMC version, tool, process/vertex/particle status metadata, weight names, conventions G.C.1, G.C.3
(exposure: live time, POT for beams), G.C.4 (pb per target nucleus), G.C.5 (flux-averaged total cross section),
G.C.6 (citation), provenance (seed, the generator configuration as JSON).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._validate import ConfigError
from .eventfile import EventReader
from .nuclei import isotope

__all__ = ["PROCESS_ID", "export_nuhepmc", "nuclear_pdg", "recoil_kinematics"]

PROCESS_ID = 150  # E.C.1: 100-199 low-energy nuclear scattering, X50-X99 neutral current
CM2_TO_PB = 1e36
C_MM_PER_NS = 299.792458
EXPORT_STREAM = 4  # SeedSequence spawn key of the azimuths (0 generator, 1 detsim, 2 reco, 3 toys)
NUHEPMC_VERSION = (1, 0, 0)
CONVENTIONS = ["G.C.1", "G.C.3", "G.C.4", "G.C.5", "G.C.6", "E.C.1", "E.C.5"]


def nuclear_pdg(z, a):
    """PDG code of a nucleus: 10LZZZAAAI with L = I = 0."""
    return 1_000_000_000 + 10_000 * np.asarray(z, dtype=np.int64) + 10 * np.asarray(a, dtype=np.int64)


def recoil_kinematics(enu_mev, t_mev, mass_mev, phi):
    """Four-momenta (px, py, pz, E) in MeV of the outgoing neutrino and nucleus for a neutrino along +z."""
    e, t, m = (np.asarray(x, dtype=np.float64) for x in (enu_mev, t_mev, mass_mev))
    p_a = np.sqrt(t * t + 2.0 * m * t)
    cos_t = np.clip((e + m) / e * np.sqrt(t / (t + 2.0 * m)), -1.0, 1.0)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    nucleus = np.stack([p_a * sin_t * np.cos(phi), p_a * sin_t * np.sin(phi), p_a * cos_t, m + t], axis=-1)
    nu = np.stack([-nucleus[..., 0], -nucleus[..., 1], e - nucleus[..., 2], e - t], axis=-1)
    return nu, nucleus


def _run_info(meta: dict, pyhepmc):
    from . import __version__

    ri = pyhepmc.GenRunInfo()
    ri.tools = [pyhepmc.GenRunInfo.ToolInfo("cevns-sim", __version__, "CEvNS event generator (generator stage)")]
    ri.weight_names = ["CV"]
    a = ri.attributes
    a["NuHepMC.Version.Major"], a["NuHepMC.Version.Minor"], a["NuHepMC.Version.Patch"] = NUHEPMC_VERSION
    a["NuHepMC.Conventions"] = CONVENTIONS
    a["NuHepMC.ProcessIDs"] = [PROCESS_ID]
    a[f"NuHepMC.ProcessInfo[{PROCESS_ID}].Name"] = "CEvNS"
    a[f"NuHepMC.ProcessInfo[{PROCESS_ID}].Description"] = (
        "coherent elastic neutrino-nucleus scattering, neutral current; SM cross section with nuclear form factors "
        "(Freedman, PRD 9, 1389 (1974)); BSM terms when the configuration has a [bsm] table")
    a[f"NuHepMC.Citations.Process[{PROCESS_ID}].DOI"] = ["10.1103/PhysRevD.9.1389"]
    a["NuHepMC.VertexStatusIDs"] = [1]
    a["NuHepMC.VertexStatusInfo[1].Name"] = "PrimaryVertex"
    a["NuHepMC.VertexStatusInfo[1].Description"] = "the CEvNS interaction: neutrino + nucleus -> neutrino + nucleus"
    a["NuHepMC.ParticleStatusIDs"] = [1, 4, 20]
    for code, name, desc in ((1, "UndecayedPhysical", "outgoing neutrino and recoiling nucleus"),
                             (4, "IncomingBeam", "the incoming neutrino, along +z"),
                             (20, "Target", "the target nucleus at rest")):
        a[f"NuHepMC.ParticleStatusInfo[{code}].Name"] = name
        a[f"NuHepMC.ParticleStatusInfo[{code}].Description"] = desc
    a["NuHepMC.Units.CrossSection.Unit"] = "pb"
    a["NuHepMC.Units.CrossSection.TargetScale"] = "PerTarget"  # per target nucleus (isotope-averaged by number)
    xs = _flux_averaged_xsec_cm2(meta)
    if xs:
        a["NuHepMC.FluxAveragedTotalCrossSection"] = xs * CM2_TO_PB
    a["NuHepMC.Exposure.Livetime"] = float(meta.get("live_time_s") or 0.0)
    pot = (meta.get("exposure") or {}).get("protons_on_target")
    if pot:
        a["NuHepMC.Exposure.POT"] = float(pot)
    a["NuHepMC.Provenance.RNGState"] = int(meta["seed"])
    a["NuHepMC.Provenance.NEvents"] = int(meta.get("n_generated") or 0)
    a["cevns.ExpectedEvents"] = float(meta.get("expected_events") or 0.0)
    a["cevns.BeamAxis"] = "+z (detector frame)"
    a["cevns.Config"] = json.dumps(meta.get("config", {}), sort_keys=True)
    return ri


def _flux_averaged_xsec_cm2(meta: dict) -> float | None:
    from .config import config_from_dict
    from .experiment import Experiment
    from .rates import expected_rates

    try:
        return float(expected_rates(Experiment.from_config(config_from_dict(meta["config"]))).flux_averaged_xsec_cm2)
    except Exception:  # noqa: BLE001 - calibration sources have none
        return None


def _masses(meta: dict, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    convention = ((meta.get("config") or {}).get("physics") or {}).get("mass_convention", "nuclear")
    out = np.empty(len(z))
    for zz, aa in set(zip(z.tolist(), a.tolist())):
        iso = next(i for i in _isotopes_of(meta) if i.z == zz and i.a == aa)
        out[(z == zz) & (a == aa)] = iso.mass_mev(convention)
    return out


def _isotopes_of(meta: dict):
    return [isotope(name) for name in meta.get("isotopes", [])]


def export_nuhepmc(input_path, output_path, *, limit: int | None = None, chunks=None,
                   progress: bool | None = None) -> dict:
    """Write the events of a generator file as NuHepMC (``.hepmc3``, or gzipped ``.hepmc3.gz``); return a report."""
    try:
        import pyhepmc
    except ImportError:
        raise ConfigError("cevns-export needs pyhepmc: pip install 'cevns-sim[hepmc]'") from None
    from tqdm import tqdm

    out = Path(output_path)
    if not (out.name.endswith(".hepmc3") or out.name.endswith(".hepmc3.gz")):
        raise ConfigError(f"-o {output_path}: the output must end in .hepmc3 or .hepmc3.gz")
    if limit is not None and limit <= 0:
        raise ConfigError(f"--limit {limit}: must be > 0")
    reader = EventReader(input_path, stage="generator")
    meta = reader.metadata
    if meta.get("components") is None or not meta.get("isotopes"):
        raise ConfigError(f"{input_path}: no neutrino events to export (a calibration source has no neutrino)")
    first, stop = (int(x) for x in meta["chunk_range"])
    lo, hi = (first, stop) if chunks is None else (chunks[0], stop if chunks[1] is None else chunks[1])
    if not (first <= lo < hi <= stop):
        raise ConfigError(f"--chunks {lo}:{hi}: {input_path} holds chunks {first}:{stop}")
    chunk_size = int(meta["chunk_size"])
    ri = _run_info(meta, pyhepmc)
    rng = np.random.default_rng(np.random.SeedSequence(int(meta["seed"]), spawn_key=(EXPORT_STREAM,)))
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}" + (".hepmc3.gz" if out.name.endswith(".gz") else ".hepmc3"))
    n_written, sum_w = 0, 0.0
    total = reader.n_events if limit is None else min(limit, reader.n_events)
    try:
        with pyhepmc.open(str(tmp), "w") as f, tqdm(total=total, unit="ev", unit_scale=True, desc="export",
                                                     disable=None if progress is None else not progress) as bar:
            for k, (cols, _) in enumerate(reader.iter_chunks(step=chunk_size)):
                phi_all = rng.uniform(0.0, 2.0 * np.pi, len(cols["event_id"]))  # one draw per event, in file order
                if not lo <= first + k < hi:
                    continue
                n = len(cols["event_id"])
                if limit is not None:
                    n = min(n, limit - n_written)
                if n <= 0:
                    break
                z, a = cols["target_z"][:n].astype(np.int64), cols["target_a"][:n].astype(np.int64)
                mass = _masses(meta, z, a)
                e = cols["enu_mev"][:n].astype(np.float64)
                t = cols["t_nr_kev"][:n].astype(np.float64) * 1e-3
                nu_out, nucleus = recoil_kinematics(e, t, mass, phi_all[:n])
                pdg_a = nuclear_pdg(z, a)
                for i in range(n):
                    f.write(_event(pyhepmc, ri, cols, i, e[i], mass[i], int(pdg_a[i]), nu_out[i], nucleus[i]))
                sum_w += float(cols["weight"][:n].sum())
                n_written += n
                bar.update(n)
                if limit is not None and n_written >= limit:
                    break
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return {"n_events": n_written, "sum_of_weights": sum_w, "output": str(out)}


def _event(pyhepmc, ri, cols, i, e, m, pdg_a, nu_out, nucleus):
    evt = pyhepmc.GenEvent(pyhepmc.Units.MEV, pyhepmc.Units.MM)
    evt.run_info = ri
    evt.event_number = int(cols["event_id"][i])
    evt.weights = [float(cols["weight"][i])]
    x, y, zz = (10.0 * float(cols[c][i]) for c in ("x_cm", "y_cm", "z_cm"))
    time_ns = float(cols["time_ns"][i])
    evt.attributes["signal_process_id"] = PROCESS_ID
    evt.attributes["LabPos"] = [x, y, zz]
    evt.attributes["cevns.time_ns"] = time_ns
    evt.attributes["cevns.pulse_index"] = int(cols["pulse_index"][i])
    evt.attributes["cevns.component"] = int(cols["component"][i])
    pdg_nu = int(cols["nu_pdg"][i])
    v = pyhepmc.GenVertex((x, y, zz, C_MM_PER_NS * time_ns))
    v.status = 1
    v.add_particle_in(pyhepmc.GenParticle((0.0, 0.0, e, e), pdg_nu, 4))
    target = pyhepmc.GenParticle((0.0, 0.0, 0.0, m), pdg_a, 20)
    target.generated_mass = m
    v.add_particle_in(target)
    v.add_particle_out(pyhepmc.GenParticle(tuple(float(c) for c in nu_out), pdg_nu, 1))
    recoil = pyhepmc.GenParticle(tuple(float(c) for c in nucleus), pdg_a, 1)
    recoil.generated_mass = m
    v.add_particle_out(recoil)
    evt.add_vertex(v)
    return evt
