"""The Python drivers of the xenon numba kernels: the quanta model of one configuration and the S1/S2 response.

The kernels are split by concept: _yield_kernels.py (mean yields, the NR table), _quanta_kernels.py (GetQuanta's
set-up and fluctuations, the per-event chain kernel), _signal_kernels.py (S1, S2). This module builds their inputs
and output arrays (:class:`QuantaModel`, :func:`quanta_model`, :func:`sample_quanta`, :func:`s1_response`,
:func:`s2_response`) and is what steps.py and the package's ``__init__`` import. The kernels draw from the chunk's
numpy Generator (same stream as numpy); physics.py is the plain-numpy model they are tested against.
"""

from __future__ import annotations

import numpy as np

from generator._rng import state_from

from ._quanta_kernels import _params_kernel, _quanta_chain_kernel, _sample_kernel
from ._signal_kernels import _s1_kernel, _s2_kernel
from ._yield_kernels import (
    MAX_MASS_NUMBER,
    NR_TABLE_E_KEV,
    NR_TABLE_OCTAVES,
    NR_TABLE_SUBBITS,
    SCALE_BY_MASS_NUMBER,
    _er_consts,
    _means_kernel,
    _nr_consts,
    _nr_table,
)
from .config import (
    NEST_ER_WIDTHS,
    NEST_NR_WIDTHS,
    NEST_NR_YIELDS,
    SKEW_FIELD_RANGE_V_CM,
    XENON_REF_DENSITY,
    XenonConfig,
)

__all__ = [
    "MAX_MASS_NUMBER", "NR_TABLE_E_KEV", "NR_TABLE_OCTAVES", "NR_TABLE_SUBBITS", "QuantaModel",
    "SCALE_BY_MASS_NUMBER", "quanta_model", "s1_response", "s2_response", "sample_quanta",
]


