"""Poses for the timeline frames one clip alone shows, from the frames several clips show.

Where one clip alone shows the performer, the bundle adjustment has one view's 2D: a monocular
fit, whose depths the 2D does not fix, and which settles on bent-backwards or twisted poses that
fit the keypoints as well as the right one. The capture's own well-seen frames are better
evidence of what the body can look like: the same performer, usually the same action repeating.
For each frame one clip alone shows, :func:`pose_targets` takes the well-seen frame whose body,
seen through that clip's camera, has the 2D shape closest to the frame's keypoints (after a 2D
similarity: position, scale and in-plane turn are the frame's own), and the bundle adjustment
pulls the frame's joint rotations towards that frame's (``core.ba.BASettings.w_targets``).

On the demo clips' real detections (``bench e2e``), where the reference clip alone shows 34 of its
240 frames (0-18 and 225-239): those frames' PA-MPJPE 100.6 -> 63.3 mm, the whole capture's 48.3 ->
42.9 mm (one more bundle adjustment from the engine's answer, without and with); in the engine's
rounds, the whole capture 48.4 -> 43.3 mm.

A shorter stretch (under ``MIN_RUN`` frames) is matched no further: its frames more than
``NEAR_MARGIN`` frames from the nearest frame more clips show take that frame's pose (the motion
held there rather than turned into a monocular flip). The frames right next to it are left to the
smoothness and the 2D, since there another clip's first or last frames may yet be placed.
"""

from __future__ import annotations

import numpy as np

from .fitting import fit_confidence

BODY = slice(5, 17)  # COCO shoulders to ankles: the face's keypoints say little about the pose
# only stretches of at least this many frames that one clip alone shows get targets: across a
# shorter one the smoothness carries the pose from the well-seen frames either side, and a wrongly
# matched pose costs more than it gains (DeepMimic run, 4 views, seed 1: 4 frames at the end, 44 mm
# there without targets, 143 with; the demo's stretches are 19 and 15 frames)
MIN_RUN = 10
# frames of a shorter stretch at most this far from the nearest frame more clips show take no
# target (the stretch's others take that frame's pose): on the 18 DeepMimic runs (4 views, seeds
# 0-2) PA-MPJPE 14.26 -> 13.64 mm, sync error 0.421 -> 0.422% (kick seed 2 16.4 -> 12.0, punch seed
# 2 15.9 -> 12.9, spinkick seed 0 16.2 -> 14.3: their first or last 3-6 frames had been captured
# 100-230 mm off; run seed 2 15.1 -> 15.5). Without the margin, 13.81 mm but sync 0.448% (walk seed 1
# 1.00 -> 1.26%, run seed 1 0.55 -> 0.85%): a pose held next to a clip's end drew that end's times
NEAR_MARGIN = 2


def similarity_residuals(candidates: np.ndarray, observed: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(A, G) weighted mean squared 2D distance between each observation ``observed`` (A,K,2) and
    each candidate ``candidates`` (G,K,2) moved onto it by the best 2D similarity (shift, scale,
    in-plane turn), in units of the observation's spread; ``weight`` (A,K) per keypoint."""
    w = weight / np.maximum(weight.sum(1, keepdims=True), 1e-12)  # (A,K)
    z_obs = observed[..., 0] + 1j * observed[..., 1]  # (A,K)
    z_can = candidates[..., 0] + 1j * candidates[..., 1]  # (G,K)
    obs_c = z_obs - (w * z_obs).sum(1, keepdims=True)
    can_c = z_can[None] - np.einsum("ak,gk->ag", w, z_can)[..., None]  # (A,G,K), centred with A's weights
    cross = np.einsum("ak,agk,ak->ag", w, np.conj(can_c), obs_c)
    power = np.einsum("ak,agk->ag", w, np.abs(can_c) ** 2)
    spread = (w * np.abs(obs_c) ** 2).sum(1)  # (A,)
    # the residual of the least-squares fit s * can_c ~ obs_c, s = cross / power (complex)
    best = spread[:, None] - np.abs(cross) ** 2 / np.maximum(power, 1e-12)
    return np.maximum(best, 0.0) / np.maximum(spread, 1e-12)[:, None]


def runs_of(frames: np.ndarray, min_run: int) -> np.ndarray:
    """The sorted frame indices ``frames`` that lie in runs of at least ``min_run`` consecutive ones."""
    if not len(frames):
        return frames
    cuts = np.where(np.diff(frames) > 1)[0] + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, len(frames)]
    keep = np.repeat(ends - starts >= min_run, ends - starts)
    return frames[keep]


