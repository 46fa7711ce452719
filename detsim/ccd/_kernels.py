"""The per-event CCD loop (electrons, diffusion onto a pixel patch, dark current, readout noise, clustering) and
its driver :func:`ccd_response`. ``ccd_loop`` is plain Python: the interpreter runs it as the draw-for-draw
reference, numba compiles the same source into the production kernel (the only numba in the package).

Why a loop: every event needs its own small image (patch_pixels^2 pixels) and a connected-component search;
vectorised numpy would allocate a patch per event and cannot flood-fill.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import RECOIL_DARK, CCDConfig
from .physics import dark_lambda, dark_seed_table, mean_electrons

__all__ = ["ccd_loop", "ccd_response"]


def ccd_loop(rng, mu_e, is_dark, depth_um, fano, a_um2, b_per_um, pix_um, g, lam, sigma_ro, pix_thr, k_min,
             seed_cdf):
    """Per event: (electrons, cluster charge e-, cluster pixels, cluster RMS um, diffusion sigma um)."""
    n = mu_e.shape[0]
    num_e = np.zeros(n, dtype=np.int64)
    charge = np.zeros(n, dtype=np.float64)
    npix = np.zeros(n, dtype=np.int32)
    rms = np.zeros(n, dtype=np.float64)
    sig = np.zeros(n, dtype=np.float64)
    q = np.zeros((g, g), dtype=np.float64)
    inc = np.zeros((g, g), dtype=np.bool_)
    stack = np.zeros(g * g, dtype=np.int64)
    half = g // 2
    p_keep = 1.0 - fano
    for i in range(n):
        for a in range(g):
            for b in range(g):
                q[a, b] = 0.0
                inc[a, b] = False
        if is_dark[i]:
            # a pixel holding >= k_min dark electrons (the background's rate counts exactly these pixels)
            u = rng.random()
            k = 0
            while k < seed_cdf.shape[0] - 1 and seed_cdf[k] < u:
                k += 1
            q[half, half] = k_min + k
        else:
            mu = mu_e[i]
            ne = 0
            if mu > 0.0:
                trials = mu / p_keep
                lo = np.floor(trials)
                nt = int(lo)
                if rng.random() < trials - lo:
                    nt += 1
                if nt > 0:
                    ne = rng.binomial(nt, p_keep)
            num_e[i] = ne
            z = depth_um[i]
            s = np.sqrt(max(-a_um2 * np.log(abs(1.0 - b_per_um * z)), 0.0))
            sig[i] = s
            if ne > 0:
                x0 = rng.random() * pix_um  # position of the deposit inside the central pixel
                y0 = rng.random() * pix_um
                for _ in range(ne):
                    ix = half + int(np.floor((x0 + s * rng.normal()) / pix_um))
                    iy = half + int(np.floor((y0 + s * rng.normal()) / pix_um))
                    # charge beyond the patch is kept on its edge (patch_pixels is chosen wide enough)
                    ix = min(max(ix, 0), g - 1)
                    iy = min(max(iy, 0), g - 1)
                    q[ix, iy] += 1.0
        if lam > 0.0:
            # independent Poisson(lam) per pixel, drawn as their Poisson total spread uniformly over the pixels (the
            # same law, one draw instead of g^2 when lam is small); a seed's dark charge is already drawn in full
            m_pix = g * g - 1 if is_dark[i] else g * g
            for _ in range(rng.poisson(lam * m_pix)):
                c = int(rng.random() * m_pix)
                if is_dark[i] and c >= half * g + half:
                    c += 1  # skip the seed pixel
                q[c // g, c % g] += 1.0
        if sigma_ro > 0.0:
            for a in range(g):
                for b in range(g):
                    q[a, b] += sigma_ro * rng.normal()
        # cluster: the brightest pixel and every pixel above threshold connected to it (8-neighbourhood)
        best = 0
        for c in range(g * g):
            if q[c // g, c % g] > q[best // g, best % g]:
                best = c
        if q[best // g, best % g] < pix_thr:
            continue
        top = 0
        stack[0] = best
        inc[best // g, best % g] = True
        tot = 0.0
        sx = 0.0
        sxx = 0.0
        sy = 0.0
        syy = 0.0
        m = 0
        while top >= 0:
            c = stack[top]
            top -= 1
            a, b = c // g, c % g
            w = q[a, b]
            tot += w
            sx += w * a
            sxx += w * a * a
            sy += w * b
            syy += w * b * b
            m += 1
            for da in range(-1, 2):
                for db in range(-1, 2):
                    aa, bb = a + da, b + db
                    if 0 <= aa < g and 0 <= bb < g and not inc[aa, bb] and q[aa, bb] >= pix_thr:
                        inc[aa, bb] = True
                        top += 1
                        stack[top] = aa * g + bb
        charge[i] = tot
        npix[i] = m
        if tot > 0.0:
            vx = max(sxx / tot - (sx / tot) ** 2, 0.0)
            vy = max(syy / tot - (sy / tot) ** 2, 0.0)
            rms[i] = pix_um * np.sqrt(0.5 * (vx + vy))
    return num_e, charge, npix, rms, sig


_ccd_kernel = njit(cache=True, nogil=True)(ccd_loop)


def ccd_response(rng, e_kevee, recoil_type, depth_um, ccd: CCDConfig, *, jit: bool = True) -> dict:
    """Electrons and the measured cluster of each event (``jit=False``: the interpreted reference, same draws)."""
    mu = mean_electrons(e_kevee, ccd.pair_energy_ev)  # a fresh contiguous float64 array
    dark = np.ascontiguousarray(np.asarray(recoil_type) == RECOIL_DARK)
    k_min, cdf = dark_seed_table(ccd)
    fn = _ccd_kernel if jit else ccd_loop
    num_e, charge, npix, rms, sig = fn(rng, mu, dark, np.ascontiguousarray(depth_um, dtype=np.float64), ccd.fano,
                                       ccd.diffusion_a_um2, ccd.diffusion_b_per_um, ccd.pixel_size_um,
                                       ccd.patch_pixels, dark_lambda(ccd), ccd.readout_noise_e,
                                       ccd.pixel_threshold_e, k_min, cdf)
    return {"num_electrons": num_e, "cluster_charge_e": charge, "num_pixels": npix, "cluster_rms_um": rms,
            "diffusion_sigma_um": sig}
