"""Synchronisation by two-view epipolar geometry: the check and refinement of the 2D pose match.

Two static cameras see the same body at the same instants, so every keypoint of clip frame i and
the same keypoint of the reference frame at i's true time obey one fundamental matrix F, whatever
the body does. Pairs taken at wrong times obey none. Over a whole clip that gives thousands of
correspondences, and the number a single F explains (USAC, OpenCV) measures how right a time map
is, without any 3D and whatever the viewpoints.

* :func:`align`: from a time map, F from its pairs, then every (clip frame, reference frame) pair
  near the map scored by its keypoints' Sampson distances under F (Geman-McClure,
  confidence-weighted), the monotonic local DTW of :mod:`core.sync` on those scores, sub-frame
  times in closed form (:func:`between_frames`), and F again from the new pairs; a few rounds.
* :func:`search`: straight time maps (clip speeds around the reference's, every offset), each
  scored by the pairs one F explains; the best few (on a sample of the clip's frames) are other
  starts for :func:`align`, which ranks them on all of them.
* :func:`realign`: both for one clip. Between maps near each other the one explaining more pairs
  wins; a map far from the others (a repetition of the motion away, say) must explain more pairs
  than a map at wrong times would (:func:`excess`), since a clip that overlaps the reference only
  in part can pair more of its frames placed wrongly inside it. A clip keeps its times when no map
  explains enough of its pairs, or, to move it far, when the map does not stand out from maps at
  wrong times (another action); :func:`refine_correspondence` for every clip.

Panning cameras are fine once their keypoints are warped to one frame (core.stabilise): the
camera centre stays put. A camera that travels has no single F: there the maps fit few pairs, and
a clip keeps its times unless one fits ``EpipolarSettings.adopt`` of them.

Why: the 2D pose match (:mod:`core.sync`) compares the body's shape in two images, and from
opposite viewpoints a back-and-forth motion can look more alike at the wrong times than at the
right ones (cmu_01_jumps, seed 1, two views 160 degrees apart: 247 frames off, while the true
times' pairs fit one F 1.6 times better than the pose match's).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .cameras import sample
from .fitting import TIME_KEYPOINTS, fit_confidence
from .init3d import _person_height
from .sync import (Correspondence, align_scores, both_ends, from_reference_rate, invert_time_map, monotone,
                   reference_rate_grids)


@dataclass(frozen=True)
class EpipolarSettings:
    threshold: float = 0.02  # F's inlier distance and the scores' scale, in person heights (image)
    rounds: int = 3  # F <-> alignment rounds
    # the searched maps may replace the given map, refined, when it fits fewer of its pairs than
    # this (otherwise only one far from it may); on the protocol right maps fit 0.65-0.76
    # (cmu_01_jumps), 0.81-0.90 (DeepMimic), a pose match 247 frames off 0.34
    trigger: float = 0.6
    adopt: float = 0.5  # a new map is taken only above this inlier fraction
    # ... and one that moves the clip further than ``moved`` only this far above the null level
    # (:func:`search`). Protocol: right maps 0.35-0.55 above it (cmu_01_jumps), clips of another
    # action 0.02-0.05 (DeepMimic punch and walk against the jumps); on short clips a fraction alone
    # does not tell them apart (the walk against the jumps reaches 0.59)
    margin: float = 0.15
    slopes: tuple = (0.9, 1.0, 1.1)  # search: reference frames per clip frame (after frame rates)
    search_frames: int = 100  # search: clip frames sampled per candidate map
    search_offsets: int = 60  # search: offsets tried per slope
    max_step: int = 6  # as core.sync.SyncSettings.max_step
    step_penalty: float = 0.3  # as core.sync.SyncSettings.step_penalty
    moved: float = 5.0  # a clip moved further than this (median, reference frames) gets a note
    # a map far from another replaces it only with this much :func:`excess` (and more than it has).
    # The demo's clips (their true 2D; reference cut to 90-239 or 0-119): right maps placed far
    # reached 7.5-10.0; a clip of another action against cmu_01_jumps (DeepMimic punch, seed 0) 0.33
    # at best, for 16 of its 48 frames paired at the reference's end (59% of the pairs, null 41%)
    stand_out: float = 2.0
    min_conf: float = 0.1
    min_pairs: int = 30  # fewer keypoint pairs: no F
    band: int = 40  # alignment: reference frames either side of the map being refined
    # search: the best few maps by their sampled pairs (at least ``band`` frames apart), each
    # aligned, the most inliers then kept. The sampled fit ranks near maps roughly: cmu_01_jumps
    # seed 1, two views, performers scaled travel and all, the best one was 236 frames off (2,859
    # inliers aligned) and the second 12 (3,832, within a frame once aligned)
    candidates: int = 3
    chunk: int = 64  # clip frames per block of the score matrix (bounds memory)


@dataclass(frozen=True)
class Fit:
    """One time map's geometry: ``inliers`` of ``pairs`` keypoint pairs fit F (3x3, None: none)."""

    inliers: int
    pairs: int
    F: np.ndarray | None

    @property
    def fraction(self) -> float:
        return self.inliers / self.pairs if self.pairs else 0.0


