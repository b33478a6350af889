"""Which way is up and where the ground is, from where the feet stand still.

The capture's world is the reference camera's frame, and nothing in it says which way is up. The
body's mean lean from ankles to shoulders gives a first guess, but a performer who leans into the
action (forward jumps, a run) tilts it, and so does a camera whose focal length and depth are
off together: the ground then slopes under the motion. On the demo (``bench e2e``, forward jumps
over 3 m) it sloped by 4.6 degrees along the path, and the feet stood 26 cm (median) higher or lower
above the floor than the truth's, up to 36 cm.

A planted foot stands on the ground, so the ankles' positions in the frames where they stand still
trace it: the ground is the plane fitted to them, robustly (a foot still in the air at the top of
a jump is an outlier), with its tilt drawn towards the body's guess where the planted feet span too
little to fix it (a performer who stays in place: only the two feet's width). Fitted so, the demo's
feet are 40 mm from the truth's heights (median).
"""

from __future__ import annotations

import numpy as np

STILL_SPEED = 0.3  # m/s: an ankle moving slower than this is taken as planted
MIN_PLANTED = 10  # planted ankle positions needed to fit the ground
# the pull of the tilt towards the body's guess: as many squared metres of spread as it outweighs
# (the planted feet spread over 3 m along a path outweigh it a hundredfold; two feet 0.25 m apart,
# seen in 20 frames, about as much as it)
RIDGE = 1.0
SCALE = 0.03  # m: the Geman-McClure scale of the planted ankles' heights about the plane
MAX_TILT_DEG = 20.0  # a plane tilted further from the body's guess is not trusted


def planted(ankles: np.ndarray, fps: float) -> np.ndarray:
    """(N,2) which ankles (N,2,3) stand still: the speed between each frame's neighbours under
    :data:`STILL_SPEED` (the first and last frames never count)."""
    speed = np.full(ankles.shape[:2], np.inf)
    speed[1:-1] = np.linalg.norm(ankles[2:] - ankles[:-2], axis=-1) * fps / 2
    return np.nan_to_num(speed, nan=np.inf) < STILL_SPEED


def ground_plane(ankles: np.ndarray, up: np.ndarray, fps: float) -> tuple[np.ndarray, float] | None:
    """The ground under ``ankles`` (N,2,3) (metres, any frame): its unit normal, on the side of
    ``up`` (the first guess), and the planted ankles' height along it (the ground's height is that
    less the ankle's own); None where too few ankles stand still or the plane tilts over
    :data:`MAX_TILT_DEG` from ``up``."""
    up = up / np.linalg.norm(up)
    side = np.eye(3)[np.argmin(np.abs(up))]
    e1 = np.cross(up, side)
    e1 /= np.linalg.norm(e1)
    basis = np.stack([e1, np.cross(up, e1), up])
    still = ankles[planted(ankles, fps)]
    still = still[np.isfinite(still).all(1)] @ basis.T
    if len(still) < MIN_PLANTED:
        return None
    x = np.c_[still[:, :2], np.ones(len(still))]
    prior = np.diag([RIDGE, RIDGE, 0.0])
    w = np.ones(len(still))
    for _ in range(10):  # iteratively reweighted least squares of the heights on the plane
        coef = np.linalg.solve(x.T @ (w[:, None] * x) + prior, x.T @ (w * still[:, 2]))
        r = still[:, 2] - x @ coef
        w = SCALE ** 2 / (SCALE ** 2 + r ** 2)
    normal = basis.T @ np.array([-coef[0], -coef[1], 1.0])
    normal /= np.linalg.norm(normal)
    if np.degrees(np.arccos(np.clip(normal @ up, -1.0, 1.0))) > MAX_TILT_DEG:
        return None
    heights = still @ basis @ normal
    return normal, float(np.sum(w * heights) / np.sum(w))
