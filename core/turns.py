"""Single frames turned the wrong way in a sequence of bodies: a monocular fit's front/back flip
(the 2D of a body facing the camera and of one facing away differ little), which the placement on
the triangulated torso does not undo where the fit also twisted the spine. Left in the bundle
adjustment's start, such a frame also puts the axis-angle unwrapping of the frames after it on
another branch: a whole turn apart, the same rotations at whole frames, nonsense between them."""

from __future__ import annotations

import numpy as np


def turned_frames(root_rotvec: np.ndarray, max_deg: float = 90.0, window: int = 2) -> np.ndarray:
    """(N,) True where a frame's root orientation is more than ``max_deg`` from most of its
    neighbours within ``window`` frames either side."""
    from scipy.spatial.transform import Rotation

    rot = Rotation.from_rotvec(np.asarray(root_rotvec, np.float64))
    n = len(root_rotvec)
    agree, count = np.zeros(n), np.zeros(n)
    for d in range(1, min(window, n - 1) + 1):
        ok = ((rot[d:] * rot[:-d].inv()).magnitude() < np.deg2rad(max_deg)).astype(float)
        agree[d:] += ok
        agree[:-d] += ok
        count[d:] += 1
        count[:-d] += 1
    return 2 * agree < count


def mend_turned_frames(pose: np.ndarray, max_deg: float = 90.0, window: int = 2) -> np.ndarray:
    """``pose`` (N,24,3) with its :func:`turned_frames` replaced by the frames around them: the
    root orientation by spherical interpolation, the joints' rotations linearly (the nearest
    frame's beyond the ends)."""
    from scipy.spatial.transform import Rotation, Slerp

    pose = np.asarray(pose)
    bad = turned_frames(pose[:, 0], max_deg, window)
    good = np.where(~bad)[0]
    if not bad.any() or len(good) < 2:
        return pose
    out = pose.astype(np.float64).copy()
    idx = np.where(bad)[0]
    t = np.clip(idx, good[0], good[-1]).astype(float)
    out[idx, 0] = Slerp(good.astype(float), Rotation.from_rotvec(out[good, 0]))(t).as_rotvec()
    b = np.clip(np.searchsorted(good, idx), 1, len(good) - 1)
    lo, hi = good[b - 1], good[b]
    w = np.clip((idx - lo) / (hi - lo), 0.0, 1.0)[:, None, None]
    out[idx, 1:] = (1 - w) * out[lo, 1:] + w * out[hi, 1:]
    return out.astype(pose.dtype)
