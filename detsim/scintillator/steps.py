"""The scintillator chain steps (each declares the columns it needs and provides; the photodetection runs in
_kernels.py, the formulas are in physics.py) and the file metadata: ``steps`` and ``metadata`` of the technology
contract, ``scintillator_steps`` for direct use.
"""

from __future__ import annotations

import numpy as np

from generator._validate import ConfigError

from ..chain import Step
from ..quenching import RECOIL_ER, visible_yield
from ._kernels import photodetect
from .config import ScintillatorConfig
from .physics import afterpulse_window_ratio, kernel_params, mean_primary_pe, prompt_fraction, time_cdf

__all__ = ["PE_FIELDS", "metadata", "scintillator_steps", "steps"]

# --------------------------------------------------------------------------------------------------------
# chain steps
# --------------------------------------------------------------------------------------------------------
PE_FIELDS = {"time_ns": (np.float32, "ns"), "array": (np.int8, ""), "kind": (np.int8, "")}


def _is_er(c) -> np.ndarray:
    rt = c.get("recoil_type")
    n = len(c["t_nr_kev"]) if "t_nr_kev" in c else len(c["e_ee_kevee"])
    return np.zeros(n, dtype=bool) if rt is None else np.asarray(rt) == RECOIL_ER


def scintillator_steps(det, gen_meta: dict | None = None) -> list[Step]:
    sc: ScintillatorConfig = det.scintillator
    ps = sc.photosensor
    gen_meta = gen_meta or {}
    if sc.pe_time_reference == "beam" and gen_meta and not gen_meta.get("pulsed"):
        raise ConfigError("scintillator.pe_time_reference = 'beam' needs a pulsed source (time_ns is absolute "
                          "for continuous sources); use 'interaction'")
    quench = det.quenching.build()
    fluct = det.quenching.fluctuation
    qf_z = {int(k): v for k, v in sc.qf_by_z.items()}
    params = kernel_params(sc)

    def quenching(rng, c):
        t, z = c["t_nr_kev"], c["target_z"]
        qf = np.asarray(quench.qf(t, z, c["target_a"]), dtype=np.float64) * np.ones(len(t))
        for zz, q in qf_z.items():
            qf[z == zz] = q
        if fluct > 0:
            qf = np.maximum(qf * (1.0 + fluct * rng.standard_normal(len(t))), 0.0)
        return {"e_ee_kevee": visible_yield(qf, c.get("recoil_type")) * t}

    def photodetection(rng, c):
        mean = mean_primary_pe(sc, c["e_ee_kevee"])
        out, jag = photodetect(rng, mean, _is_er(c), c["time_ns"], params)
        out["pe"] = jag
        return out

    provides = {"num_primary_pe": (np.int32, "PE"), "num_pe": (np.int32, "PE"), "charge_pe": (np.float32, "PE")}
    if sc.psd.enabled:
        provides["num_prompt_pe"] = (np.int32, "PE")
    if ps.n_arrays == 2:
        provides.update({"num_pe_a": (np.int32, "PE"), "num_pe_b": (np.int32, "PE")})
    steps = [
        Step("scint_quenching", ("t_nr_kev", "target_z", "target_a"), {"e_ee_kevee": (np.float64, "keVee")},
             quenching),
        Step("photodetection", ("e_ee_kevee", "time_ns"), provides, photodetection, jagged={"pe": dict(PE_FIELDS)}),
    ]
    if sc.psd.enabled:
        lo_cut, hi_cut = sc.psd.f90_min, sc.psd.f90_max

        def pulse_shape(rng, c):
            n = c["num_pe"]
            with np.errstate(invalid="ignore", divide="ignore"):
                f90 = np.where(n > 0, c["num_prompt_pe"] / np.maximum(n, 1), np.nan)
            return {"f90": f90, "psd_pass": (n > 0) & (f90 >= lo_cut) & (f90 <= hi_cut)}

        steps.append(Step("pulse_shape", ("num_pe", "num_prompt_pe"), {"f90": (np.float32, ""),
                                                                     "psd_pass": (np.bool_, "")}, pulse_shape))
    eff = tuple(sc.efficiency_logistic)

    def trigger(rng, c):
        q = c["charge_pe"].astype(np.float64)
        ok = q >= sc.threshold_pe
        if ps.coincidence:
            ok &= (c["num_pe_a"] >= ps.coincidence_pe) & (c["num_pe_b"] >= ps.coincidence_pe)
        if eff:
            a, k, x0, d = eff
            p = np.clip(a / (1.0 + np.exp(-k * (q - x0))) + d, 0.0, 1.0)
            ok &= rng.random(len(q)) < p
        return {"triggered": ok}

    needs = ("charge_pe", "num_pe_a", "num_pe_b") if ps.coincidence else ("charge_pe",)
    steps.append(Step("scint_trigger", needs, {"triggered": (np.bool_, "")}, trigger))
    return steps


def steps(det, geometry: dict, gen_meta: dict) -> list[Step]:
    return scintillator_steps(det, gen_meta)


def metadata(det, gen_meta: dict) -> dict:
    """Analytic figures of the response for the file metadata: PE per keVee, noise PE per window, F90 means."""
    sc: ScintillatorConfig = det.scintillator
    ps, tp = sc.photosensor, sc.time_profile
    lam = ps.crosstalk_lambda
    prim = float(mean_primary_pe(sc, 1.0)) * (sc.pde if sc.light_yield_unit == "photons_per_kevee" else 1.0)
    cells = 1.0 / (1.0 - lam)
    width = sc.window_ns + sc.pretrigger_ns
    light_in_window = {k: float(time_cdf(sc.window_ns, tp.decay_times_ns, tp.weights(e)))
                       for k, e in (("nr", False), ("er", True))}
    out = {"photosensor": ps.kind, "primary_pe_per_kevee": prim, "crosstalk_factor": cells,
           "pe_per_kevee_with_crosstalk": prim * cells,
           "pe_per_kevee_with_correlated_noise": prim * cells * (1.0 + ps.afterpulse_probability
                                                                 * afterpulse_window_ratio(sc)),
           "afterpulses_per_primary_pe": ps.afterpulse_probability * cells,
           "light_in_window_fraction": light_in_window,
           "dark_pe_per_window": ps.total_dark_rate_hz * width * 1e-9 * cells,
           "afterglow_pe_per_window": sc.afterglow_rate_hz * width * 1e-9 * cells}
    if sc.psd.enabled:
        out["prompt_fraction"] = {k: float(prompt_fraction(tp.decay_times_ns, tp.weights(e), sc.psd.prompt_window_ns,
                                                           sc.window_ns)) for k, e in (("nr", False), ("er", True))}
    return {"scintillator": out}
