"""Monocular initialisation: per clip, per frame body pose, shape and translation in that clip's
camera frame, fitted to its 2D keypoints alone (no learned 3D model is available offline).

One batched torch problem over all frames of all clips: Geman-McClure reprojection weighted by
keypoint confidence (residuals in units of the person's height in the image), anatomical limits
of the hinge joints, a small pose prior, temporal smoothness of pose and translation, and a shape
prior; the shape is shared by all frames of a clip. The focal length is a guess (``focal_scale``
x image width, close to weak perspective); bundle adjustment refines it.

Initial orientation per frame from the 2D torso (facing the camera or away from it), depth from
the torso's size in the image. The fit runs in two stages: torso first (orientation, translation),
then everything.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .fitting import fit_confidence, geman_mcclure, joint_limit_penalty, project, smoothness
from .tracks import Tracks2D

L_SH, R_SH, L_HIP, R_HIP = 5, 6, 11, 12
TORSO = (L_SH, R_SH, L_HIP, R_HIP)


@dataclass(frozen=True)
class InitSettings:
    iterations: int = 250
    torso_iterations: int = 60
    lr: float = 0.05
    sigma: float = 0.05  # Geman-McClure scale, in person heights
    focal_scale: float = 1.1  # focal guess = focal_scale x image width
    w_pose: float = 2e-3
    w_limits: float = 1.0
    w_smooth_pose: float = 0.05
    w_smooth_transl: float = 0.5
    w_betas: float = 1.0  # per frame: a weak prior lets the shape stretch bones to fit depth-ambiguous 2D
    min_conf: float = 0.1  # keypoints below this are ignored
    device: str = "cpu"


@dataclass(frozen=True, eq=False)
class MonoFit:
    """One clip's monocular fit, camera frame (OpenCV axes). pose (N,24,3), betas (10,),
    transl (N,3), focal, centre (2,), keypoints (N,17,3), joints (N,24,3), valid (N,) frames with
    enough 2D evidence, reproj_px (N,) mean reprojection error per frame."""

    pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    focal: float
    centre: np.ndarray
    keypoints: np.ndarray
    joints: np.ndarray
    valid: np.ndarray
    reproj_px: np.ndarray


def _person_height(kp: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Per frame extent of the confident keypoints (pixels), filled across empty frames."""
    m = conf > 0.1
    ys = np.where(m, kp[..., 1], np.nan)
    xs = np.where(m, kp[..., 0], np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames where nobody was detected: NaN, filled below
        h = np.fmax(np.nanmax(ys, 1) - np.nanmin(ys, 1), np.nanmax(xs, 1) - np.nanmin(xs, 1))
    ok = np.isfinite(h) & (h > 4)
    if not ok.any():
        return np.full(len(kp), 100.0)
    idx = np.arange(len(h))
    return np.interp(idx, idx[ok], h[ok])


def initial_orientation(kp: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(N,3) axis-angle: upright, facing the camera where the person's left shoulder/hip appears
    right of the right one, else facing away."""
    du = (kp[:, L_SH, 0] - kp[:, R_SH, 0]) * (conf[:, [L_SH, R_SH]].min(1) > 0.1)
    du += (kp[:, L_HIP, 0] - kp[:, R_HIP, 0]) * (conf[:, [L_HIP, R_HIP]].min(1) > 0.1)
    facing = du >= 0
    out = np.zeros((len(kp), 3))
    out[facing] = [np.pi, 0.0, 0.0]  # model +Y up -> image up, model +Z (front) -> towards the camera
    out[~facing] = [0.0, 0.0, np.pi]  # facing away: only the vertical flips
    return out


def fit_monocular(tracks: list[Tracks2D], body, settings: InitSettings = InitSettings(),
                  progress=None) -> list[MonoFit]:
    """Monocular fits for every clip, all frames of all clips in one batched problem."""
    dev = torch.device(settings.device)
    dt = torch.float32
    sizes = [t.frames for t in tracks]
    seg = torch.as_tensor(np.repeat(np.arange(len(tracks)), sizes), device=dev)
    kp = np.concatenate([t.keypoints for t in tracks]).astype(np.float64)
    conf = fit_confidence(np.concatenate([t.confidence for t in tracks]), settings.min_conf)
    heights = np.concatenate([_person_height(t.keypoints, np.where(t.confidence >= settings.min_conf, t.confidence, 0))
                              for t in tracks])
    focal = np.concatenate([np.full(t.frames, settings.focal_scale * t.size[0]) for t in tracks])
    centre = np.concatenate([np.tile(np.array(t.size, float) / 2, (t.frames, 1)) for t in tracks])
    n = len(kp)

    # initial translation: depth from the torso's size (shoulder-hip distance ~ 0.5 m)
    sh = 0.5 * (kp[:, L_SH] + kp[:, R_SH])
    hp = 0.5 * (kp[:, L_HIP] + kp[:, R_HIP])
    torso_ok = conf[:, list(TORSO)].min(1) > 0
    torso_px = np.where(torso_ok, np.linalg.norm(sh - hp, axis=1), np.nan)
    depth = np.where(np.isfinite(torso_px) & (torso_px > 2), focal * 0.5 / np.maximum(torso_px, 1e-6), np.nan)
    fill = np.nanmedian(depth) if np.isfinite(depth).any() else 5.0
    depth = np.where(np.isfinite(depth), depth, fill)
    root_px = np.where(torso_ok[:, None], hp, centre)
    transl0 = np.concatenate([(root_px - centre) * depth[:, None] / focal[:, None], depth[:, None]], 1)

    t = lambda a: torch.as_tensor(a, dtype=dt, device=dev)  # noqa: E731
    kp_t, conf_t, h_t, f_t, c_t = t(kp), t(conf), t(heights), t(focal), t(centre)
    orient = t(initial_orientation(kp, conf)).requires_grad_(True)
    body_pose0 = np.zeros((n, 23, 3))
    body_pose0[:, 15, 2] = -0.9  # left shoulder (joint 16): arms down by the sides
    body_pose0[:, 16, 2] = 0.9
    body_pose = t(body_pose0).requires_grad_(True)
    transl = t(transl0).requires_grad_(True)
    betas = torch.zeros(len(tracks), body.num_betas, dtype=dt, device=dev, requires_grad=True)
    torso_mask = torch.zeros(17, dtype=dt, device=dev)
    torso_mask[list(TORSO)] = 1.0

    opt = torch.optim.Adam([orient, body_pose, transl, betas], lr=settings.lr)
    total = settings.torso_iterations + settings.iterations
    for it in range(total):
        torso_stage = it < settings.torso_iterations
        opt.zero_grad(set_to_none=True)
        pose = torch.cat([orient[:, None], body_pose], 1)
        out = body(pose, betas[seg], transl)
        uv = project(out.keypoints, f_t, c_t)
        w = conf_t * (torso_mask if torso_stage else 1.0)
        rho = geman_mcclure((uv - kp_t) / h_t[:, None, None], settings.sigma)
        loss = (w * rho).sum() / settings.sigma ** 2
        loss = loss + settings.w_smooth_transl * smoothness(transl, seg) * 1e2
        if not torso_stage:
            loss = loss + settings.w_pose * body_pose.square().sum()
            loss = loss + settings.w_limits * joint_limit_penalty(pose).sum()
            loss = loss + settings.w_smooth_pose * smoothness(pose, seg)
            loss = loss + settings.w_betas * betas.square().sum(1) @ torch.as_tensor(sizes, dtype=dt, device=dev)
        loss.backward()
        if torso_stage:
            body_pose.grad = None
            betas.grad = None
        opt.step()
        if progress and (it % 10 == 0 or it == total - 1):
            progress(it + 1, total)

    with torch.no_grad():
        pose = torch.cat([orient[:, None], body_pose], 1)
        out = body(pose, betas[seg], transl)
        uv = project(out.keypoints, f_t, c_t)
        err = ((uv - kp_t).norm(dim=-1) * (conf_t > 0)).sum(1) / (conf_t > 0).sum(1).clamp_min(1)
    fits = []
    offs = np.cumsum([0] + sizes)
    P, T, KP, J, E = (x.detach().cpu().numpy() for x in (pose, transl, out.keypoints, out.joints, err))
    B = betas.detach().cpu().numpy()
    for j, tr in enumerate(tracks):
        a, b = offs[j], offs[j + 1]
        valid = (conf[a:b] > 0).sum(1) >= 6
        fits.append(MonoFit(P[a:b].astype(np.float32), B[j].astype(np.float32), T[a:b].astype(np.float32),
                            float(focal[a]), centre[a].copy(), KP[a:b], J[a:b], valid, E[a:b]))
    return fits