def _pairs(obs, conf, ref_obs, ref_conf, rt, step: int = 1):
    """Keypoint pairs (clip, reference) of the clip frames with a reference time (nearest frame)."""
    i = np.arange(0, len(obs), step)
    r = rt[i]
    ok = np.isfinite(r) & (r >= -0.5) & (r <= len(ref_obs) - 0.5)
    i, r = i[ok], np.clip(np.round(r[ok]).astype(int), 0, len(ref_obs) - 1)
    w = (conf[i] > 0) & (ref_conf[r] > 0)
    return obs[i][w], ref_obs[r][w]


def fundamental(obs, conf, ref_obs, ref_conf, rt, threshold_px: float, settings: EpipolarSettings,
                step: int = 1, iterations: int = 2000) -> Fit:
    """F (reference -> clip: x_clip^T F x_ref = 0) from the pairs of time map ``rt`` (N,), USAC."""
    p, q = _pairs(obs, conf, ref_obs, ref_conf, rt, step)
    if len(p) < settings.min_pairs:
        return Fit(0, len(p), None)
    F, mask = cv2.findFundamentalMat(q, p, cv2.USAC_MAGSAC, threshold_px, 0.99, iterations)
    if F is None or mask is None:
        return Fit(0, len(p), None)
    return Fit(int(mask.sum()), len(p), F[:3].astype(np.float64))


def _extended(rt: np.ndarray) -> np.ndarray | None:
    """``rt`` with its NaN frames filled: inside by interpolation, before and after at one
    reference frame per frame; None when nothing is finite."""
    ok = np.isfinite(rt)
    if not ok.any():
        return None
    i = np.arange(len(rt))
    first, last = i[ok][0], i[ok][-1]
    out = np.interp(i, i[ok], rt[ok])
    out[:first] = rt[first] - (first - i[:first])
    out[last + 1:] = rt[last] + (i[last + 1:] - last)
    return out


