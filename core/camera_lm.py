"""Levenberg-Marquardt for the camera adjustment (:mod:`core.camera_ba`, both stages): cameras,
free 3D points and the limbs' lengths fitted to the 2D keypoints, with an analytic sparse
Jacobian, Huber weights recomputed at every step (iteratively reweighted least squares) and the
damped normal equations solved by SciPy's sparse LU.

Why not SciPy's ``least_squares`` (trust region, finite-difference Jacobian), which the coarse
stage used until 2026-11-24: on this problem it never converged. From the true cameras
(DeepMimic kick, two views) it stopped at its evaluation limit, 60 or 300 alike, wherever the
flat valley between the focal lengths and the structure's depth had taken it, so the answer moved
with the float path (8.5 or 15.7 degrees out with 2 or 1 threads). Here, 200 steps (1-4 s) reach
a minimum, the same on both float paths.

Unknowns: each non-reference camera's rotation (a left-multiplied rotation vector per step) and
translation, every camera's log focal length (within ``log_bounds``; ``hold`` keeps some fixed),
the points, and the limb lengths. ``focal_prior`` (weight, log guesses) pulls each free log
focal length towards its guess: see :func:`core.camera_ba.refine_cameras` for when it applies.
With :class:`Timing`, also each non-reference clip's times (an offset and a tilt, in reference
frames): its observations see the points interpolated between reference frames at those times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


MAX_SHIFT = 2.0  # reference frames: the most a clip's time offset (or tilt) may move


@dataclass(frozen=True)
class Observations:
    """point (n,), camera (n,), uv (n,2) and weight (n,) of each 2D keypoint; limbs' point pairs
    ``limb_a``, ``limb_b`` and their length's index ``limb_l``, weighted by ``limb_px``."""

    point: np.ndarray
    camera: np.ndarray
    uv: np.ndarray
    weight: np.ndarray
    limb_a: np.ndarray
    limb_b: np.ndarray
    limb_l: np.ndarray
    limb_px: float
    timing: "Timing | None" = None  # with it, ``point`` is not used


@dataclass(frozen=True)
class Timing:
    """Observations at fitted times: observation o sees keypoint ``keypoint[o]`` at reference time
    ``time[o]`` + offset + tilt x ``rel[o]`` (its camera's time parameters), the point there
    interpolated between those of the two reference frames around it (``table`` (N_ref, 17): the
    point of each frame and keypoint, -1 where none: an observation that needs a missing one
    counts for nothing)."""

    time: np.ndarray
    keypoint: np.ndarray
    rel: np.ndarray
    table: np.ndarray


