"""The answer's bodies measured again after a change made once the fits are done (core.extremities,
core.steady): keypoints and joints from the body model, reprojection errors against the 2D."""

from __future__ import annotations

import numpy as np
import torch

from .fitting import fit_confidence


def bodies(body, pose, betas, transl, offsets=None) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (N,17,3) float64, with the keypoints' ``offsets`` (17,3) if any, and joints
    (N,24,3) of the bodies ``pose`` (N,24,3), ``betas``, ``transl`` (N,3)."""
    args = [torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in (pose, betas, transl)]
    off = None if offsets is None else torch.as_tensor(offsets, dtype=torch.float32)
    with torch.no_grad():
        out = body(*args, offsets=off)
    return out.keypoints.numpy().astype(np.float64), out.joints.numpy()


def reprojection_px(keypoints: np.ndarray, camera, track, min_conf: float) -> np.ndarray:
    """(N,) per frame, the mean pixel distance between ``keypoints`` (N,17,3, world) seen through
    ``camera`` and ``track``'s 2D over the keypoints the fits use (core.ba's measure; 0 where none)."""
    uv, _ = camera.pixels(keypoints)
    used = fit_confidence(track.confidence, min_conf) > 0
    dist = np.linalg.norm(uv - track.keypoints, axis=-1)
    return np.where(used, dist, 0.0).sum(1) / np.maximum(used.sum(1), 1)
