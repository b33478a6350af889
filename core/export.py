"""The engine's output as a CaptureResult: the world turned Z up with the ground at z = 0.

The ground is first put where the planted ankles stand, less the COCO ankle keypoint's usual height
above the floor (:data:`ANKLE_HEIGHT`, core.ground); once the feet are planted and laid flat
(core.contact), it is moved to where the planted soles stand: the mesh's lowest point, median over
the frames a foot is planted. The fixed ankle height had left them standing above the floor or
sunk into it by the body's own: on the demo (``bench e2e``, the truth's planted frames) the soles
stood 10.3 mm above the ground (median), now -0.7 mm."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from . import __version__
from .contact import plant_feet as _plant_feet
from .contact import sole_height
from .ground import ground_plane
from .result import CaptureResult, ClipResult, Motion

L_SH, R_SH, L_ANK, R_ANK = 5, 6, 15, 16
ANKLE_HEIGHT = 0.08  # the COCO ankle keypoint's height above the floor, metres


def world_frame(keypoints: np.ndarray, fps: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Rotation W and offset b taking the engine's world (the reference camera's frame) to a Z-up
    world: up normal to the ground the planted feet trace (core.ground; where too few stand still,
    the mean ankles-to-shoulders direction), x along the camera's x made horizontal, ground (the
    planted ankles', or else the low ankles', height minus the ankle height) at z = 0, the first
    frame's feet at x = y = 0. keypoints (N,17,3) of the reference clip at ``fps``."""
    up = (keypoints[:, [L_SH, R_SH]].mean(1) - keypoints[:, [L_ANK, R_ANK]].mean(1)).mean(0)
    plane = ground_plane(keypoints[:, [L_ANK, R_ANK]], up, fps)
    z = up / max(np.linalg.norm(up), 1e-9) if plane is None else plane[0]
    x = np.array([1.0, 0.0, 0.0]) - z[0] * z
    x /= max(np.linalg.norm(x), 1e-9)
    y = np.cross(z, x)
    w = np.stack([x, y, z])
    moved = keypoints @ w.T
    ankles = np.percentile(moved[:, [L_ANK, R_ANK], 2].min(1), 2) if plane is None else plane[1]
    feet = moved[0, [L_ANK, R_ANK]].mean(0)
    return w, -np.array([feet[0], feet[1], ankles - ANKLE_HEIGHT])


def _motion(pose, transl, betas, fps, w, b, body) -> Motion:
    import torch

    with torch.no_grad():
        j0 = body(torch.zeros(1, 24, 3), torch.as_tensor(betas, dtype=torch.float32)).joints[0, 0].numpy()
    pose = pose.astype(np.float64).copy()
    pose[:, 0] = (Rotation.from_matrix(w) * Rotation.from_rotvec(pose[:, 0])).as_rotvec()
    transl = (j0 + transl) @ w.T + b - j0
    return Motion(pose.astype(np.float32), np.asarray(betas, np.float32), transl.astype(np.float32), float(fps))


def panning_rotations(K: np.ndarray, R0: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per-frame camera rotations (N,3,3) of a camera turning about its centre, from its first
    frame's rotation ``R0`` and the homographies ``h`` (N,3,3) mapping each frame onto the first:
    H_k^-1 = K R_k R0^T K^-1, so R_k = K^-1 H_k^-1 K R0, made orthonormal. K's focal length is the
    one the homographies themselves imply (``core.stabilise.focal_from_homographies``) where they
    fix it: a bundle-adjusted focal length can be tens of percent off (depth trades against it for
    a distant performer), which would scale every turn."""
    from .stabilise import focal_from_homographies

    f = focal_from_homographies(h, K[:2, 2])
    if np.isfinite(f):
        K = K.copy()
        K[0, 0] = K[1, 1] = f
    m = np.linalg.inv(K) @ np.linalg.inv(h) @ K @ R0
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, 2] *= d[:, None]
    return u @ vt


def to_capture_result(out, tracks, body, paths: list[str], settings: dict | None = None,
                      homographies: list | None = None, plant_feet: bool = True) -> CaptureResult:
    """``out`` a core.engine.CaptureOutput for ``tracks`` (clips at ``paths``); ``homographies``:
    per clip None (a still camera) or (N,3,3) mapping each frame onto the first (a panning one,
    whose tracks were warped by them). ``plant_feet``: the consensus motion's feet that stand still
    held in place and flat (core.contact; each clip's own motion stays as fitted to its clip), and
    the ground put under their soles (module docstring); the quality's ``planted_frames`` counts the
    frames each ankle (left, right) stands planted."""
    st, corr = out.state, out.corr
    ref = corr.reference
    w, b = world_frame(st.keypoints[ref], tracks[ref].fps)
    shared = st.shared_pose is not None
    consensus = _motion(st.shared_pose if shared else st.pose[ref], st.shared_transl if shared else st.transl[ref],
                        st.betas[ref], tracks[ref].fps, w, b, body)
    planted = None
    if plant_feet:
        consensus, planted = _plant_feet(consensus, body, ANKLE_HEIGHT)
        lift = sole_height(consensus, body, planted)
        if lift is not None:  # the ground where the planted soles stand (module docstring)
            b = b - np.array([0.0, 0.0, lift])
            consensus = replace(consensus, transl=(consensus.transl - np.array([0, 0, lift], np.float32)))
    clips = []
    for j, (t, cam) in enumerate(zip(tracks, st.cameras)):
        motion = _motion(st.pose[j], st.transl[j], st.betas[j], t.fps, w, b, body)
        R = cam.R @ w.T
        h = homographies[j] if homographies else None
        rotations = None if h is None else panning_rotations(cam.K, R, h[:t.frames])
        clips.append(ClipResult(
            path=str(paths[j]), fps=float(t.fps), size=tuple(int(v) for v in t.size), K=cam.K, R=R, t=cam.t - R @ b,
            ref_time=np.asarray(corr.ref_time[j], np.float64), clip_time=np.asarray(corr.clip_time[j], np.float64),
            motion=motion, reproj_px=float(np.median(st.reproj_px[j])), sync_confidence=float(corr.confidence[j]),
            rotations=rotations, mirrored=j in out.flipped))
    return CaptureResult(
        clips=tuple(clips), reference=ref, motion=consensus, body=body.rest(st.betas[ref]),
        quality={"reproj_px": [c.reproj_px for c in clips], "sync_confidence": [c.sync_confidence for c in clips],
                 "warnings": list(out.warnings), "rounds": out.rounds,
                 "planted_frames": [0, 0] if planted is None else [int(n) for n in planted.sum(0)]},
        settings=settings or {}, versions={"imocap": __version__, "body_model": body.name}, contacts=planted)