class _Fit:
    """Residuals and Jacobian of one adjustment; the state is (R, t, logf, X, L)."""

    def __init__(self, obs: Observations, centres, ref, hold, log_bounds, focal_prior):
        self.o, self.centres, self.ref = obs, centres, ref
        self.m, self.n_o, self.n_l = len(centres), len(obs.point), len(obs.limb_a)
        self.free = [j for j in range(self.m) if j != ref]
        self.nc = 6 * len(self.free)
        self.slot = np.array([6 * self.free.index(j) if j != ref else -1 for j in range(self.m)])
        self.hold, self.lo, self.hi = hold, log_bounds[0], log_bounds[1]
        weight, guess = focal_prior if focal_prior is not None else (0.0, np.zeros(self.m))
        self.prior_w, self.prior_at = float(weight), np.asarray(guess, float)
        self.prior_j = np.where(~hold)[0] if self.prior_w > 0 else np.zeros(0, int)
        # the time parameters' columns (after the limb lengths): offset, tilt per non-reference clip
        self.n_t = 2 * len(self.free) if obs.timing is not None else 0

    def where(self, tau):
        """Per observation: its two points, the second's weight, whether it sees a point, and
        whether its time is inside the reference timeline (else clamped: it does not move)."""
        o, tm = self.o, self.o.timing
        if tm is None:
            return o.point, o.point, np.zeros(self.n_o), np.ones(self.n_o, bool), np.zeros(self.n_o, bool)
        n_ref = len(tm.table)
        raw = tm.time + tau[o.camera, 0] + tau[o.camera, 1] * tm.rel
        at = np.clip(raw, 0, n_ref - 1)
        i0 = np.minimum(np.floor(at).astype(int), max(n_ref - 2, 0))
        p0, p1 = tm.table[i0, tm.keypoint], tm.table[np.minimum(i0 + 1, n_ref - 1), tm.keypoint]
        w = at - i0
        ok = ((p0 >= 0) | (w >= 1)) & ((p1 >= 0) | (w <= 0))  # the points it needs exist
        p0, p1 = np.where(p0 >= 0, p0, np.maximum(p1, 0)), np.where(p1 >= 0, p1, np.maximum(p0, 0))
        return p0, p1, w, ok, raw == at

    def residuals(self, state):
        R, t, logf, X, L, tau = state
        o = self.o
        p0, p1, w, ok, inside = self.where(tau)
        seen = (1 - w)[:, None] * X[p0] + w[:, None] * X[p1]
        pc = np.einsum("oij,oj->oi", R[o.camera], seen) + t[o.camera]
        z = np.maximum(pc[:, 2], 1e-3)
        f = np.exp(logf)[o.camera]
        uv = f[:, None] * pc[:, :2] / z[:, None] + self.centres[o.camera]
        d = X[o.limb_a] - X[o.limb_b]
        n = np.linalg.norm(d, axis=1)
        limb = o.limb_px * (n / np.maximum(L[o.limb_l], 1e-6) - 1)
        prior = self.prior_w * (logf[self.prior_j] - self.prior_at[self.prior_j])
        r = np.concatenate([((uv - o.uv) * (o.weight * ok)[:, None]).ravel(), limb, prior])
        return r, (pc, z, f, d, n, (p0, p1, w, ok, inside))

    def jacobian(self, state, parts):
        import scipy.sparse as sps

        R, t, logf, X, L, tau = state
        pc, z, f, d, n, (p0, p1, w, ok, inside) = parts
        o, m, nc, n_o = self.o, self.m, self.nc, self.n_o
        n_x = nc + m + X.size + len(L) + self.n_t
        rows, cols, vals = [], [], []

        def put(r, c, v):
            rows.append(r), cols.append(c), vals.append(v)

        # d(uv)/d(camera-frame point), weighted: (n_o, 2, 3)
        duv = np.zeros((n_o, 2, 3))
        duv[:, 0, 0] = duv[:, 1, 1] = f / z
        duv[:, :, 2] = -f[:, None] * pc[:, :2] / z[:, None] ** 2
        duv[pc[:, 2] < 1e-3, :, 2] = 0.0  # the depth clamp
        duv *= (o.weight * ok)[:, None, None]
        d_point = np.einsum("oab,obc->oac", duv, R[o.camera])
        d_time = np.einsum("oac,oc->oa", d_point, X[p1] - X[p0]) * inside[:, None]  # along its segment
        rx = pc - t[o.camera]  # R X: a left rotation w moves it by w x RX = -[RX]x w
        cross = np.zeros((n_o, 3, 3))
        cross[:, 0, 1], cross[:, 0, 2], cross[:, 1, 2] = rx[:, 2], -rx[:, 1], rx[:, 0]
        cross[:, 1, 0], cross[:, 2, 0], cross[:, 2, 1] = -rx[:, 2], rx[:, 1], -rx[:, 0]
        d_rot = np.einsum("oab,obc->oac", duv, cross)
        moving = o.camera != self.ref
        slot = self.slot[o.camera]
        t_col = nc + m + X.size + len(L) + slot // 3  # each clip's offset, then its tilt
        for a in range(2):
            row = 2 * np.arange(n_o) + a
            put(row, nc + o.camera, o.weight * ok * f * pc[:, a] / z)
            if self.n_t:
                put(row[moving], t_col[moving], d_time[moving, a])
                put(row[moving], t_col[moving] + 1, d_time[moving, a] * o.timing.rel[moving])
            for c in range(3):
                put(row, nc + m + 3 * p0 + c, d_point[:, a, c] * (1 - w))
                if self.n_t:
                    put(row, nc + m + 3 * p1 + c, d_point[:, a, c] * w)
                put(row[moving], slot[moving] + c, d_rot[moving, a, c])
                put(row[moving], slot[moving] + 3 + c, duv[moving, a, c])
        limb_rows = 2 * n_o + np.arange(self.n_l)
        length = np.maximum(L[o.limb_l], 1e-6)
        g = o.limb_px * d / (np.maximum(n, 1e-12) * length)[:, None]
        for c in range(3):
            put(limb_rows, nc + m + 3 * o.limb_a + c, g[:, c])
            put(limb_rows, nc + m + 3 * o.limb_b + c, -g[:, c])
        put(limb_rows, nc + m + X.size + o.limb_l, -o.limb_px * n / length ** 2)
        put(2 * n_o + self.n_l + np.arange(len(self.prior_j)), nc + self.prior_j,
            np.full(len(self.prior_j), self.prior_w))
        n_r = 2 * n_o + self.n_l + len(self.prior_j)
        jac = sps.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_r, n_x))
        keep = np.ones(n_x)
        keep[nc + np.where(self.hold)[0]] = 0.0
        return jac @ sps.diags(keep)

    def step(self, state, dx):
        from scipy.spatial.transform import Rotation

        R, t, logf, X, L, tau = state
        nc, m = self.nc, self.m
        R2, t2 = R.copy(), t.copy()
        moved = np.array(self.free, int)
        if len(moved):
            blocks = dx[:nc].reshape(-1, 6)
            R2[moved] = Rotation.from_rotvec(blocks[:, :3]).as_matrix() @ R[moved]
            t2[moved] = t[moved] + blocks[:, 3:]
        logf2 = np.where(self.hold, logf, np.clip(logf + dx[nc:nc + m], self.lo, self.hi))
        X2 = X + dx[nc + m:nc + m + X.size].reshape(X.shape)
        n_xl = nc + m + X.size + len(L)
        tau2 = tau.copy()
        if self.n_t:
            tau2[moved] = np.clip(tau[moved] + dx[n_xl:].reshape(-1, 2), -MAX_SHIFT, MAX_SHIFT)
        return R2, t2, logf2, X2, L + dx[nc + m + X.size:n_xl], tau2


