"""Elastic two-body kinematics of nu + A -> nu + A (exact relativistic expressions).

T_max = 2 E^2 / (M + 2E) and the minimum neutrino energy for a recoil T,
E_min = [T + sqrt(T^2 + 2 M T)] / 2; q^2 = 2 M T + T^2.
"""

from __future__ import annotations

import numpy as np

from .constants import HBARC_MEV_FM

__all__ = ["enu_min_mev", "kinematic_factor", "momentum_transfer_fm", "t_max_kev"]


def t_max_kev(enu_mev, mass_mev):
    """Maximum nuclear recoil kinetic energy (keV) for neutrino energy ``enu_mev`` on a nucleus of mass ``mass_mev``."""
    e = np.asarray(enu_mev, dtype=np.float64)
    return 2.0 * e * e / (mass_mev + 2.0 * e) * 1e3


def enu_min_mev(t_kev, mass_mev):
    """Minimum neutrino energy (MeV) able to give a recoil of ``t_kev``."""
    t = np.asarray(t_kev, dtype=np.float64) * 1e-3
    return 0.5 * (t + np.sqrt(t * t + 2.0 * mass_mev * t))


def momentum_transfer_fm(t_kev, mass_mev):
    """Three-momentum transfer |q| in fm^-1 for a recoil of kinetic energy ``t_kev``."""
    t = np.asarray(t_kev, dtype=np.float64) * 1e-3
    return np.sqrt(2.0 * mass_mev * t + t * t) / HBARC_MEV_FM


def kinematic_factor(enu_mev, t_kev, mass_mev):
    """1 - T/E - M T/(2E^2) + T^2/(2E^2), clamped at 0 and zero above T_max."""
    e = np.asarray(enu_mev, dtype=np.float64)
    t = np.asarray(t_kev, dtype=np.float64) * 1e-3
    es = np.where(e > 0, e, 1.0)  # E = 0 has no allowed recoil; avoid 0/0
    k = 1.0 - t / es - mass_mev * t / (2.0 * es * es) + t * t / (2.0 * es * es)
    return np.where((e > 0) & (t * 1e3 <= t_max_kev(e, mass_mev)) & (t >= 0), np.maximum(k, 0.0), 0.0)
