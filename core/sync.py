"""Pose-based synchronisation of several clips (the paper's section 3.1).

1. **Affinity** between every frame pair of every clip pair from Procrustes-aligned 3D poses: each
   pose is centred and scaled to unit norm; the aligned distance d^2 = 2 - 2 * (s1 + s2 + sign * s3)
   with s the singular values of the 3x3 cross-covariance (closed form, no per-pair loop); the
   affinity is exp(-d^2 / (2 tau^2)) in [0, 1], tau set from the data (nearest-neighbour distances).
2. **Cycle consistency**: the stacked affinity of all clips (N_a x N_a) is denoised by a convex
   relaxation of the paper's eq. (2) (ADMM with singular value thresholding; same-clip blocks fixed
   to identity, values in [0, 1], symmetric). It runs on frames subsampled in time so that the
   stacked matrix stays small (cost per iteration O((N_a / stride)^3) instead of O(N_a^3)); the
   denoised blocks are interpolated back to full resolution.
3. **Monotonic alignment** of each clip to the reference: a local (open begin, open end) dynamic
   time warping on the denoised affinity, each clip frame matched to one reference frame, the
   reference advancing 0..K frames per clip frame (K covers different frame rates and speed-ups),
   refined to sub-frame precision.

The result maps every frame of every clip to a fractional reference time and back.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import torch


@dataclass(frozen=True)
class SyncSettings:
    reference: int = 0
    # cycle consistency: "compose" (alternating: DTW paths <-> evidence composed through the other
    # clips), "svt" (the convex relaxation on the stacked matrix), "none" (pairwise DTW, the ablation)
    cycle: str = "compose"
    rounds: int = 2  # "compose": rounds of refinement through the other clips
    rank_weight: float = 0.1  # "svt": alpha of the ADMM-SVT relaxation (paper's evaluation default)
    tolerance: float = 1e-3  # "svt"
    max_iterations: int = 50  # "svt"
    max_matrix: int = 900  # "svt": frames per side of the stacked matrix (sets the time stride)
    tau_scale: float = 1.5  # kernel width in units of the median nearest-neighbour distance
    max_step: int = 0  # reference frames per clip frame; 0: from the frame rates (>= 6)
    step_penalty: float = 0.1  # per reference frame of departure from the nominal pace, per clip frame
    allow_reflection: bool = False  # align mirror-image poses too (for depth-ambiguous inputs)
    min_confidence: float = 0.35  # below: the clip is reported as not matching the reference
    device: str = "cpu"

    def __post_init__(self):
        if self.cycle not in ("compose", "svt", "none"):
            raise ValueError(f"cycle must be compose, svt or none, not {self.cycle!r}")


@dataclass(frozen=True, eq=False)
class Correspondence:
    """Per clip j: ref_time[j] (N_j,) fractional reference frame of each frame (NaN: unmatched);
    clip_time[j] (N_ref,) fractional clip frame at each reference frame (NaN: outside the clip);
    confidence (M,) in [0, 1]; the reference clip's index; warnings for the user."""

    reference: int
    ref_time: tuple[np.ndarray, ...]
    clip_time: tuple[np.ndarray, ...]
    confidence: np.ndarray
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def changed_from(self, other: "Correspondence") -> float:
        """Mean |difference| of the reference times (frames), for stopping an iteration."""
        diffs = [np.nanmean(np.abs(a - b)) for a, b in zip(self.ref_time, other.ref_time)
                 if np.isfinite(a - b).any()]
        return float(np.mean(diffs)) if diffs else float("inf")

    def views_per_frame(self) -> np.ndarray:
        """(N_ref,) how many clips, the reference included, show each reference frame."""
        return np.isfinite(np.stack(self.clip_time)).sum(0)

    def with_ref_time(self, ref_time) -> "Correspondence":
        """The same correspondence with new reference times per clip (the reference clip's kept)
        and the clip times that invert them."""
        n_ref = len(self.clip_time[self.reference])
        rts = tuple(self.ref_time[j] if j == self.reference else np.asarray(r, float) for j, r in enumerate(ref_time))
        cts = tuple(self.clip_time[j] if j == self.reference else invert_time_map(r, n_ref) for j, r in enumerate(rts))
        return replace(self, ref_time=rts, clip_time=cts)


