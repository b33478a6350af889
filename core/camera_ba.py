"""Camera refinement by a classical bundle adjustment over free 3D points: the keypoints of every
(sub-sampled) reference frame are points, seen by the clips the synchronisation maps there; all
cameras (rotation, translation, focal length; the reference's pose fixed as the world) and all
points are fitted together to the 2D keypoints (Huber-robust, confidence-weighted), with SciPy's
sparse trust-region least squares.

Why: registration from monocular bodies leaves cameras off by several degrees and focal lengths
by tens of percent (monocular depth is weak), and the SMPL bundle adjustment, whose per-clip
motions may depart from the shared one, can absorb a camera's error into its clip's pose instead
of correcting it. Free points carry no such freedom: only the cameras can explain the views'
disagreement. Alternating resection and intersection was tried first and drifts (each camera fits
a structure distorted by the others)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .cameras import Camera, sample
from .triangulate import triangulate

KEYPOINTS = np.arange(5, 17)  # shoulders .. ankles: the reliable ones
FOCAL_RANGE = (0.3, 6.0)  # x the image's larger side: ~118 to ~5 degrees of horizontal field of view


def _rodrigues(rv: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(rv).as_matrix()


def refine_cameras(tracks, corr, cameras: list[Camera], max_points: int = 2000, min_conf: float = 0.3,
                   huber_px: float = 4.0, max_nfev: int = 200, limb_px: float = 50.0,
                   known_focal: list | None = None) -> tuple[list[Camera], dict]:
    """Cameras after the bundle adjustment (the reference camera's pose unchanged), and figures
    (points, observations, reprojection px before/after). ``known_focal[j]``, where not None, is
    clip j's focal length, held fixed (a panning camera's, from its homographies)."""
    known = [None] * len(cameras) if known_focal is None else list(known_focal)
    cameras = [replace(c, focal=float(f)) if f is not None and np.isfinite(f) else c for c, f in zip(cameras, known)]
    hold = np.array([f is not None and np.isfinite(f) for f in known])
    from scipy.optimize import least_squares
    from scipy.sparse import lil_matrix

    m = len(tracks)
    ref = corr.reference
    if m < 2:
        return list(cameras), {}
    pts, seen = triangulate(tracks, corr, cameras)
    n_ref = pts.shape[0]
    frames = np.where(seen[:, KEYPOINTS].any(1))[0]
    stride = max(1, int(np.ceil(len(frames) * len(KEYPOINTS) / max_points)))
    frames = frames[::stride]
    pf, pk = np.meshgrid(frames, KEYPOINTS, indexing="ij")
    keep = seen[pf, pk]
    pf, pk = pf[keep], pk[keep]
    if len(pf) < 20:
        return list(cameras), {}
    x_pts = pts[pf, pk]
    obs_p, obs_c, obs_uv, obs_w = [], [], [], []
    for j, t in enumerate(tracks):
        ct = np.asarray(corr.clip_time[j], float)[pf]
        ok = np.isfinite(ct)
        uv = sample(t.keypoints.astype(np.float64), ct[ok])[np.arange(ok.sum()), pk[ok]]
        cf = sample(t.confidence.astype(np.float64), ct[ok])[np.arange(ok.sum()), pk[ok]]
        good = cf > min_conf
        obs_p.append(np.where(ok)[0][good])
        obs_c.append(np.full(good.sum(), j))
        obs_uv.append(uv[good])
        obs_w.append(np.sqrt(cf[good]))
    obs_p, obs_c, obs_uv, obs_w = (np.concatenate(a) for a in (obs_p, obs_c, obs_uv, obs_w))
    n_p, n_o = len(pf), len(obs_p)
    free = [j for j in range(m) if j != ref]
    slot = {j: i for i, j in enumerate(free)}
    centres = np.stack([c.centre for c in cameras])
    rv0 = np.array([_rotvec(c.R) for c in cameras])
    t0 = np.array([c.t for c in cameras])
    logf0 = np.log([c.focal for c in cameras])

    # limbs: the points of one limb in one frame (both ends kept), its length shared by all frames
    # and by the body's two sides (a human's bones are rigid and symmetric). Free points alone leave
    # the cameras' focal lengths and the structure's shape ambiguous with few views (3 views of the
    # protocol: 3 px reprojection, yet a focal length 10x off and cameras 20 degrees out).
    point_of = np.full((n_ref, 17), -1)
    point_of[pf, pk] = np.arange(len(pf))
    ends = np.array(LIMB_PAIRS)
    limb_a, limb_b = point_of[frames][:, ends[:, 0]], point_of[frames][:, ends[:, 1]]  # (frames, 8)
    both = (limb_a >= 0) & (limb_b >= 0)
    limb_a, limb_b = limb_a[both], limb_b[both]
    limb_l = np.broadcast_to(LIMB_SIDE, both.shape)[both]
    n_l = len(limb_a)
    n_len = int(LIMB_SIDE.max()) + 1
    length0 = np.ones(n_len)
    if n_l:
        d0 = np.linalg.norm(x_pts[limb_a] - x_pts[limb_b], axis=1)
        length0 = np.array([np.median(d0[limb_l == q]) if (limb_l == q).any() else 1.0 for q in range(n_len)])

    def unpack(x):
        rv, tt = rv0.copy(), t0.copy()
        k = 6 * len(free)
        for j in free:
            rv[j], tt[j] = x[6 * slot[j]:6 * slot[j] + 3], x[6 * slot[j] + 3:6 * slot[j] + 6]
        logf = np.where(hold, logf0, x[k:k + m])
        return rv, tt, logf, x[k + m:k + m + 3 * n_p].reshape(n_p, 3), x[k + m + 3 * n_p:]

    def residuals(x):
        rv, tt, logf, xp, lengths = unpack(x)
        rot = _rodrigues(rv)
        cam = np.einsum("oij,oj->oi", rot[obs_c], xp[obs_p]) + tt[obs_c]
        z = np.maximum(cam[:, 2], 1e-3)
        uv = np.exp(logf)[obs_c, None] * cam[:, :2] / z[:, None] + centres[obs_c]
        limb = np.linalg.norm(xp[limb_a] - xp[limb_b], axis=1) / np.maximum(lengths[limb_l], 1e-6) - 1
        return np.concatenate([((uv - obs_uv) * obs_w[:, None]).ravel(), limb_px * limb])

    x0 = np.concatenate([np.concatenate([rv0[j], t0[j]]) for j in free] + [np.log([c.focal for c in cameras]),
                                                                          x_pts.ravel(), length0])
    # the world's scale is left free (the reference camera's pose fixes the rest of the gauge): the
    # trust region's damping keeps it near its start, and a gauge row over all points would make
    # the finite-difference Jacobian cost one evaluation per point
    sparsity = lil_matrix((2 * n_o + n_l, len(x0)), dtype=np.int8)
    rows = np.arange(n_o)
    k = 6 * len(free)
    for d in range(2):
        for j in free:
            sel = rows[obs_c == j]
            for q in range(6):
                sparsity[2 * sel + d, 6 * slot[j] + q] = 1
        sparsity[2 * rows + d, k + obs_c] = 1
        for q in range(3):
            sparsity[2 * rows + d, k + m + 3 * obs_p + q] = 1
    limb_rows = 2 * n_o + np.arange(n_l)
    for q in range(3):
        sparsity[limb_rows, k + m + 3 * limb_a + q] = 1
        sparsity[limb_rows, k + m + 3 * limb_b + q] = 1
    sparsity[limb_rows, k + m + 3 * n_p + limb_l] = 1
    before = np.median(np.abs(residuals(x0)[:2 * n_o]).reshape(-1, 2).max(1))
    # focal lengths within what a video camera can have (FOCAL_RANGE x the image's larger side):
    # unbounded, a spinning performer seen by 4 cameras sent them to 50-2000x (orthographic
    # limits) with the cameras 50-90 degrees out. Bounds slow SciPy's trust region down (camera
    # stage 7 -> 16 s on the protocol), so they apply only when the free solution leaves the range.
    side = 2 * np.abs(centres).max(1)
    lo, hi = np.full(len(x0), -np.inf), np.full(len(x0), np.inf)
    lo[k:k + m] = np.log(FOCAL_RANGE[0] * side)
    hi[k:k + m] = np.log(FOCAL_RANGE[1] * side)

    def solve(start, bounds):
        # a robust loss whose scale is far below the starting residuals stalls (every residual sits in
        # its flat part): first at the scale of the starting error, then at the keypoints' noise
        kw = dict(jac_sparsity=sparsity, method="trf", x_scale="jac", max_nfev=max_nfev, bounds=bounds)
        sol = least_squares(residuals, start, loss="soft_l1", f_scale=max(huber_px, 2.0 * before), **kw)
        return least_squares(residuals, sol.x, loss="huber", f_scale=huber_px, **kw)

    sol = solve(x0, (-np.inf, np.inf))
    f_sol = unpack(sol.x)[2]
    if ((f_sol < lo[k:k + m]) | (f_sol > hi[k:k + m])).any():
        start = x0.copy()
        start[k:k + m] = np.clip(start[k:k + m], lo[k:k + m] + 1e-6, hi[k:k + m] - 1e-6)
        sol = solve(start, (lo, hi))
    rv, tt, logf, _, _ = unpack(sol.x)
    rot = _rodrigues(rv)
    out = [replace(c, R=rot[j] if j != ref else c.R, t=tt[j] if j != ref else c.t, focal=float(np.exp(logf[j])))
           for j, c in enumerate(cameras)]
    after = np.median(np.abs(sol.fun[:2 * n_o]).reshape(-1, 2).max(1))
    at_limit = [j for j in range(m) if not hold[j] and min(logf[j] - lo[k + j], hi[k + j] - logf[j]) < 1e-3]
    return out, {"points": int(n_p), "observations": int(n_o), "frames": int(len(frames)), "stride": stride,
                 "reproj_before_px": float(before), "reproj_after_px": float(after), "n_ref": int(n_ref),
                 "cost": float(sol.cost), "focal_at_limit": at_limit}


def _rotvec(r: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(r).as_rotvec()


LIMB_PAIRS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16))
LIMB_SIDE = np.array([0, 1, 0, 1, 2, 3, 2, 3])  # one length per bone for both sides


def limb_lengths(keypoints: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Median length of each limb segment (8,) over the frames of ``keypoints`` (N,17,3)."""
    a, b = np.array(LIMB_PAIRS).T
    d = np.linalg.norm(keypoints[:, a] - keypoints[:, b], axis=-1)
    if mask is not None:
        d = np.where(mask[:, a] & mask[:, b], d, np.nan)
    return np.nanmedian(d, axis=0)


def to_body_scale(tracks, corr, cameras: list[Camera], body_keypoints: np.ndarray) -> tuple[list[Camera], float]:
    """Cameras whose world is scaled so that the keypoints triangulated through them have the
    body's limb lengths (``body_keypoints`` (N,17,3), e.g. a monocular fit, set the lengths): the
    camera bundle adjustment fixes everything but the world's scale."""
    pts, seen = triangulate(tracks, corr, cameras)
    ratio = limb_lengths(body_keypoints) / limb_lengths(pts, seen)
    scale = float(np.nanmedian(ratio))
    if not np.isfinite(scale) or scale <= 0:
        return list(cameras), 1.0
    return [replace(c, t=c.t * scale) for c in cameras], scale
