"""A built-in demonstration capture: the body model performing a procedural jumping-jack motion,
seen by several virtual cameras with different start times and frame rates.

It exercises every part of a CaptureResult (cameras, time maps both ways, per-clip motion,
consensus motion, body rest data) with known values, so the Blender side and the tests have a
result with exact answers before any video is involved. It is not a capture of anything.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from . import __version__
from .geometry import intrinsics, look_at_camera
from .result import CaptureResult, ClipResult, Motion

L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_KNEE, R_KNEE, L_ELBOW, R_ELBOW = 16, 17, 1, 2, 4, 5, 18, 19
UPRIGHT = Rotation.from_euler("x", 90, degrees=True)  # SMPL's Y-up model frame -> Z-up world


def jumping_jacks(frames: int, fps: float) -> Motion:
    """SMPL parameters of ``frames`` frames of jumping jacks at ``fps``, turning slowly, Z-up world."""
    t = np.arange(frames) / fps
    phase = 0.5 - 0.5 * np.cos(2 * np.pi * t / 1.2)  # 0 (arms down) .. 1 (arms up), 1.2 s period
    pose = np.zeros((frames, 24, 3))
    heading = Rotation.from_euler("z", 0.4 * t[:, None])  # turns 0.4 rad/s about the vertical
    pose[:, 0] = (heading * UPRIGHT).as_rotvec()
    arm = np.deg2rad(-75 + 140 * phase)  # about the body's forward axis (model +Z)
    pose[:, L_SHOULDER, 2] = arm
    pose[:, R_SHOULDER, 2] = -arm
    pose[:, L_ELBOW, 1] = -0.3 * phase
    pose[:, R_ELBOW, 1] = 0.3 * phase
    pose[:, L_HIP, 2] = np.deg2rad(15) * phase
    pose[:, R_HIP, 2] = -np.deg2rad(15) * phase
    pose[:, L_KNEE, 0] = pose[:, R_KNEE, 0] = 0.25 * (1 - np.abs(2 * phase - 1))
    transl = np.stack([0.3 * np.sin(0.5 * t), 0.2 * t, 0.92 + 0.12 * np.sin(np.pi * phase)], axis=1)
    return Motion(pose.astype(np.float32), np.zeros(10, np.float32), transl.astype(np.float32), float(fps))


def resample_motion(m: Motion, times: np.ndarray, fps: float) -> Motion:
    """``m`` at fractional frame indices ``times`` (N,): rotations by slerp, translation linearly."""
    times = np.clip(times, 0, m.frames - 1)
    i0 = np.floor(times).astype(int)
    i1 = np.minimum(i0 + 1, m.frames - 1)
    w = (times - i0)[:, None]
    r0 = Rotation.from_rotvec(m.pose[i0].reshape(-1, 3).astype(np.float64))
    r1 = Rotation.from_rotvec(m.pose[i1].reshape(-1, 3).astype(np.float64))
    delta = (r0.inv() * r1).as_rotvec() * np.repeat(w, 24, axis=0)
    pose = (r0 * Rotation.from_rotvec(delta)).as_rotvec().reshape(-1, 24, 3)
    transl = (1 - w) * m.transl[i0] + w * m.transl[i1]
    return Motion(pose.astype(np.float32), m.betas.copy(), transl.astype(np.float32), float(fps))


def demo_capture(body, frames: int = 90, fps: float = 30.0, clips: int = 3) -> CaptureResult:
    """The demonstration CaptureResult. ``body`` is a :class:`core.body.BodyModel`."""
    motion = jumping_jacks(frames, fps)
    sizes = [(1280, 720), (1920, 1080), (1080, 1920), (1280, 720)]
    clip_fps = [fps, 25.0, 24.0, fps]
    out = []
    for j in range(clips):
        az = np.deg2rad(-90 + 110 * j)
        pos = np.array([4.5 * np.cos(az), 4.5 * np.sin(az), 1.3 + 0.3 * j])
        rot, tr = look_at_camera(pos, np.array([0.0, 0.3, 0.9]))
        w, h = sizes[j % len(sizes)]
        f = (0.8 + 0.3 * j) * max(w, h)
        k = intrinsics(f, w, h)
        cf = clip_fps[j % len(clip_fps)]
        start = 0.0 if j == 0 else 6.0 * j  # reference frame at the clip's frame 0
        n = int(np.floor((frames - 1 - start) * cf / fps)) + 1
        ref_time = start + np.arange(n) * fps / cf
        clip_time = (np.arange(frames) - start) * cf / fps
        clip_time[(clip_time < 0) | (clip_time > n - 1)] = np.nan
        out.append(ClipResult(
            path=f"demo_clip_{j}.mp4", fps=cf, size=(w, h), K=k, R=rot, t=tr,
            ref_time=ref_time, clip_time=clip_time, motion=resample_motion(motion, ref_time, cf)))
    return CaptureResult(
        clips=tuple(out), reference=0, motion=motion, body=body.rest(motion.betas),
        quality={"note": "synthetic demonstration: no video was captured; no quality figures"},
        settings={"kind": "demo", "frames": frames, "fps": fps, "clips": clips},
        versions={"imocap": __version__, "body_model": body.name})