def epipolar_scores(F: np.ndarray, obs, conf, ref_obs, ref_conf, sigma_px: float, settings: EpipolarSettings,
                    around: np.ndarray | None = None) -> np.ndarray:
    """(N, N_ref) scores in [0, 1]: 1 - the confidence-weighted mean Geman-McClure Sampson distance
    of clip frame i's keypoints to reference frame r's under F; 0 where they share no keypoint, and
    where r is more than ``settings.band`` frames from ``around[i]`` (the time map being refined;
    None: everywhere)."""
    n, n_ref = len(obs), len(ref_obs)
    centre = None if around is None else _extended(np.asarray(around, float))
    dt = torch.float32
    f = torch.as_tensor(F / np.abs(F).max(), dtype=dt)
    ones = lambda x: torch.cat([x, torch.ones_like(x[..., :1])], -1)  # noqa: E731
    xr = ones(torch.as_tensor(ref_obs, dtype=dt))  # (R,K,3)
    lines = (xr @ f.T).permute(1, 2, 0)  # epipolar lines in the clip's image, (K,3,R)
    den_r = lines[:, :2].square().sum(1)[:, None]  # (K,1,R)
    cr = torch.as_tensor(ref_conf, dtype=dt).T[:, None]  # (K,1,R)
    s2 = float(sigma_px) ** 2
    out = np.zeros((n, n_ref))
    for a in range(0, n, settings.chunk):
        b = min(n, a + settings.chunk)
        lo, hi = 0, n_ref
        if centre is not None:
            lo = int(np.clip(np.floor(centre[a:b].min()) - settings.band, 0, n_ref))
            hi = int(np.clip(np.ceil(centre[a:b].max()) + settings.band + 1, 0, n_ref))
            if hi <= lo:
                continue
        xc = ones(torch.as_tensor(obs[a:b], dtype=dt)).transpose(0, 1)  # (K,n,3)
        den = den_r[..., lo:hi] + (xc @ f)[..., :2].square().sum(-1, keepdim=True)  # + lines in the reference image
        num = torch.bmm(xc, lines[..., lo:hi]).square()  # (K,n,R)
        gm = num / (num + s2 * den).clamp_min(1e-30)  # d2 / (d2 + sigma^2), d2 = num / den (Sampson)
        w = torch.as_tensor(conf[a:b], dtype=dt).T[..., None] * cr[..., lo:hi]  # (K,n,R)
        total = w.sum(0)
        out[a:b, lo:hi] = torch.where(total > 0, 1 - (gm * w).sum(0) / total.clamp_min(1e-9), 0.0).numpy()
    if centre is not None:
        out[np.abs(np.arange(n_ref)[None] - centre[:, None]) > settings.band] = 0.0
    return out


def between_frames(F: np.ndarray, obs, conf, ref_obs, ref_conf, matched: np.ndarray, sigma_px: float) -> np.ndarray:
    """Fractional reference times of integer matches ``matched`` (N,) (-1: none -> NaN): the
    reference keypoints moved linearly towards the previous or the next frame, by the fraction
    that best puts the clip's keypoints on their epipolar lines. The epipolar residual is linear in
    that fraction, so each side is a weighted least-squares in closed form (Sampson-normalised,
    Geman-McClure-weighted at the integer match)."""
    out = np.full(len(matched), np.nan)
    rows = np.where(matched >= 0)[0]
    if not len(rows):
        return out
    r = matched[rows]
    h = lambda x: np.concatenate([x, np.ones_like(x[..., :1])], -1)  # noqa: E731
    xc, xr = h(obs[rows]), h(ref_obs[r])
    back = xc @ F  # (n,K,3): the clip points' lines in the reference image
    a = (back * xr).sum(-1)  # epipolar residuals at the integer match
    den = np.maximum(np.square((xr @ F.T)[..., :2]).sum(-1) + np.square(back[..., :2]).sum(-1), 1e-12)
    d2 = a * a / den
    s2 = sigma_px ** 2
    w = conf[rows] * ref_conf[r] * (s2 / (s2 + d2)) ** 2 / den
    best_t, best_cost = r.astype(float), (w * a * a).sum(1)
    for side in (-1, 1):
        nb = np.clip(r + side, 0, len(ref_obs) - 1)
        wn = w * (ref_conf[nb] > 0)
        b = (back[..., :2] * (ref_obs[nb] - ref_obs[r])).sum(-1)
        num, bb = (wn * a * b).sum(1), (wn * b * b).sum(1)
        step = np.where((nb == r) | (bb <= 1e-12), 0.0, np.clip(-num / np.maximum(bb, 1e-12), 0.0, 1.0))
        cost = (wn * (a + step[:, None] * b) ** 2).sum(1) + ((w - wn) * a * a).sum(1)
        better = cost < best_cost
        best_t = np.where(better, r + side * step, best_t)
        best_cost = np.where(better, cost, best_cost)
    out[rows] = best_t
    return out


def align(obs, conf, ref_obs, ref_conf, rt, threshold_px: float, settings: EpipolarSettings = EpipolarSettings()):
    """The time map (N,) and its :class:`Fit` after ``settings.rounds`` of F <-> alignment from
    the map ``rt``; the start itself when no F fits it."""
    fit = fundamental(obs, conf, ref_obs, ref_conf, rt, threshold_px, settings)
    for _ in range(settings.rounds):
        if fit.F is None:
            break
        score = epipolar_scores(fit.F, obs, conf, ref_obs, ref_conf, threshold_px, settings, rt)
        matched, _ = align_scores(score, settings.max_step, 1.0, settings.step_penalty, conf.sum(1) <= 0)
        new = monotone(between_frames(fit.F, obs, conf, ref_obs, ref_conf, matched, threshold_px))
        new_fit = fundamental(obs, conf, ref_obs, ref_conf, new, threshold_px, settings)
        if new_fit.inliers <= fit.inliers:
            break
        rt, fit = new, new_fit
    return rt, fit


