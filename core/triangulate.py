"""Multi-view initialisation: once clips are synchronised and their cameras registered, the
keypoints of every reference frame are triangulated from all clips that see them (confidence
weighted DLT), each clip's bodies are re-placed (root orientation and translation) onto the
triangulated torso, and the reference's limbs are taken, frame by frame, from whichever clip's
monocular fit agrees with the triangulated ones. Far better than any monocular depth, and the
start of bundle adjustment.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .cameras import sample

TORSO = (5, 6, 11, 12)
TORSO_MISS = 3.0  # x the torso's size: how far a triangulated torso keypoint may miss the body's laid on it


def triangulate(tracks, corr, cameras, min_views: int = 2, in_front: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """World keypoints (N_ref,17,3) and a mask (N_ref,17) of those seen by >= ``min_views`` clips
    (and, with ``in_front``, in front of every camera that sees them)."""
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
    if in_front:
        # a point behind a camera that sees it is no triangulation: near-parallel rays put one
        # outlier's point anywhere along them (DeepMimic jump, seed 2: a shoulder 17 m behind the
        # reference camera, 39 and 18 px from its two views, moved that frame's start body 4.3 m).
        # Not for the camera adjustment's search (core.camera_ba), whose cameras may start far
        # off: there such points still steer (its bad-start test ended 8.9 degrees out without them)
        depth = np.einsum("mi,rki->rkm", np.stack([c.R[2] for c in cameras]), np.nan_to_num(pts))
        depth = depth + np.array([c.t[2] for c in cameras])
        mask &= ~((depth <= 0) & (w[..., 0::2] > 0)).any(-1)
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


def _lay_torso(body: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rigid motions (R (F,3,3), t (F,3)) that lay each frame's body torso keypoints (F,4,3) on
    the triangulated ones, and whether each lands: every keypoint within ``TORSO_MISS`` x the
    torso's size (the mean distance of its keypoints from their centre). Where all four do not
    land, the three that land best are tried. With two views one outlier keypoint lands anywhere
    along its rays, in front of both cameras too (DeepMimic jump, seed 2, reference frame 50: a
    shoulder 3.4 m nearer the camera than the rest of the torso, 2.4 m off the body's torso laid
    on all four, which moved the body 0.76 m). The limit is loose on purpose: frames left where
    they were, or laid on three keypoints, break the start's continuity, and at 1 x the size (on
    2-5% of the frames) the DeepMimic three-view captures lost more than they gained (mean
    PA-MPJPE 20.3 -> 22.9 mm over seeds 0-2, two captures doubling). At 3 x it takes 2 of
    cmu_01_jumps' 2,280 clip frames (seed 0, 4 views), 1 of DeepMimic jump's 160."""
    rot, tr = rigid_batch(body, tri)
    size = np.linalg.norm(body - body.mean(1, keepdims=True), axis=-1).mean(1)

    def miss(r, t, pts):
        return np.linalg.norm(np.einsum("fij,fpj->fpi", r, body) + t[:, None] - pts, axis=-1)

    off = miss(rot, tr, tri)
    fits = off.max(1) <= TORSO_MISS * size
    rest = np.argsort(off, axis=1)[:, :-1]  # all but the one that misses most
    pick = np.arange(len(body))[:, None]
    rot3, tr3 = rigid_batch(body[pick, rest], tri[pick, rest])
    fits3 = ~fits & (miss(rot3, tr3, tri)[pick, rest].max(1) <= TORSO_MISS * size)
    rot[fits3], tr[fits3] = rot3[fits3], tr3[fits3]
    return rot, tr, fits | fits3


def place_on_triangulation(state, corr, points: np.ndarray, mask: np.ndarray, body):
    """Each clip's bodies moved (root orientation + translation) so their torso keypoints align
    with the triangulated torso at the matching reference time, where it lands (:func:`_lay_torso`);
    other frames are left as they are."""
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
            rot, tr, fits = _lay_torso(kp[:, torso], tri[:, torso])
            idx, rot, tr, j0 = idx[fits], rot[fits], tr[fits], j0[fits]
            pose[idx, 0] = (Rotation.from_matrix(rot) * Rotation.from_rotvec(pose[idx, 0])).as_rotvec()
            # the root joint moves with the rigid motion: new pelvis = rot @ pelvis + tr
            transl[idx] += np.einsum("fij,fj->fi", rot, j0) + tr - j0
        poses.append(pose.astype(np.float32))
        transls.append(transl.astype(np.float32))
    return replace(state, pose=tuple(poses), transl=tuple(transls))



