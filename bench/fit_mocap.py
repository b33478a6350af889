"""The body model fitted to real motion-capture joint positions, with the engine's own fitting
terms (``core.fitting``: hinge limits, temporal smoothness), so that a rendered or projected body
moves as the captured person did. Batched over all frames (torch)."""

from __future__ import annotations

import numpy as np
import torch

from core.fitting import joint_limit_penalty, smoothness
from core.result import Motion

from .mocap import Mocap

L_HIP, R_HIP, L_SHOULDER, R_SHOULDER = 1, 2, 16, 17


def facing(joints: np.ndarray) -> np.ndarray:
    """Axis-angle global orientations (N,3) turning the model's T-pose (Y up, X left, Z forward)
    to face where the hips and shoulders of ``joints`` (N,24,3, Z up) say."""
    from scipy.spatial.transform import Rotation

    left = np.nan_to_num(joints[:, L_HIP] - joints[:, R_HIP]) + np.nan_to_num(joints[:, L_SHOULDER]
                                                                              - joints[:, R_SHOULDER])
    left[:, 2] = 0.0
    left /= np.maximum(np.linalg.norm(left, axis=1, keepdims=True), 1e-9)
    up = np.broadcast_to([0.0, 0.0, 1.0], left.shape)
    fwd = np.cross(left, up)
    rot = np.stack([left, up, fwd], axis=2)  # columns: model X, Y, Z in the world
    return (Rotation.from_matrix(rot)).as_rotvec()


def fit_body(mocap: Mocap, body, iterations: int = 400, smooth: float = 1.0) -> tuple[Motion, dict]:
    """SMPL parameters (Z-up world) whose joints follow ``mocap``'s mapped joints; returns the
    motion at the mocap's rate and fit statistics (per-joint error in mm)."""
    dev = body.device
    target = torch.tensor(mocap.joints, dtype=torch.float32, device=dev)
    mask = ~torch.isnan(target[..., 0])
    target = torch.nan_to_num(target)
    n = mocap.frames
    pose = torch.zeros(n, 24, 3, device=dev)
    pose[:, 0] = torch.tensor(facing(mocap.joints), dtype=torch.float32)
    pose.requires_grad_(True)
    betas = torch.zeros(body.num_betas, device=dev, requires_grad=True)
    with torch.no_grad():
        rest = body(pose.detach(), betas.detach(), torch.zeros(n, 3, device=dev)).joints
    transl = (target[:, 0] - rest[:, 0]).clone().requires_grad_(True)
    opt = torch.optim.Adam([pose, betas, transl], lr=0.03)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations, eta_min=0.002)
    w = mask.float()[..., None]
    for _ in range(iterations):
        opt.zero_grad()
        j = body(pose, betas, transl).joints
        data = ((j - target) * w).square().sum() / w.sum()
        prior = 1e-3 * joint_limit_penalty(pose).mean() + 1e-3 * betas.square().sum()
        temporal = smooth * 1e-2 * (smoothness(pose[:, 1:]) + smoothness(transl)) / n
        (data * 1e4 + prior * 1e4 + temporal * 1e4).backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        j = body(pose, betas, transl).joints
        err = torch.linalg.norm(j - target, dim=-1)[mask].cpu().numpy() * 1000
    motion = Motion(pose.detach().cpu().numpy().astype(np.float32), betas.detach().cpu().numpy().astype(np.float32),
                    transl.detach().cpu().numpy().astype(np.float32), float(mocap.fps))
    return motion, {"fit_mean_mm": float(err.mean()), "fit_p95_mm": float(np.percentile(err, 95))}