def sample_quanta(rng: np.random.Generator, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Numba GetQuanta on parameters from :func:`quanta_parameters` (same model as :func:`sample_quanta_numpy`)."""
    n = p["nq"].size
    nph = np.empty(n, dtype=np.int64)
    ne = np.empty(n, dtype=np.int64)
    c = np.ascontiguousarray
    _sample_kernel(state_from(rng), c(p["nq"]), c(p["mean_nph"]), c(p["alf"]), c(p["exr"]), c(p["r"]), c(p["high_e"]),
                   c(p["omega"]), c(p["skew"]), c(p["fano"]), c(p["is_er"]), p["fano_ion"], p["fano_exc"], nph, ne)
    return nph, ne


class QuantaModel:
    """The yield + fluctuation model of one configuration, evaluated by the numba kernels."""

    def __init__(self, field_v_cm, density=XENON_REF_DENSITY, w_ev=None, nr_params=NEST_NR_YIELDS,
                 nr_widths=NEST_NR_WIDTHS, er_widths=NEST_ER_WIDTHS):
        self.field = float(field_v_cm)
        self.nrc = _nr_consts(field_v_cm, density, nr_params)
        self.erc = _er_consts(field_v_cm, density, w_ev, er_widths)
        self.nrw = np.asarray(nr_widths, dtype=np.float64)
        self.skew_on = SKEW_FIELD_RANGE_V_CM[0] <= self.field <= SKEW_FIELD_RANGE_V_CM[1]
        self.nr_tab, self.nr_tab_base = _nr_table(self.nrc)

    @staticmethod
    def _inputs(e_kev, mass_number, recoil_type):
        e = np.ascontiguousarray(e_kev, dtype=np.float64)
        if mass_number is None:
            a = np.zeros(e.size, dtype=np.int64)
        else:
            am = np.asarray(mass_number)
            if am.dtype.kind == "f":
                am = np.trunc(am)  # NEST truncates A to an integer
            a = np.ascontiguousarray(np.broadcast_to(am, e.shape))
            if a.dtype.kind not in "iu":
                a = a.astype(np.int64)
            if a.size and (a.min() < 0 or a.max() >= MAX_MASS_NUMBER):
                raise ValueError(f"mass numbers must lie in [0, {MAX_MASS_NUMBER}); got {a.min()}..{a.max()}")
        recoil = (np.zeros(e.size, dtype=np.int8) if recoil_type is None
                  else np.ascontiguousarray(np.broadcast_to(np.asarray(recoil_type, dtype=np.int8), e.shape)))
        return e, a, recoil

    def mean_yields(self, e_kev, mass_number=None, recoil_type=None):
        """(N_e, N_ph, N_ex/N_i) from the kernel (nr_mean_yields / er_mean_yields; NR via the table)."""
        e, a, recoil = self._inputs(e_kev, mass_number, recoil_type)
        out = np.empty((e.size, 3))
        _means_kernel(e, a, recoil, SCALE_BY_MASS_NUMBER, self.nrc, self.erc, self.nr_tab, self.nr_tab_base, out)
        return out[:, 0], out[:, 1], out[:, 2]

    def parameters(self, ne, nph, ratio, is_er) -> np.ndarray:
        """GetQuanta set-up from the kernel: columns nq, alf, exr, r, high_e, omega, skew, fano."""
        n = len(ne)
        out = np.empty((n, 8))
        c = np.ascontiguousarray
        _params_kernel(c(ne, dtype=np.float64), c(nph, dtype=np.float64), c(ratio, dtype=np.float64),
                       c(np.broadcast_to(is_er, (n,)), dtype=np.bool_), self.field, self.nrw, self.erc,
                       self.skew_on, out)
        return out

    def sample(self, rng, e_kev, mass_number=None, recoil_type=None):
        """(N_ph, N_e) per event."""
        e, a, recoil = self._inputs(e_kev, mass_number, recoil_type)
        nph = np.empty(e.size, dtype=np.int32)  # the event files' dtype: no conversion pass afterwards
        ne = np.empty(e.size, dtype=np.int32)
        _quanta_chain_kernel(state_from(rng), e, a, recoil, SCALE_BY_MASS_NUMBER, self.field, self.nrc, self.erc,
                             self.nrw, self.skew_on, self.nr_tab, self.nr_tab_base, nph, ne)
        return nph, ne


def quanta_model(xe: XenonConfig) -> QuantaModel:
    return QuantaModel(xe.drift_field_v_cm, xe.density_g_cm3, xe.w_value_ev, xe.nr_yield_params, xe.nr_width_params)


# Outputs are allocated in the columns' file dtypes, so the chain does not copy them again.
def s1_response(rng, num_photons, xe: XenonConfig) -> dict:
    """S1 of each event (:func:`_s1_kernel`): columns s1_phd, s1_pe, s1_pass."""
    nph = np.ascontiguousarray(num_photons)
    n = nph.size
    phd = np.empty(n, dtype=np.int32)
    pe = np.empty(n, dtype=np.float32)
    ok = np.empty(n, dtype=np.bool_)
    _s1_kernel(state_from(rng), nph, xe.g1_phd, xe.p_dphe, xe.spe_efficiency, xe.spe_resolution,
               xe.s1_coincidence,
               xe.s1_threshold_pe, np.zeros(xe.n_pmts, dtype=np.int64), phd, pe, ok)
    return {"s1_phd": phd, "s1_pe": pe, "s1_pass": ok}


def s2_response(rng, num_electrons, drift_time_us, s1_pass, xe: XenonConfig) -> dict:
    """S2 of each event (:func:`_s2_kernel`): columns s2_electrons, s2_pe, triggered, s2_only."""
    ne = np.ascontiguousarray(num_electrons)
    n = ne.size
    ext = np.empty(n, dtype=np.int32)
    pe = np.empty(n, dtype=np.float32)
    dt = np.ascontiguousarray(drift_time_us)
    trig = np.empty(n, dtype=np.bool_)
    s2_only = np.empty(n, dtype=np.bool_)
    _s2_kernel(state_from(rng), ne, dt, xe.electron_lifetime_us, xe.extraction_efficiency, xe.se_gain_pe,
               xe.se_gain_sigma_pe, xe.s2_threshold_pe, np.ascontiguousarray(s1_pass, dtype=np.bool_), ext,
               pe, trig, s2_only)
    return {"s2_electrons": ext, "s2_pe": pe, "triggered": trig, "s2_only": s2_only}