def search(obs, conf, ref_obs, ref_conf, threshold_px: float, settings: EpipolarSettings = EpipolarSettings()):
    """The straight time maps (slope in ``settings.slopes``, any offset overlapping the reference
    by a fifth of the clip) whose sampled pairs one F explains best: the best
    ``settings.candidates`` by the pairs that fit, then as many by :func:`excess` (maps that pair
    fewer frames, better), each at least ``settings.band`` frames (median) from those before it;
    and the 90th percentile of all the maps' inlier fractions: what maps at wrong times reach (the
    null level)."""
    n, n_ref = len(obs), len(ref_obs)
    step = max(1, n // settings.search_frames)
    idx = np.arange(n, dtype=float)
    found, fractions, pairs = [], [], []
    for a in settings.slopes:
        offsets = np.linspace(-0.8 * a * (n - 1), (n_ref - 1) - 0.2 * a * (n - 1), settings.search_offsets)
        for b in offsets:
            rt = a * idx + b
            fit = fundamental(obs, conf, ref_obs, ref_conf, rt, threshold_px, settings, step, iterations=300)
            fractions.append(fit.fraction)
            pairs.append(fit.pairs)
            found.append((fit.inliers, float(np.median(rt)), rt))
    null = float(np.percentile(fractions, 90))
    best = []

    def pick(scores):  # the best few maps by ``scores``, each away from those already kept
        kept = 0
        for _, (_, mid, rt) in sorted(zip(scores, found), key=lambda f: -f[0]):
            if all(abs(mid - m) > settings.band for m, _ in best):
                best.append((mid, rt))
                kept += 1
            if kept == settings.candidates:
                break
    pick([inl for inl, _, _ in found])
    pick([excess(Fit(inl, p, None), null, settings) for (inl, _, _), p in zip(found, pairs)])
    return [rt for _, rt in best], null


def excess(fit: Fit, null: float, settings: EpipolarSettings) -> float:
    """How far the fraction of a time map's keypoint pairs one F explains stands above what maps at
    wrong times reach (the ``null`` fraction plus ``settings.margin``), times the square root of its
    pairs: the evidence for a map, fair between maps that pair different numbers of frames (a
    fraction from fewer pairs scatters more). A clip that overlaps the reference only in part, of a
    motion that repeats, fits one F nearly as well placed a repetition away and wholly inside the
    reference as placed right with half of it outside, and pairs more of its frames: the demo's
    clips with the reference cut to frames 90-239 (real detections), clip 3 (48 of its 120 frames
    inside) placed 90 frames early had 801 of 1,148 pairs fit (70%), placed right 489 of 618 (79%);
    null level 52%."""
    return (fit.fraction - null - settings.margin) * np.sqrt(fit.pairs)


def _apart(a: np.ndarray, b: np.ndarray) -> float:
    """How far apart two time maps are: the median over the frames both match (inf: none)."""
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.median(np.abs(a[both] - b[both]))) if both.any() else np.inf


def _better(a: Fit, rt_a: np.ndarray, b: Fit, rt_b: np.ndarray, null: float, settings: EpipolarSettings) -> bool:
    """Whether map ``a`` beats map ``b``: near each other (within ``settings.moved``), by the pairs
    that fit; far apart, by :func:`excess`, and only a map that stands out from wrong ones."""
    if _apart(rt_a, rt_b) > settings.moved:
        return excess(a, null, settings) > max(settings.stand_out, excess(b, null, settings))
    return a.inliers > b.inliers