# ---- affinity -------------------------------------------------------------------------------------

def normalise_poses(poses: torch.Tensor) -> torch.Tensor:
    """(N,J,3) -> centred, unit Frobenius norm per frame."""
    c = poses - poses.mean(1, keepdim=True)
    return c / c.flatten(1).norm(dim=1).clamp_min(1e-9)[:, None, None]


def _sym3_eigvals(b: torch.Tensor) -> torch.Tensor:
    """Eigenvalues (...,3), descending, of symmetric PSD 3x3 matrices (...,3,3), closed form."""
    p1 = b[..., 0, 1] ** 2 + b[..., 0, 2] ** 2 + b[..., 1, 2] ** 2
    q = (b[..., 0, 0] + b[..., 1, 1] + b[..., 2, 2]) / 3
    p2 = (b[..., 0, 0] - q) ** 2 + (b[..., 1, 1] - q) ** 2 + (b[..., 2, 2] - q) ** 2 + 2 * p1
    p = torch.sqrt(p2 / 6).clamp_min(1e-12)
    eye = torch.eye(3, dtype=b.dtype, device=b.device)
    bb = (b - q[..., None, None] * eye) / p[..., None, None]
    r = (torch.linalg.det(bb) / 2).clamp(-1, 1)
    phi = torch.acos(r) / 3
    e1 = q + 2 * p * torch.cos(phi)
    e3 = q + 2 * p * torch.cos(phi + 2 * np.pi / 3)
    e2 = 3 * q - e1 - e3
    return torch.stack([e1, e2, e3], -1).clamp_min(0)


def procrustes_distance(a: torch.Tensor, b: torch.Tensor, allow_reflection: bool = False) -> torch.Tensor:
    """Squared aligned distances (N,M) between normalised poses a (N,J,3) and b (M,J,3), in [0, 4]."""
    cross = torch.einsum("nip,miq->nmpq", a, b)  # (N,M,3,3)
    s = _sym3_eigvals(cross.transpose(-1, -2) @ cross).sqrt()
    if allow_reflection:
        nuclear = s.sum(-1)
    else:
        sign = torch.sign(torch.linalg.det(cross))
        nuclear = s[..., 0] + s[..., 1] + torch.where(sign < 0, -s[..., 2], s[..., 2])
    return (2 - 2 * nuclear).clamp_min(0)


def affine_features(kp: torch.Tensor) -> torch.Tensor:
    """2D keypoints (N,J,2) -> whitened row spaces (N,2,J): centred, rows orthonormalised, so that
    the comparison below ignores any affine camera."""
    w = (kp - kp.mean(1, keepdim=True)).transpose(1, 2)  # (N,2,J)
    g = w @ w.transpose(1, 2) + 1e-9 * torch.eye(2, dtype=w.dtype, device=w.device)
    e, v = torch.linalg.eigh(g)
    inv_sqrt = v @ torch.diag_embed(e.clamp_min(1e-12).rsqrt()) @ v.transpose(1, 2)
    return inv_sqrt @ w


def affine_distance(a: torch.Tensor, b: torch.Tensor, allow_reflection: bool = False) -> torch.Tensor:
    """Rank-3 test of two views of one pose (Tresadern & Reid): for whitened a (N,2,J), b (M,2,J),
    1 - the largest singular value of a b^T, in [0, 1]; 0 when the stacked 4 x J matrix has rank 3,
    as it has for one 3D pose seen by two affine cameras. Returned squared-distance-like (N,M)."""
    c = torch.einsum("nik,mjk->nmij", a, b)
    p = c.square().sum((-1, -2))
    det = torch.linalg.det(c)
    s1 = torch.sqrt(0.5 * (p + torch.sqrt((p * p - 4 * det * det).clamp_min(0))))
    return (1 - s1).clamp_min(0)