def huber_cost(r: np.ndarray, scale: float) -> float:
    a = np.abs(r)
    return float(np.where(a <= scale, 0.5 * r * r, scale * a - 0.5 * scale * scale).sum())


def adjust(obs: Observations, state: tuple, centres: np.ndarray, ref: int, hold: np.ndarray,
           log_bounds: tuple, huber_px: float, focal_prior: tuple | None = None, iterations: int = 200,
           tol: float = 1e-7) -> tuple[tuple, np.ndarray, np.ndarray, float, int]:
    """The fitted state (R (m,3,3), t (m,3), logf (m,), X (n,3), L (lengths)[, tau (m,2): each
    clip's time offset and tilt, with ``obs.timing``]) from ``state``, with the residuals before
    and after, the Huber cost and the steps taken (accepted); stops when a step lowers the cost by
    less than ``tol`` of it, or after ``iterations`` steps."""
    import scipy.sparse as sps
    from scipy.sparse.linalg import spsolve

    given = len(state)
    if given == 5:
        state = tuple(state) + (np.zeros((len(centres), 2)),)
    fit = _Fit(obs, centres, ref, hold, log_bounds, focal_prior)
    r, parts = fit.residuals(state)
    before = r
    cost, damping, steps = huber_cost(r, huber_px), 1e-3, 0
    while steps < iterations:
        a = np.abs(r)
        w = np.where(a <= huber_px, 1.0, huber_px / np.maximum(a, 1e-12))
        jac = fit.jacobian(state, parts)
        jw = jac.T @ sps.diags(w)
        normal = (jw @ jac).tocsc()
        grad = jw @ r
        diag = normal.diagonal()
        diag = np.maximum(diag, 1e-9 * max(diag.max(), 1.0))
        while damping < 1e10:
            dx = spsolve((normal + sps.diags(damping * diag)).tocsc(), -grad)
            trial = fit.step(state, dx)
            r2, parts2 = fit.residuals(trial)
            cost2 = huber_cost(r2, huber_px)
            if np.isfinite(cost2) and cost2 < cost:
                damping = max(damping / 3, 1e-9)
                break
            damping *= 4
        else:
            break  # no step lowers the cost: a minimum
        done = cost - cost2 < tol * cost
        state, r, parts, cost, steps = trial, r2, parts2, cost2, steps + 1
        if done:
            break
    return state[:given], before, r, cost, steps