def realign(obs, conf, ref_obs, ref_conf, start: np.ndarray, settings: EpipolarSettings = EpipolarSettings()):
    """One clip's better time map (N,) than ``start`` (module docstring), or None to keep it, with
    the start's :class:`Fit`, the new one and how far the clip moved (median, reference frames).

    The start refined, then the searched maps refined: any of them replaces it where it fits
    fewer than ``settings.trigger`` of its pairs, and only one far from it (a repetition away)
    otherwise (:func:`_better`). The search runs for every clip: a clip placed a repetition away
    fits its pairs about as well as a right one (:func:`excess`)."""
    threshold_px = settings.threshold * float(np.median(_person_height(obs, conf)))
    given = fundamental(obs, conf, ref_obs, ref_conf, start, threshold_px, settings)
    rt, fit = align(obs, conf, ref_obs, ref_conf, start, threshold_px, settings)
    starts, null = search(obs, conf, ref_obs, ref_conf, threshold_px, settings)
    triggered = fit.fraction < settings.trigger
    for start_s in starts:
        rt_s, fit_s = align(obs, conf, ref_obs, ref_conf, start_s, threshold_px, settings)
        if (triggered or _apart(rt_s, rt) > settings.moved) and _better(fit_s, rt_s, fit, rt, null, settings):
            rt, fit = rt_s, fit_s
    if fit.F is None or fit.fraction < settings.adopt or not _better(fit, rt, given, start, null, settings):
        return None, given, fit, 0.0
    # moved far, the map stands out from wrong ones (_better: its excess over settings.stand_out)
    return rt, given, fit, _apart(rt, start)


def refine_correspondence(tracks, corr: Correspondence, fps: list[float],
                          settings: EpipolarSettings = EpipolarSettings()) -> Correspondence:
    """Each non-reference clip's times in ``corr`` re-aligned by epipolar geometry
    (:func:`realign`). Clips at another frame rate are resampled to the reference's first. A clip
    moved further than ``settings.moved`` loses its "different action" warning and gets a note
    saying so, and the fraction of its pairs that fit becomes its confidence if that is higher."""
    ref = corr.reference
    lengths = [t.frames for t in tracks]
    grids = reference_rate_grids(lengths, fps, ref)
    rc = fit_confidence(tracks[ref].confidence, settings.min_conf, TIME_KEYPOINTS)
    ref_obs = tracks[ref].keypoints.astype(np.float64)
    n_ref = len(ref_obs)
    conf_out = np.asarray(corr.confidence, float).copy()
    warn = list(corr.warnings)
    resampled, changed = [], []
    for j, (tr, g) in enumerate(zip(tracks, grids)):
        given_rt = np.asarray(corr.ref_time[j], float)
        same = len(g) == len(given_rt) and np.allclose(g, np.arange(len(g)))
        start = given_rt.copy() if same else np.interp(g, np.arange(len(given_rt)), given_rt)  # on the grid
        resampled.append(start)
        if j == ref:
            continue
        c = fit_confidence(tr.confidence, settings.min_conf, TIME_KEYPOINTS)
        obs = sample(tr.keypoints.astype(np.float64), g)
        rt, given, fit, moved = realign(obs, sample(c, g) * both_ends(c > 0, g), ref_obs, rc, start, settings)
        if rt is None:
            continue
        resampled[j] = rt
        changed.append(j)
        if moved > settings.moved:
            conf_out[j] = max(conf_out[j], fit.fraction)
            warn = [w for w in warn if not w.startswith(f"clip {j}:")]
            warn.append(f"clip {j}: the 2D pose match put it {moved:.0f} frames away from where the two views' "
                        f"geometry does ({100 * given.fraction:.0f}% of its keypoint pairs fit one epipolar "
                        f"geometry there, {100 * fit.fraction:.0f}% here): synchronised by the geometry")
    back = from_reference_rate(Correspondence(ref, tuple(resampled), tuple(resampled), conf_out), lengths, fps)
    ref_times = [back.ref_time[j] if j in changed else np.asarray(corr.ref_time[j], float) for j in range(len(tracks))]
    clip_times = [invert_time_map(ref_times[j], n_ref) if j in changed else np.asarray(corr.clip_time[j], float)
                  for j in range(len(tracks))]
    return Correspondence(ref, tuple(ref_times), tuple(clip_times), conf_out, tuple(warn))