def features_2d(tracks, joints=slice(5, 17), median: int = 5) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per clip 2D limb keypoints for :func:`synchronise` with ``kind="2d"``: short gaps filled,
    isolated outliers removed by a temporal median (``median`` frames); and the valid frames."""
    from scipy.ndimage import median_filter

    from .performer import fill_gaps

    feats, valid = [], []
    for t in tracks:
        kp, cf = fill_gaps(t.keypoints, t.confidence, max(1, int(round(0.5 * t.fps))))
        kp = median_filter(kp.astype(np.float64), size=(median, 1, 1), mode="nearest")
        feats.append(kp[:, joints])
        valid.append((cf[:, joints] > 0).all(1))
    return feats, valid


def affinity(d2: torch.Tensor, tau: float) -> torch.Tensor:
    return torch.exp(-d2 / (2 * tau * tau))


# ---- cycle consistency ----------------------------------------------------------------------------

def cycle_denoise(w: torch.Tensor, sizes: list[int], s: SyncSettings) -> tuple[torch.Tensor, int]:
    """Denoise the stacked affinity ``w`` (N,N) of clips with ``sizes`` frames.

    ADMM on  min -<W - mean(W), X> + alpha ||X||_*  s.t. X symmetric, same-clip blocks = I, 0 <= X <= 1:
    the low-rank step thresholds the eigenvalues of a symmetric matrix (singular value thresholding
    for a symmetric argument), the projection step enforces the constraints. Returns X and the
    iterations used.
    """
    n = w.shape[0]
    offsets = np.cumsum([0] + sizes)
    fixed = torch.zeros(n, n, dtype=torch.bool, device=w.device)
    for a, b in zip(offsets[:-1], offsets[1:]):
        fixed[a:b, a:b] = True
    eye = torch.eye(n, dtype=w.dtype, device=w.device)
    off = w[~fixed]
    gain = w - (off.mean() if off.numel() else 0.0)  # non-matches below zero, matches above
    gain = torch.where(fixed, torch.zeros_like(w), gain)
    x = torch.where(fixed, eye, w)
    q = x.clone()
    lam = torch.zeros_like(w)
    mu = 1.0
    it = 0
    for it in range(1, s.max_iterations + 1):
        x_old = x
        y = q - (lam - gain) / mu
        y = 0.5 * (y + y.T)
        e, v = torch.linalg.eigh(y)
        e = (e - s.rank_weight * n / mu).clamp_min(0)
        x = (v * e) @ v.T
        q = x + lam / mu
        q = torch.where(fixed, eye, q.clamp(0, 1))
        q = 0.5 * (q + q.T)
        lam = lam + mu * (x - q)
        primal = (x - q).norm() / n
        dual = mu * (x - x_old).norm() / n
        if primal < s.tolerance and dual < s.tolerance:
            break
        if primal > 10 * dual:
            mu *= 2
        elif dual > 10 * primal:
            mu /= 2
    return q, it


# ---- alignment ------------------------------------------------------------------------------------

def local_dtw(score: np.ndarray, threshold: float, max_step: int, nominal: float = 1.0,
              step_penalty: float = 0.0) -> tuple[np.ndarray, float]:
    """Monotonic local alignment of a clip (rows) to the reference (columns).

    Maximises sum(score - threshold) along a path that matches each clip frame of a contiguous run
    to one reference frame, the reference advancing 0..max_step frames per clip frame; the run may
    start and end anywhere (partial overlap). Returns ref (N,) matched reference frames (-1 outside
    the run) and the path's mean score. The loop runs over clip frames, vectorised over the reference.
    """
    n, m = score.shape
    gain = score - threshold
    d = np.empty((n, m))
    back = np.empty((n, m), np.int16)  # chosen step k, or -1 for a fresh start
    d[0] = gain[0]
    back[0] = -1
    k1 = max_step + 1
    for i in range(1, n):
        prev = np.full((k1, m), -np.inf)
        for k in range(k1):
            prev[k, k:] = d[i - 1, : m - k] - step_penalty * abs(k - nominal)
        best_k = prev.argmax(0)
        best = prev[best_k, np.arange(m)]
        fresh = best <= 0
        d[i] = gain[i] + np.where(fresh, 0.0, best)
        back[i] = np.where(fresh, -1, best_k)
    i, r = np.unravel_index(np.argmax(d), d.shape)
    ref = np.full(n, -1, np.int64)
    end = i
    while True:
        ref[i] = r
        k = back[i, r]
        if k < 0 or i == 0:
            break
        i, r = i - 1, r - k
    rows = np.arange(i, end + 1)
    return ref, float(score[rows, ref[rows]].mean())


def align_scores(score: np.ndarray, max_step: int, nominal: float = 1.0, step_penalty: float = 0.0,
                 empty: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """:func:`local_dtw` on ``score`` (N, N_ref) with the threshold at half the mean best score per
    clip frame; rows ``empty`` (N,) (no person) score the threshold everywhere: no evidence either
    way."""
    threshold = 0.5 * float(np.mean(score.max(1)))
    if empty is not None:
        score = np.where(empty[:, None], threshold, score)
    return local_dtw(score, threshold, max_step, nominal, step_penalty)


def monotone(rt: np.ndarray) -> np.ndarray:
    """``rt`` (N,) with its finite times made non-decreasing (in place, returned)."""
    ok = np.isfinite(rt)
    rt[ok] = np.maximum.accumulate(rt[ok])
    return rt


def subframe(score: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Refine integer matches to fractional reference frames by a parabola through the score."""
    out = ref.astype(float)
    rows = np.where((ref > 0) & (ref < score.shape[1] - 1))[0]
    c = ref[rows]
    l, m, r = score[rows, c - 1], score[rows, c], score[rows, c + 1]
    den = l - 2 * m + r
    off = np.where(den < -1e-9, 0.5 * (l - r) / np.where(den < -1e-9, den, -1), 0.0)
    out[rows] += np.clip(off, -0.5, 0.5)
    out[ref < 0] = np.nan
    return out