def pose_targets(state, corr, tracks, reference: int, min_conf: float = 0.1, min_run: int = MIN_RUN,
                 chunk: int = 128, margin: int = NEAR_MARGIN) -> np.ndarray | None:
    """(N_ref, 24, 3) joint rotations to pull each timeline frame one clip alone shows towards
    (NaN elsewhere; module docstring), from ``state`` (a core.ba.BAState on ``corr``'s timeline,
    the reference clip's arrays spanning it): in stretches of at least ``min_run`` such frames the
    pose of the well-seen frame whose 2D matches (those need ten frames that more clips show: all
    of them, or three), in shorter ones the pose of the nearest frame two or more clips show (its
    ``margin`` nearest frames left out). None when no frame gets one."""
    m = len(tracks)
    if m < 2 or not state.keypoints:
        return None
    shows = np.isfinite(np.stack(corr.clip_time))  # (M, N_ref)
    views = shows.sum(0)
    poses = state.shared_pose if state.shared_pose is not None else state.pose[reference]
    targets = np.full((len(corr.clip_time[reference]), 24, 3), np.nan)
    lone = np.where(views == 1)[0]
    alone = runs_of(lone, min_run)
    _held_near(targets, poses, np.setdiff1d(lone, alone), np.where(views >= 2)[0], margin)
    rich = np.where(views >= min(3, m))[0]
    if len(alone) and len(rich) >= 10:
        _matched(targets, poses, alone, rich, state, corr, shows, tracks, reference, min_conf, chunk)
    return targets if np.isfinite(targets).any() else None


def _held_near(targets, poses, frames: np.ndarray, seen: np.ndarray, margin: int) -> None:
    """``targets[frames]`` = the pose of the nearest of the ``seen`` frames, for those more than
    ``margin`` frames from it."""
    if not len(frames) or not len(seen):
        return
    after = np.clip(np.searchsorted(seen, frames), 0, len(seen) - 1)
    before = np.clip(after - 1, 0, len(seen) - 1)
    nearest = np.where(np.abs(seen[before] - frames) <= np.abs(seen[after] - frames), seen[before], seen[after])
    far = np.abs(nearest - frames) > margin
    targets[frames[far]] = poses[nearest[far]]


def _matched(targets, poses, alone, rich, state, corr, shows, tracks, reference: int, min_conf: float,
             chunk: int) -> None:
    """``targets[alone]`` = the pose of the ``rich`` frame whose body, seen through the one clip
    that shows the frame, matches its 2D best (module docstring)."""
    points = np.asarray(state.keypoints[reference], np.float64)[rich][:, BODY]  # (G,12,3) world
    who = shows[:, alone].argmax(0)  # the one clip that shows each of them
    for j in np.unique(who):  # per clip (its camera), all its frames at once
        frames = alone[who == j]
        i = np.clip(np.round(np.asarray(corr.clip_time[j], float)[frames]).astype(int), 0, tracks[j].frames - 1)
        conf = fit_confidence(tracks[j].confidence[i], min_conf)[:, BODY]
        seen = conf.sum(1) > 0
        if not seen.any():
            continue
        uv, _ = state.cameras[j].pixels(points, min_depth=1e-6)
        obs, w, at = tracks[j].keypoints[i][seen][:, BODY].astype(np.float64), conf[seen], frames[seen]
        for a in range(0, len(at), chunk):  # (chunk, G, 12) complex at a time: bounded memory
            cost = similarity_residuals(uv, obs[a:a + chunk], w[a:a + chunk])
            targets[at[a:a + chunk]] = poses[rich[cost.argmin(1)]]
