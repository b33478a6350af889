"""The joints no keypoint pins, put at rest in the capture's answer.

COCO-17 has no keypoint on a foot or a hand: the ankle and wrist keypoints sit at the joints
themselves (the open body's are vertices skinned about half to the ankle or wrist joint), so a foot's
turn about its ankle or a hand's about its wrist moves a keypoint by a centimetre or two at most.
The fits turn them anyway, to follow the 2D's noise by that centimetre, and nothing holds them:
on the demo's real detections (``bench e2e``) the feet came out 64-72 degrees from the truth
relative to the shins, the hands 65-74 degrees relative to the forearms, at the rest pose 18-20 and
57-60 (the truth's own feet and hands are turned 19 and 57-60 degrees from rest). Held at rest
inside the fits, they cost the synchronisation a little on the DeepMimic walk (seeds 0-2: 0.598 /
1.00 / 0.59 -> 0.610 / 1.07 / 0.65%), since the protocol's keypoints are the capture's joints and
the body's are vertices beside them; so they are put at rest once the capture is done, the
keypoints' offsets moved to keep the ankle and wrist keypoints where the fit put them on average,
and every keypoint, joint and reprojection error of the answer computed again for the rested bodies.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .ba import BAState
from .body import JOINT_NAMES
from .remeasure import bodies, reprojection_px

UNPINNED = tuple(JOINT_NAMES.index(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot",
                                                   "left_wrist", "right_wrist", "left_hand", "right_hand"))


def rested(pose: np.ndarray) -> np.ndarray:
    """``pose`` (N,24,3) with the :data:`UNPINNED` joints' rotations at zero (a copy)."""
    out = np.array(pose, copy=True)
    out[:, list(UNPINNED)] = 0.0
    return out


def at_rest(state: BAState, tracks, body, min_conf: float) -> BAState:
    """``state`` with every clip's and the shared motion's :data:`UNPINNED` joints at rest, and
    each clip's keypoints, joints and per-frame reprojection errors (mean pixel distance over the
    keypoints the fits use, as core.ba's) computed again against ``tracks``, the 2D the state was
    fitted to.

    The keypoints' offsets from the body (core.ba) were fitted with the feet and hands turned:
    each keypoint's offset moves by the mean of what resting moved it, in the frame of the bone it
    turns with, so that the answer's ankle and wrist keypoints stay where the fit put them on
    average (on the protocol, whose truth is the capture's joints: DeepMimic seed 0 walk 12.08 mm
    PA-MPJPE before, 12.32 at rest, 12.12 with the offsets moved; punch 14.03 / 14.18 / 14.05)."""
    old = np.zeros((17, 3)) if state.kp_offsets is None else np.asarray(state.kp_offsets, np.float64)
    poses = [rested(p) for p in state.pose]
    bodies = [_keypoints_and_axes(body, p, b, t, old) for p, b, t in zip(poses, state.betas, state.transl)]
    moved = [np.einsum("nkij,nki->nkj", axes, np.asarray(fit, np.float64) - kp)
             for (kp, axes, _), fit in zip(bodies, state.keypoints)]  # (N,17,3) per clip, bone frames
    every = np.concatenate(moved)
    seen = np.isfinite(every).all(-1)
    delta = np.where(seen[..., None], every, 0.0).sum(0) / np.maximum(seen.sum(0), 1)[:, None]
    kps, joints, errs = [], [], []
    for (kp, axes, jt), cam, t in zip(bodies, state.cameras, tracks):
        kp = kp + np.einsum("nkij,kj->nki", axes, delta)
        errs.append(reprojection_px(kp, cam, t, min_conf))
        kps.append(kp.astype(np.float32))
        joints.append(jt)
    dtype = np.asarray(state.pose[0]).dtype
    shared = None if state.shared_pose is None else rested(state.shared_pose)
    return replace(state, pose=tuple(p.astype(dtype) for p in poses), keypoints=tuple(kps), joints=tuple(joints),
                   reproj_px=tuple(errs), shared_pose=shared, kp_offsets=old + delta)


def _keypoints_and_axes(body, pose, betas, transl, offsets):
    """The bodies' keypoints (N,17,3) with ``offsets`` (17,3), the axes (N,17,3,3) (columns) of
    the bone each keypoint's offset turns with, and the joints (N,24,3)."""
    kp, joints = bodies(body, pose, betas, transl, offsets)
    axes = [bodies(body, pose, betas, transl, offsets + np.eye(3)[i])[0] - kp for i in range(3)]
    return kp, np.stack(axes, -1), joints