# the joints whose rotations pose each limb, and the COCO keypoints at its far end (SMPL order)
LIMB_JOINTS = ((16, 18, 20, 22), (17, 19, 21, 23), (1, 4, 7, 10), (2, 5, 8, 11))
LIMB_KEYPOINTS = ((7, 9), (8, 10), (13, 15), (14, 16))


def limbs_from_views(state, corr, points: np.ndarray, mask: np.ndarray, body):
    """The reference clip's bodies with each limb (arm or leg: its joints' rotations) taken, frame
    by frame, from whichever clip's body at that instant puts the limb's elbow and wrist (knee and
    ankle) nearest the triangulated keypoints ``points`` (N_ref,17,3) where ``mask``. A monocular
    fit guesses each limb's depth on its own, and guesses wrong in some frames of some clips:
    the bundle adjustment's shared motion starts from the reference clip's bodies, and a limb
    flipped there stays flipped however the other views disagree (its residuals there are
    past the robust loss's reach)."""
    import torch

    ref = corr.reference
    pose_ref = state.pose[ref].astype(np.float64)
    n_ref = len(pose_ref)
    cands = []
    for j, pose in enumerate(state.pose):
        ct = np.asarray(corr.clip_time[j], float)[:n_ref]
        ok = np.isfinite(ct)
        idx = np.clip(np.round(np.nan_to_num(ct)).astype(int), 0, len(pose) - 1)
        cand = pose_ref.copy()
        for joints in LIMB_JOINTS:
            cand[:, joints] = np.where(ok[:, None, None], pose[idx][:, joints], pose_ref[:, joints])
        cands.append((cand, ok))
    with torch.no_grad():
        kp = np.stack([body(torch.as_tensor(c, dtype=torch.float32),
                            torch.as_tensor(state.betas[ref], dtype=torch.float32),
                            torch.as_tensor(state.transl[ref], dtype=torch.float32)).keypoints.numpy()
                       for c, _ in cands]).astype(np.float64)  # (M, N_ref, 17, 3)
    poses_c, ok_c = np.stack([c for c, _ in cands]), np.stack([ok for _, ok in cands])  # (M, N_ref, ...)
    out = pose_ref.copy()
    for joints, ends in zip(LIMB_JOINTS, LIMB_KEYPOINTS):
        seen = mask[:, ends]  # (N_ref, 2)
        dist = np.linalg.norm(kp[:, :, ends] - points[None, :, ends], axis=-1)  # (M, N_ref, 2)
        err = (dist * seen).sum(-1) / np.maximum(seen.sum(-1), 1)
        err = np.where(ok_c & seen.any(-1), err, np.inf)
        err[ref] = np.where(np.isfinite(err[ref]), err[ref], -np.inf)  # its own where none is known
        best = np.argmin(err, axis=0)
        out[:, joints] = poses_c[best, np.arange(n_ref)][:, joints]
    poses = list(state.pose)
    poses[ref] = out.astype(np.float32)
    return replace(state, pose=tuple(poses))


def unseen_from_views(state, corr, mask: np.ndarray, shows: np.ndarray):
    """The reference clip's bodies on its frames that show nobody and whose torso was not
    triangulated (``mask`` (N_ref,17)) held from the nearest frame that does either (``shows``
    (N_ref,): the frames its monocular fit had 2D evidence for, core.init3d.MonoFit.valid). These are the
    frames the extended timeline pads the reference with (core.timeline) that fewer than two views
    see. The reference's own bodies there are guesses from nothing, which can lie metres off
    (DeepMimic kick seed 1, first view cut to 70%: the shared translation 10 m away on the last
    three frames, carried by the smoothness into the ten before; reprojection up to 3,790 px after
    the first bundle adjustment with true cameras and times); another clip's monocular body there is
    placed well along its image but not in depth (DeepMimic run seed 0: 3.4 m from the held one,
    PA-MPJPE 18.5 -> 36.2 mm with true cameras and times)."""
    ref = corr.reference
    known = shows | mask[:, list(TORSO)].all(1)
    if known.all() or not known.any():
        return state
    have, idx = np.where(known)[0], np.arange(len(known))
    at = np.searchsorted(have, idx)
    below, above = have[np.maximum(at - 1, 0)], have[np.minimum(at, len(have) - 1)]
    nearest = np.where(np.abs(idx - below) <= np.abs(above - idx), below, above)  # the earlier on a tie
    poses, transls = list(state.pose), list(state.transl)
    poses[ref], transls[ref] = poses[ref][nearest], transls[ref][nearest]
    return replace(state, pose=tuple(poses), transl=tuple(transls))
