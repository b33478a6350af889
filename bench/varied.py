"""Views of different performances of one action: the protocol's cameras, scale, trim and 2D
(:mod:`bench.protocol`), but each view cut from another stretch of a motion capture that repeats
its action (cmu_01_jumps: a series of jumps), as internet clips of one action show different takes.

In the one-performance protocol every view shows the same motion, so one shared motion (the
single-model ablation) is the right model there and the clips' own departures from it, with their
low-rank coupling (the paper's point), can only cost. Here each view is scored against its own
performance.

* The reference view: the stretch of ``length`` frames whose ``views - 1`` best disjoint matches
  elsewhere in the capture are the closest (the start whose worst match is the best, on a grid).
* Matching: subsequence dynamic time warping of the body's pose (limb joints about the pelvis,
  turned so the hips face the same way, and the pelvis height), the other stretch advancing 0, 1 or
  2 frames per reference frame (0 and 2 with a small penalty). A view's true reference times are
  that warp's: each of its frames at the mean of the reference frames matched to it, frames it
  skips in between, its ends cut where the warp holds a frame for long (:func:`reference_times`).
  Two takes of one action have no exact correspondence; the warp's is the truth here, good to about
  a frame, so the synchronisation error measured against it is a rough figure.
* Each stretch is turned and moved onto the reference's mean heading and place (no camera can tell
  where on the ground a take happened), then trimmed as the protocol trims (60-100% of the
  reference timeline).
"""

from __future__ import annotations

import numpy as np

from core.errors import UserError

from .mocap import LIMB_SMPL, Mocap
from .protocol import Problem, _cameras, ground_pivot, make_view, trim_mask

STEP_PENALTY = 0.01  # metres of mean joint distance, per reference frame on which the other stretch stalls or skips
MAX_COST = 0.12  # metres: a worse best match is not a repetition of the reference's action


def pose_features(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,12,3) the limb joints about the pelvis, turned about the vertical so the hips' left-right
    axis lies along x, and (N,) the pelvis height, from ``joints`` (N,24,3)."""
    root = joints[:, 0]
    ang = heading(joints)
    c, s = np.cos(-ang)[:, None], np.sin(-ang)[:, None]
    rel = joints[:, list(LIMB_SMPL)] - root[:, None]
    turned = np.stack([c * rel[..., 0] - s * rel[..., 1], s * rel[..., 0] + c * rel[..., 1], rel[..., 2]], -1)
    return turned, root[:, 2]


def heading(joints: np.ndarray) -> np.ndarray:
    """(N,) the angle about the vertical of the hips' left-right axis (the left hip minus the right)."""
    hips = joints[:, 1] - joints[:, 2]
    return np.arctan2(hips[:, 1], hips[:, 0])


def mean_heading(joints: np.ndarray) -> float:
    """The circular mean of :func:`heading` over the frames of ``joints`` (N,24,3)."""
    return float(np.angle(np.mean(np.exp(1j * heading(joints)))))


def frame_costs(ref: tuple, other: tuple) -> np.ndarray:
    """(L, N) mean joint distance plus pelvis height difference (metres) between the frames of two
    :func:`pose_features` results."""
    (fa, ha), (fb, hb) = ref, other
    dist = np.linalg.norm(fa[:, None] - fb[None], axis=-1)  # (L, N, 12)
    return np.nanmean(dist, -1) + np.abs(ha[:, None] - hb[None])


def best_match(cost: np.ndarray, penalty: float = STEP_PENALTY) -> tuple[np.ndarray, float]:
    """Subsequence time warping: ``cost`` (L, N) between L reference frames and N frames of a
    sequence (inf: excluded). Returns (L,) the sequence frame matched to each reference frame
    (non-decreasing, steps of 0-2) and the mean cost along it (inf: no match)."""
    n_ref, n = cost.shape
    acc = cost[0].copy()
    back = np.zeros((n_ref, n), np.int8)
    inf = np.full(2, np.inf)
    for i in range(1, n_ref):
        options = np.stack([acc + penalty, np.r_[inf[:1], acc[:-1]], np.r_[inf, acc[:-2]] + penalty])
        step = options.argmin(0)
        back[i] = step
        acc = cost[i] + options[step, np.arange(n)]
    end = int(np.argmin(acc))
    if not np.isfinite(acc[end]):
        return np.zeros(n_ref, int), float("inf")
    path = np.empty(n_ref, int)
    path[-1] = end
    for i in range(n_ref - 1, 0, -1):
        path[i - 1] = path[i] - back[i, path[i]]
    return path, float(acc[end] / n_ref)