def invert_time_map(ref_time: np.ndarray, reference_frames: int) -> np.ndarray:
    """clip_time (N_ref,) from ref_time (N,): the clip frame at each reference frame, NaN outside."""
    ok = np.isfinite(ref_time)
    out = np.full(reference_frames, np.nan)
    if ok.sum() < 2:
        return out
    idx = np.arange(len(ref_time))[ok]
    rt = np.maximum.accumulate(ref_time[ok])
    rt_u, first = np.unique(rt, return_index=True)
    if len(rt_u) < 2:
        return out
    r = np.arange(reference_frames, dtype=float)
    inside = (r >= rt_u[0]) & (r <= rt_u[-1])
    out[inside] = np.interp(r[inside], rt_u, idx[first])
    return out


def _resize(block: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    return torch.nn.functional.interpolate(block[None, None], size=shape, mode="bilinear", align_corners=True)[0, 0]


def synchronise(poses: list[np.ndarray], fps: list[float] | None = None, valid: list[np.ndarray] | None = None,
                settings: SyncSettings = SyncSettings(), progress=None, kind: str = "3d") -> Correspondence:
    """Correspondences of clips with 3D poses ``poses[j]`` (N_j,J,3), any per-clip frame (camera
    frames are fine: the affinity is rotation-invariant), or with ``kind="2d"`` their 2D keypoints
    (N_j,J,2) (see :func:`features_2d`; the affine rank-3 test replaces the 3D distance).
    ``valid[j]`` (N_j,) marks frames with a pose; ``fps[j]`` sets how fast each clip may run
    against the reference.

    Clips at another frame rate than the reference are first resampled to the reference's rate
    (poses interpolated between frames), so that the alignment's nominal pace is one reference
    frame per step; the times found are mapped back to the clips' own frames. (A pace prior on
    whole steps cannot prefer a non-integer pace such as 30/25: mixing steps of 1 and 2 frames
    costs more than steps of 1 alone, so the prior would pull such a clip towards the
    reference's speed wherever the poses leave the choice open.)"""
    m = len(poses)
    fps = list(fps or [30.0] * m)
    ref = settings.reference
    if not 0 <= ref < m or all(abs(f - fps[ref]) < 1e-6 for f in fps):
        return _synchronise(poses, fps, valid, settings, progress, kind)
    from .cameras import sample

    lengths = [len(x) for x in poses]
    grids = reference_rate_grids(lengths, fps, ref)
    res_poses = [sample(np.asarray(x, np.float64), g).astype(np.float32) for x, g in zip(poses, grids)]
    res_valid = None
    if valid is not None:
        res_valid = [both_ends(np.asarray(v, bool), g) for v, g in zip(valid, grids)]
    corr = _synchronise(res_poses, [fps[ref]] * m, res_valid, settings, progress, kind)
    return from_reference_rate(corr, lengths, fps)


def reference_rate_grids(lengths: list[int], fps: list[float], ref: int) -> list[np.ndarray]:
    """Per clip, the fractional clip frames that resample it to the reference clip's frame rate."""
    return [np.arange(0.0, n - 1 + 1e-9, fps[j] / fps[ref]) if n > 1 else np.zeros(1) for j, n in enumerate(lengths)]


def both_ends(mask: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A per-frame mask at fractional frames ``grid``: true where both neighbouring frames are."""
    return mask[np.floor(grid).astype(int)] & mask[np.ceil(grid).astype(int)]


def from_reference_rate(corr: Correspondence, lengths: list[int], fps: list[float]) -> Correspondence:
    """``corr`` of clips resampled to the reference's frame rate (:func:`reference_rate_grids`)
    mapped back to the clips' own ``lengths`` frames."""
    ref_times, clip_times = [], []
    for j, n in enumerate(lengths):
        rate = fps[j] / fps[corr.reference]  # clip frames per reference frame
        rt_res = corr.ref_time[j]
        u = np.arange(n) / rate  # each clip frame's index in the resampled clip
        lo = np.clip(np.floor(u).astype(int), 0, len(rt_res) - 1)
        hi = np.clip(lo + 1, 0, len(rt_res) - 1)
        w = u - lo
        ref_times.append((1 - w) * rt_res[lo] + w * rt_res[hi])  # NaN where a neighbour is unmatched
        clip_times.append(corr.clip_time[j] * rate)
    return Correspondence(corr.reference, tuple(ref_times), tuple(clip_times), corr.confidence, corr.warnings)


def _synchronise(poses, fps, valid, settings, progress, kind) -> Correspondence:
    m = len(poses)
    ref = settings.reference
    if not 0 <= ref < m:
        raise ValueError(f"reference clip {ref} out of range for {m} clips")
    n_ref = len(poses[ref])
    if m == 1:
        t = np.arange(n_ref, dtype=float)
        return Correspondence(ref, (t,), (t.copy(),), np.ones(1))
    dev = torch.device(settings.device)
    prep, dist = (normalise_poses, procrustes_distance) if kind == "3d" else (affine_features, affine_distance)
    p = [prep(torch.as_tensor(np.asarray(x), dtype=torch.float32, device=dev)) for x in poses]
    valid = [np.ones(len(x), bool) if valid is None else np.asarray(valid[j], bool) for j, x in enumerate(poses)]
    vmask = [torch.as_tensor(v, device=dev) for v in valid]

    def block(a: int, b: int, sa=slice(None), sb=slice(None)) -> torch.Tensor:
        d2 = dist(p[a][sa], p[b][sb], settings.allow_reflection)
        return d2.masked_fill(~(vmask[a][sa][:, None] & vmask[b][sb][None, :]), 4.0)

    # full-resolution affinities of every clip pair
    d2 = {(a, b): block(a, b) for a in range(m) for b in range(m) if a < b}
    nn = torch.cat([d2[(min(j, ref), max(j, ref))].min(1 if j < ref else 0).values for j in range(m) if j != ref])
    tau = settings.tau_scale * float(nn.sqrt().median().clamp_min(1e-3))
    aff = {}
    for (a, b), d in d2.items():
        aff[(a, b)] = affinity(d, tau)
        aff[(b, a)] = aff[(a, b)].T
    others = [j for j in range(m) if j != ref]
    steps = {j: settings.max_step or max(6, int(np.ceil(3 * fps[ref] / fps[j]))) for j in others}

    def align(scores):
        out = {}
        for j, sc in scores.items():
            s_np = sc.cpu().double().numpy()
            matched, mean_score = align_scores(s_np, steps[j], fps[ref] / fps[j], settings.step_penalty)
            rt = monotone(subframe(s_np, matched))
            out[j] = (rt, invert_time_map(rt, n_ref), mean_score, np.isfinite(rt).mean())
        return out

    if settings.cycle == "svt" and m >= 3:
        aligned = align(_svt_scores(poses, block, aff, tau, ref, others, settings, dev))
    else:
        aligned = align({j: aff[(j, ref)] for j in others})
    rounds = settings.rounds if (settings.cycle == "compose" and m >= 3) else 0
    for _ in range(rounds):
        scores = {}
        for j in others:
            # evidence for "clip j frame i ~ reference frame r": directly, and through each other clip k
            # (clip j frame i ~ the frame of clip k that its current alignment puts at r)
            terms = [aff[(j, ref)]]
            masks = [torch.ones(1, n_ref, dtype=torch.bool, device=dev)]
            for k in others:
                if k == j:
                    continue
                ct = torch.as_tensor(aligned[k][1], dtype=torch.float32, device=dev)  # ref frame -> clip k
                c = ct.nan_to_num(0).clamp(0, len(poses[k]) - 1)
                lo = c.floor().long()
                hi = (lo + 1).clamp(max=len(poses[k]) - 1)
                w = (c - lo)[None]
                terms.append((1 - w) * aff[(j, k)][:, lo] + w * aff[(j, k)][:, hi])
                masks.append(torch.isfinite(ct)[None])
            stack = torch.stack([t.expand_as(terms[0]) for t in terms])
            have = torch.stack([mk.expand_as(terms[0]) for mk in masks])
            # robust combination: the median of the available terms (a clip aligned wrongly is outvoted)
            stack = torch.where(have, stack, torch.full_like(stack, float("nan")))
            scores[j] = stack.nanmedian(0).values if len(terms) >= 3 else stack.nanmean(0)
        aligned = align(scores)

    ref_times, clip_times, conf, notes = [None] * m, [None] * m, np.ones(m), []
    ref_times[ref] = np.arange(n_ref, dtype=float)
    clip_times[ref] = ref_times[ref].copy()
    for j, (rt, ct, mean_score, frac) in aligned.items():
        ref_times[j], clip_times[j], conf[j] = rt, ct, mean_score
        if mean_score < settings.min_confidence or frac < 0.2:
            msg = (f"clip {j}: its motion matches the reference clip poorly (confidence {mean_score:.2f}, "
                   f"{100 * frac:.0f}% of frames matched); it may show a different action")
            notes.append(msg)
            warnings.warn(msg, stacklevel=2)
    return Correspondence(ref, tuple(ref_times), tuple(clip_times), conf, tuple(notes))


def _svt_scores(poses, block, aff, tau, ref, others, settings, dev) -> dict:
    """Scores for the "svt" mode: the stacked affinity of frames subsampled in time, denoised by
    :func:`cycle_denoise`, interpolated back and averaged with the full-resolution affinity."""
    m = len(poses)
    total = sum(len(x) for x in poses)
    stride = max(1, int(np.ceil(total / settings.max_matrix)))
    idx = [torch.arange(0, len(x), stride, device=dev) for x in poses]
    sizes = [len(i) for i in idx]
    offs = np.cumsum([0] + sizes)
    w = torch.zeros(offs[-1], offs[-1], device=dev)
    for a in range(m):
        for b in range(a + 1, m):
            blk = affinity(block(a, b, idx[a], idx[b]), tau)
            w[offs[a]:offs[a + 1], offs[b]:offs[b + 1]] = blk
            w[offs[b]:offs[b + 1], offs[a]:offs[a + 1]] = blk.T
    x, _ = cycle_denoise(w, sizes, settings)
    out = {}
    for j in others:
        den = _resize(x[offs[j]:offs[j + 1], offs[ref]:offs[ref + 1]], tuple(aff[(j, ref)].shape))
        out[j] = 0.5 * (aff[(j, ref)] + den)
    return out
