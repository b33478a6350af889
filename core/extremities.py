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
the body's are vertices beside them; so they are put at rest once the capture is done, and every
keypoint, joint and reprojection error of the answer is computed again for the rested bodies.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from .ba import BAState
from .body import JOINT_NAMES
from .fitting import fit_confidence

UNPINNED = tuple(JOINT_NAMES.index(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot",
                                                   "left_wrist", "right_wrist", "left_hand", "right_hand"))


def rested(pose: np.ndarray) -> np.ndarray:
    """``pose`` (N,24,3) with the :data:`UNPINNED` joints' rotations at zero (a copy)."""
    out = np.array(pose, copy=True)
    out[:, list(UNPINNED)] = 0.0
    return out


def at_rest(state: BAState, tracks, body, min_conf: float) -> BAState:
    """``state`` with every clip's and the shared motion's :data:`UNPINNED` joints at rest, and
    each clip's keypoints (the state's keypoint offsets applied), joints and per-frame reprojection
    errors (mean pixel distance over the keypoints the fits use, as core.ba's) recomputed against
    ``tracks``, the 2D the state was fitted to."""
    poses, kps, joints, errs = [], [], [], []
    off = None if state.kp_offsets is None else torch.as_tensor(state.kp_offsets, dtype=torch.float32)
    for p, tr, b, cam, t in zip(state.pose, state.transl, state.betas, state.cameras, tracks):
        p = rested(p)
        with torch.no_grad():
            out = body(torch.as_tensor(p, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32),
                       torch.as_tensor(tr, dtype=torch.float32), offsets=off)
        kp = out.keypoints.numpy().astype(np.float64)
        uv, _ = cam.pixels(kp)
        seen = fit_confidence(t.confidence, min_conf) > 0
        dist = np.linalg.norm(uv - t.keypoints, axis=-1)
        errs.append(np.where(seen, dist, 0.0).sum(1) / np.maximum(seen.sum(1), 1))
        poses.append(p.astype(np.asarray(state.pose[0]).dtype))
        kps.append(kp.astype(np.float32))
        joints.append(out.joints.numpy())
    shared = None if state.shared_pose is None else rested(state.shared_pose)
    return replace(state, pose=tuple(poses), keypoints=tuple(kps), joints=tuple(joints), reproj_px=tuple(errs),
                   shared_pose=shared)