def reference_times(path: np.ndarray, hold: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The frames of a matched stretch that show the reference's action, (K,), and each one's
    reference time (K,): the mean of the reference frames matched to it, linear between the frames
    that none matches.

    Near its ends (from the first quarter, into the last) a warp can hold one frame over many
    reference frames (over ``hold``): the take started later or stopped earlier than the
    reference, or went on with something else, and the warp waits for the reference to end.
    Frames beyond such a hold are left out, and the held frame takes the innermost reference frame
    of its hold (with the mean, cmu_01_jumps' 90-frame takes ended on frames 10-17 reference
    frames after the one before)."""
    path = np.asarray(path)
    n = len(path)
    runs = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])  # first row of each run
    lengths = np.diff(np.r_[runs, n])
    first, last = 0, n - 1
    for r, k in zip(runs, lengths):
        if k > hold and r < n / 4:
            first = r + k - 1
        if k > hold and r + k > 3 * n / 4 and last == n - 1:
            last = r
    rows = np.arange(first, last + 1, dtype=float)
    kept = path[first:last + 1]
    frames = np.arange(kept[0], kept[-1] + 1)
    total = np.bincount(kept - kept[0], rows, len(frames))
    count = np.bincount(kept - kept[0], minlength=len(frames))
    hit = count > 0
    return frames, np.interp(frames, frames[hit], total[hit] / count[hit])


def find_stretches(joints: np.ndarray, views: int, length: int, grid: int = 10) -> tuple[int, list]:
    """The reference stretch's start and its ``views - 1`` matches as (path, mean cost), best first
    (see the module docstring); raises UserError when the capture does not repeat itself enough."""
    n = len(joints)
    if n < views * length:
        raise UserError(f"{n} frames cannot hold {views} disjoint stretches of {length} frames: use fewer views or "
                        f"a shorter --vary")
    feats = pose_features(joints)
    best = None
    for a in range(0, n - length + 1, grid):
        cost = frame_costs(tuple(f[a:a + length] for f in feats), feats)
        used = np.zeros(n, bool)
        used[a:a + length] = True
        found = []
        for _ in range(views - 1):
            path, score = best_match(np.where(used[None], np.inf, cost))
            if not np.isfinite(score) or path[-1] - path[0] + 1 < length // 2:
                break
            found.append((path, score))
            used[path[0]:path[-1] + 1] = True
        if len(found) == views - 1:
            worst = max((s for _, s in found), default=0.0)
            if best is None or worst < best[0]:
                best = (worst, a, found)
    if best is None or best[0] > MAX_COST:
        why = (f"no stretch has {views - 1} disjoint matches of at least {length // 2} frames elsewhere"
               if best is None else f"the closest repetitions' worst mean joint distance is {best[0] * 1000:.0f} mm, "
               f"at most {MAX_COST * 1000:.0f} mm")
        raise UserError(f"the capture does not repeat a {length}-frame stretch {views} times ({why}): --vary needs "
                        f"a capture of one action done several times")
    return best[1], best[2]


def _place(joints: np.ndarray, target: np.ndarray, turn_to: float) -> np.ndarray:
    """``joints`` turned about the vertical through their pelvis' mean so that their mean heading
    is ``turn_to``, and moved so that that mean lies on ``target`` (x, y)."""
    ang = mean_heading(joints)
    c, s = np.cos(turn_to - ang), np.sin(turn_to - ang)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    out = (joints - ground_pivot(joints)) @ rot.T
    out[..., :2] += target[:2]
    return out


def make_varied_problem(mocap: Mocap, views: int, seed: int, length: int, noise_px: float = 4.0,
                        outliers: float = 0.05) -> Problem:
    """The protocol's ``views`` views, each of a different ``length``-frame stretch of ``mocap``."""
    if views < 1:
        raise ValueError("views must be at least 1")
    if length < 10:
        raise UserError("--vary: a stretch needs at least 10 frames")
    start, matches = find_stretches(mocap.joints, views, length)
    rng = np.random.default_rng(seed)
    ref = mocap.joints[start:start + length]
    target = np.nanmean(ref[:, 0], 0)
    facing = mean_heading(ref)
    pieces = [(ref, np.arange(length, dtype=float))]
    for path, _ in matches:
        frames, times = reference_times(path)
        pieces.append((_place(mocap.joints[frames], target, facing), times))
    roots = np.concatenate([p[0][:, 0] for p in pieces])
    radius = float(np.nanmax(np.linalg.norm(roots[:, :2] - target[:2], axis=1)))
    centre = np.array([target[0], target[1], np.nanmean(ref[:, 0, 2])])
    out = []
    for j, (cam, (joints, times)) in enumerate(zip(_cameras(views, centre, radius, rng), pieces)):
        if j:
            keep = trim_mask(times, length, rng)
            joints, times = joints[keep], times[keep]
        scale = float(rng.uniform(0.9, 1.1))
        out.append(make_view(joints, times, cam, scale, np.random.default_rng([seed, 1, j]), noise_px, outliers))
    return Problem(Mocap(ref, mocap.fps, f"{mocap.name}, {views} takes"), tuple(out), seed)
