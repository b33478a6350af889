"""Synchronisation again once cameras and motion exist: every clip's 2D keypoints against the
reference clip's 3D motion projected through the clip's camera.

The rounds after bundle adjustment used to synchronise the clips' BA poses with the pose
affinity of :mod:`core.sync`. That distance is blind to where the body is and how it is turned,
and the BA's low-rank coupling has already pulled each clip's poses towards the correspondence it
was given, so the affinity mostly confirms it. Here the evidence is each clip's own 2D: for clip
frame i and reference frame r, the Geman-McClure distance between the observed keypoints and the
reference motion at r seen by the clip's camera. The alignment is the same monotonic local DTW;
each match is then refined between reference frames by projecting the observation onto the
segments to the neighbouring frames (closed form, robustly weighted), and each clip's times are
fitted by straight pieces (core.trend): frame by frame they scatter by up to a frame on short
clips, while true time maps run at piecewise constant speeds. Each frame counts there as sharply as
its own 2D fixes its time (:func:`between_frames`' information): a frame whose keypoints hardly
move between reference frames follows its neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .cameras import sample
from .fitting import TIME_KEYPOINTS, fit_confidence
from .init3d import _person_height
from .sync import (Correspondence, align_scores, both_ends, from_reference_rate, invert_time_map, monotone,
                   reference_rate_grids)
from .trend import trend_filter


@dataclass(frozen=True)
class RetimeSettings:
    sigma: float = 0.1  # Geman-McClure scale, in units of the person's height in the image
    # as core.sync.SyncSettings.step_penalty; 0.3 as in the first synchronisation's (2D and epipolar)
    # alignments. On the 18 DeepMimic runs (4 views, seeds 0-2) 0.1 -> 0.3: sync 0.643 -> 0.622%,
    # PA-MPJPE 20.87 -> 20.64 mm (10 runs' sync better, 5 worse); 0.6: 0.631%, 21.08 mm (run seed 0
    # 23.4 -> 30.4 mm). A clip's per-frame times against a motion still bent towards the old times
    # score best a frame or two off in places (walk seed 0: reference frame 32 scores below 31 and 33
    # for the clip frame that shows 31.9); the pace's prior keeps such frames from pulling the path
    step_penalty: float = 0.3
    max_step: int = 6  # reference frames per clip frame (at the reference's frame rate)
    min_conf: float = 0.1
    chunk: int = 256  # clip frames per block of the score matrix (bounds memory)
    # each clip's times fitted by straight pieces (core.trend.trend_filter's weight). The per-frame
    # times scatter even against the true motion and cameras (DeepMimic 4 views, seeds 0-2: 0.283%,
    # fitted 0.229%). In the engine, the 18 DeepMimic runs: 4 views sync 0.730 -> 0.667%, PA-MPJPE
    # 22.36 -> 21.96 mm (17 and 15 runs better); 3 views 0.791 -> 0.747%, 30.01 -> 29.90 mm; 2 views
    # 1.132 -> 1.078%, 64.53 -> 64.63 mm; cmu_01_jumps seed 0 0.0844 -> 0.0787%, 19.98 -> 19.77 mm;
    # bench e2e 0.224 -> 0.199%, 60.43 -> 59.93 mm. A weight of 0.3 straightens more and is worse (4 views 0.680%)
    # Each frame weighted by how sharply its 2D fixes its time (between_frames' information), not
    # all alike: against the true motion and cameras (the 18 runs, each clip with the reference)
    # 0.233 -> 0.217% (punch seed 0 0.33 -> 0.25); in the engine, sync 0.503 -> 0.497%, PA-MPJPE
    # 15.14 -> 15.10 mm; bench e2e 0.191 -> 0.171%, 48.12 -> 48.02 mm; cmu_01_jumps seed 0 0.0796 ->
    # 0.0779%, 14.47 -> 14.42 mm
    smooth: float = 0.1
    device: str = "cpu"


def reprojection_scores(uv: np.ndarray, have: np.ndarray, obs: np.ndarray, conf: np.ndarray,
                        sigma_px: np.ndarray, settings: RetimeSettings = RetimeSettings()) -> np.ndarray:
    """(N, N_ref) scores in [0, 1]: 1 - the confidence-weighted mean Geman-McClure distance between
    the observed keypoints ``obs`` (N,K,2) and the projected reference motion ``uv`` (N_ref,K,2)
    where ``have`` (N_ref,K), with scale ``sigma_px`` (N,) per clip frame; 0 where they share no
    keypoint."""
    dev = torch.device(settings.device)
    u = torch.as_tensor(np.where(have[..., None], uv, 0.0), dtype=torch.float32, device=dev)
    v = torch.as_tensor(have, dtype=torch.float32, device=dev)
    out = []
    for a in range(0, len(obs), settings.chunk):
        o = torch.as_tensor(obs[a:a + settings.chunk], dtype=torch.float32, device=dev)
        c = torch.as_tensor(conf[a:a + settings.chunk], dtype=torch.float32, device=dev)
        s2 = torch.as_tensor(sigma_px[a:a + settings.chunk], dtype=torch.float32, device=dev).square()
        e2 = (o[:, None] - u[None]).square().sum(-1)  # (n, N_ref, K)
        gm = e2 / (e2 + s2[:, None, None])
        w = c[:, None] * v[None]
        total = w.sum(-1)
        out.append(torch.where(total > 0, 1 - (gm * w).sum(-1) / total.clamp_min(1e-9), 0.0))
    return torch.cat(out).cpu().double().numpy()


def between_frames(uv: np.ndarray, have: np.ndarray, obs: np.ndarray, conf: np.ndarray, sigma_px: np.ndarray,
                   matched: np.ndarray, information: bool = False):
    """Fractional reference times of integer matches ``matched`` (N,) (-1: none -> NaN): each
    observation projected onto the segments from the matched frame's projection to its
    neighbours', weighted by confidence and the Geman-McClure weight of its residual there.

    With ``information``, also (N,) how sharply each time is determined: the weighted squared
    length of the segments (px^2 per reference frame^2, the curvature of the cost in time), the mean
    over the two sides; 0 where there is no match (the weights of core.trend.trend_filter)."""
    out = np.full(len(matched), np.nan)
    sharp = np.zeros(len(matched))
    rows = np.where(matched >= 0)[0]
    if not len(rows):
        return (out, sharp) if information else out
    r = matched[rows]
    o, a = obs[rows], np.where(have[..., None], uv, 0.0)[r]
    e2 = ((o - a) ** 2).sum(-1)
    s2 = sigma_px[rows, None] ** 2
    w = conf[rows] * have[r] * (s2 / (s2 + e2)) ** 2
    best_t, best_cost = r.astype(float), (w * e2).sum(1)
    sides = []
    for side in (-1, 1):
        nb = np.clip(r + side, 0, len(uv) - 1)
        nb = np.where(have[nb].any(1), nb, r)
        d = np.where(have[nb][..., None], uv[nb] - a, 0.0)
        num = (w * ((o - a) * d).sum(-1)).sum(1)
        den = (w * (d * d).sum(-1)).sum(1)
        sides.append(np.where(nb == r, np.nan, den))
        s = np.where(nb == r, 0.0, np.clip(num / np.maximum(den, 1e-12), 0.0, 1.0))
        cost = (w * ((o - a - s[:, None, None] * d) ** 2).sum(-1)).sum(1)
        better = cost < best_cost
        best_t = np.where(better, r + side * s, best_t)
        best_cost = np.where(better, cost, best_cost)
    out[rows] = best_t
    both = np.stack(sides)
    counted = np.isfinite(both).sum(0)
    sharp[rows] = np.where(counted > 0, np.nansum(both, 0) / np.maximum(counted, 1), 0.0)
    return (out, sharp) if information else out


def retime(tracks, keypoints_ref: np.ndarray, cameras, fps: list[float], reference: int,
           settings: RetimeSettings = RetimeSettings()) -> Correspondence:
    """Correspondences of ``tracks`` (Tracks2D per clip) with the reference clip's world keypoints
    ``keypoints_ref`` (N_ref,17,3) seen through ``cameras`` (points behind a camera left out).
    Clips at another frame rate are resampled to the reference's first, as in
    :func:`core.sync.synchronise`. The confidences are the mean scores along the alignment (1: the
    2D lies on the projected motion)."""
    m = len(tracks)
    lengths = [t.frames for t in tracks]
    grids = reference_rate_grids(lengths, fps, reference)
    x = np.asarray(keypoints_ref, np.float64)
    n_ref = len(x)
    ref_times, clip_times, conf_out = [None] * m, [None] * m, np.ones(m)
    ref_times[reference] = np.arange(n_ref, dtype=float)
    clip_times[reference] = ref_times[reference].copy()
    for j, (tr, cam, g) in enumerate(zip(tracks, cameras, grids)):
        if j == reference:
            continue
        c = fit_confidence(tr.confidence, settings.min_conf, TIME_KEYPOINTS)
        obs = sample(tr.keypoints.astype(np.float64), g)
        conf = sample(c, g) * both_ends(c > 0, g)
        sigma_px = settings.sigma * _person_height(obs, conf)
        uv, depth = cam.pixels(x)
        have_j = depth > 1e-3
        score = reprojection_scores(uv, have_j, obs, conf, sigma_px, settings)
        matched, mean_score = align_scores(score, settings.max_step, 1.0, settings.step_penalty, conf.sum(1) <= 0)
        times, sharp = between_frames(uv, have_j, obs, conf, sigma_px, matched, information=True)
        rt = monotone(trend_filter(times, settings.smooth, frame_weight=sharp))
        ref_times[j], clip_times[j], conf_out[j] = rt, invert_time_map(rt, n_ref), mean_score
    corr = Correspondence(reference, tuple(ref_times), tuple(clip_times), conf_out)
    return from_reference_rate(corr, lengths, fps)
