"""Multi-view initialisation: once clips are synchronised and their cameras registered, the
keypoints of every reference frame are triangulated from all clips that see them (confidence
weighted DLT), and each clip's bodies are re-placed (root orientation and translation) onto the
triangulated torso. Far better than any monocular depth, and the start of bundle adjustment.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .cameras import sample

TORSO = (5, 6, 11, 12)


def triangulate(tracks, corr, cameras, min_views: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """World keypoints (N_ref,17,3) and a mask (N_ref,17) of those seen by >= ``min_views`` clips."""
    n_ref = len(corr.clip_time[corr.reference])
    rows_a, weights = [], []
    for j, (t, c) in enumerate(zip(tracks, cameras)):
        ct = np.asarray(corr.clip_time[j], float)
        ok = np.isfinite(ct)
        kp = np.zeros((n_ref, 17, 2))
        cf = np.zeros((n_ref, 17))
        kp[ok] = sample(t.keypoints.astype(np.float64), ct[ok])
        cf[ok] = sample(np.where(t.confidence > 0.1, t.confidence, 0.0).astype(np.float64), ct[ok])
        P = c.K @ np.hstack([c.R, c.t[:, None]])  # (3,4)
        a_u = kp[..., 0:1] * P[2] - P[0]  # (N_ref,17,4)
        a_v = kp[..., 1:2] * P[2] - P[1]
        rows_a += [a_u, a_v]
        weights += [cf, cf]
    a = np.stack(rows_a, 2)  # (N_ref,17,2M,4)
    w = np.stack(weights, 2)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9) * w[..., None]
    ata = np.einsum("rkmi,rkmj->rkij", a, a)
    _, vecs = np.linalg.eigh(ata)
    x = vecs[..., 0]
    with np.errstate(all="ignore"):
        pts = x[..., :3] / x[..., 3:4]
    views = (w > 0).sum(2) // 2
    mask = (views >= min_views) & np.isfinite(pts).all(-1)
    return np.where(mask[..., None], pts, 0.0), mask


def rigid_batch(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-item rigid alignment dst ~ R src + t for src, dst (F,P,3): R (F,3,3), t (F,3)."""
    ms, md = src.mean(1, keepdims=True), dst.mean(1, keepdims=True)
    cov = np.einsum("fpi,fpj->fij", dst - md, src - ms)
    u, _, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, 2] *= d[:, None]
    rot = u @ vt
    return rot, md[:, 0] - np.einsum("fij,fj->fi", rot, ms[:, 0])


def place_on_triangulation(state, corr, points: np.ndarray, mask: np.ndarray, body):
    """Each clip's bodies moved (root orientation + translation) so their torso keypoints align
    with the triangulated torso at the matching reference time; other frames are left as they are."""
    import torch
    from scipy.spatial.transform import Rotation

    poses, transls = [], []
    torso = list(TORSO)
    for j in range(len(state.pose)):
        pose = state.pose[j].astype(np.float64).copy()
        transl = state.transl[j].astype(np.float64).copy()
        rt = np.asarray(corr.ref_time[j], float)
        idx = np.where(np.isfinite(rt))[0]
        if len(idx):
            tri = sample(points, rt[idx])
            good = sample(mask[:, torso].astype(float), rt[idx]).min(1) > 0.99
            idx, tri = idx[good], tri[good]
        if len(idx):
            with torch.no_grad():
                out = body(torch.as_tensor(pose[idx], dtype=torch.float32),
                           torch.as_tensor(state.betas[j], dtype=torch.float32),
                           torch.as_tensor(transl[idx], dtype=torch.float32))
            kp = out.keypoints.numpy().astype(np.float64)
            j0 = out.joints[:, 0].numpy().astype(np.float64)
            rot, tr = rigid_batch(kp[:, torso], tri[:, torso])
            pose[idx, 0] = (Rotation.from_matrix(rot) * Rotation.from_rotvec(pose[idx, 0])).as_rotvec()
            # the root joint moves with the rigid motion: new pelvis = rot @ pelvis + tr
            transl[idx] += np.einsum("fij,fj->fi", rot, j0) + tr - j0
        poses.append(pose.astype(np.float32))
        transls.append(transl.astype(np.float32))
    return replace(state, pose=tuple(poses), transl=tuple(transls))

