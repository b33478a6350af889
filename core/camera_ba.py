"""Camera refinement by a classical bundle adjustment over free 3D points: the keypoints of every
(sub-sampled) reference frame are points, seen by the clips the synchronisation maps there; all
cameras (rotation, translation, focal length; the reference's pose fixed as the world) and all
points are fitted together to the 2D keypoints (Huber-robust, confidence-weighted).

Why: registration from monocular bodies leaves cameras off by several degrees and focal lengths
by tens of percent (monocular depth is weak), and the SMPL bundle adjustment, whose per-clip
motions may depart from the shared one, can absorb a camera's error into its clip's pose instead
of correcting it. Free points carry no such freedom: only the cameras can explain the views'
disagreement. Alternating resection and intersection was tried first and drifts (each camera fits
a structure distorted by the others).

Local minima: with three views, started from the registration (a camera 25 degrees out), the
adjustment over 2,000 points settled 19 degrees out with a focal length 3.4x too long, at a
higher cost than where it lands from the true cameras. So it runs coarse to fine: a few hundred
points first, from each start offered (the registration and the essential matrices'
``core.relpose``), ``coarse_steps`` steps of the solver (:mod:`core.camera_lm`) each, the lowest
cost kept; then all the points from there, run to convergence. With two views the focal lengths
are held near their guesses (see ``TWO_VIEW_FOCAL_PRIOR``).

The coarse steps were SciPy's sparse trust region with a finite-difference Jacobian until
2026-11-24: 50 evaluations moved a start that was far off (cost in the millions) hardly at all,
so the starts' costs told little of their basins (DeepMimic run, 3 views, seed 0, each
performer scaled about one point: the registration's start stayed 11 and 55 degrees out at 22
million; the clip-by-clip mix, 39 degrees out on clip 2 at 40,459, lost to the essential start's
30,097, and the capture ended with cameras 54 and 169 degrees out, 166 mm). 50 steps of the
converging solver take about as long (0.3-0.8 s on 300 points) and tell the basins apart.

Times: where every reference frame has its points (up to ``max_points``: clips of up to ~80
reference frames) and there are three views or more, the fine stage also fits each clip's time
offset and tilt, each clip's keypoints seen at its own frames against the points interpolated
at its times. Held at the synchronisation's times, a clip's time error is absorbed by its camera
(a performer who moves along a path looks, a fraction of a frame later, much as from a camera
moved along it), and every later round inherits it: DeepMimic walk, seed 0, 4 views, 0.5 frames
added to one clip's true times came back 0.41 frames off after the bundle adjustment's rounds.
Fitted here, DeepMimic seeds 0-2 (18 runs each; PA-MPJPE / sync error before -> after): 4 views
24.73 mm / 0.780% -> 24.48 / 0.750, 3 views 33.81 / 0.827 -> 32.57 / 0.806; the largest camera
error fell in 14 of the 18 four-view runs and 11 of the 18 three-view ones. With two views the
times joined the focal lengths' valley (two of 18 cameras went from 2-5 to 36-42 degrees out), so
they stay fixed there."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from .camera_lm import Observations, Timing, adjust
from .cameras import Camera, sample, time_span
from .mirror import mirror_cameras, mirrored_fraction, turned_cameras
from .relpose import KEYPOINTS, essential_cameras
from .triangulate import triangulate

FOCAL_RANGE = (0.3, 6.0)  # x the image's larger side: ~118 to ~5 degrees of horizontal field of view
LIMB_PAIRS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16))
LIMB_SIDE = np.array([0, 1, 0, 1, 2, 3, 2, 3])  # one length per bone for both sides
MIN_KNEES = 10  # bent knees below which the mirror check (core.mirror) says nothing
# Two cameras aimed at one performer cannot tell their focal lengths from the 2D (their optical
# axes meet: the classic two-view degeneracy), and the fit slides along a flat valley of focal
# length against depth, where the limbs' rigidity, the one other cue, pulls it off the truth:
# DeepMimic kick, two views, seed 2, run to convergence from the true cameras: the reference's
# focal length to FOCAL_RANGE's lower bound (0.68x the truth), the other camera 3.9 degrees out;
# from the registration's turned candidate, 10.1 degrees. So with two views each focal length is
# held near its guess (the registration's) by a prior of this weight x sqrt(observations), in
# pixels per unit of log focal length. The 36 DeepMimic two-view camera stages (seeds 0-2, 1 and
# 2 threads), largest camera error: median 7.5 -> 4.5 degrees, over 8: 16 -> 12, over 30: 7 -> 4.
# With three views the geometry tells the focal lengths better than the guess does (median
# 3.9 degrees without, 4.3 with), and no prior applies.
TWO_VIEW_FOCAL_PRIOR = 30.0


def _rotvec(r: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(r).as_rotvec()


def refine_cameras(tracks, corr, cameras: list[Camera], max_points: int = 1000, coarse_points: int = 300,
                   coarse_steps: int = 50, min_conf: float = 0.3, huber_px: float = 4.0,
                   limb_px: float = 50.0, known_focal: list | None = None,
                   alternatives: bool = True, swap_deg: float = 15.0,
                   mirror_limit: float = 0.6, fit_times: bool = True) -> tuple[list[Camera], dict]:
    """Cameras after the bundle adjustment (the reference camera's pose unchanged), and figures
    (points, observations, reprojection px before/after, cost, the start kept, the clips whose
    focal length ended at a bound, the fraction of bent knees backwards where the result is still
    a mirror image, else None). ``known_focal[j]``, where not None, is clip j's focal length,
    held fixed (a panning camera's, from its homographies). ``alternatives``: also start from the
    essential matrices' cameras, and where a clip's two start cameras are over ``swap_deg`` apart,
    that clip from the other start (see :func:`_swap_starts`). A structure with over
    ``mirror_limit`` of its bent knees backwards is a mirror image: upright ones (under
    1 - ``mirror_limit``) are tried in its place (see :func:`_unmirror`); the figures'
    ``hypotheses`` then hold the other candidates' cameras, for the engine to judge by the body.
    Points that are no body (a random cloud: 54%) fall between the two and are left alone.
    ``fit_times``: the clips' times are fitted with the cameras where the module docstring says;
    the figures then hold ``ref_time`` (per clip, its frames' reference times) and ``time_shift``
    (per clip, the offset and tilt in reference frames)."""
    known = [None] * len(cameras) if known_focal is None else list(known_focal)
    cameras = [replace(c, focal=float(f)) if f is not None and np.isfinite(f) else c for c, f in zip(cameras, known)]
    hold = np.array([f is not None and np.isfinite(f) for f in known])
    if len(tracks) < 2:
        return list(cameras), {}
    starts = {"registration": list(cameras)}
    if alternatives:
        alt = essential_cameras(tracks, corr, cameras)
        starts["essential"] = [a if a is not None else c for a, c in zip(alt, cameras)]
    _, seen = triangulate(tracks, corr, cameras)  # which keypoints >= 2 clips see: the same for every start
    coarse = _Adjustment(tracks, corr, seen, hold, coarse_points, min_conf, huber_px, limb_px)
    fine = _Adjustment(tracks, corr, seen, hold, max_points, min_conf, huber_px, limb_px, fit_times)
    if fine.n_p < 20:
        return list(cameras), {}
    tried = {name: coarse.solve(cams, coarse_steps) for name, cams in starts.items()} if coarse.n_p >= 20 else {}
    best = min(tried, key=lambda name: tried[name][1]["cost"]) if tried else "registration"
    kept, swapped, mirrored = tried.get(best), [], None
    if len(tried) == 2:
        kept, swapped = _swap_starts(coarse, starts, tried, best, coarse_steps, swap_deg)
    others = []
    if kept:
        kept, mirrored, others = _unmirror(tracks, corr, coarse, kept, coarse_steps, mirror_limit)
    prior = TWO_VIEW_FOCAL_PRIOR if len(tracks) == 2 else 0.0
    guess = [c.focal for c in cameras]
    out, info = fine.polish(kept[0] if kept else cameras, prior, guess)
    if others:
        info["hypotheses"] = [fine.polish(c, prior, guess)[0] for c in others]
    info["start"] = best + "".join(f", clip {j} from the {other}" for j, other in swapped)
    if mirrored is not None:
        info["start"] += f", mirrored ({mirrored[0]:.0%} of bent knees backwards, then {mirrored[1]:.0%})"
    info["coarse_cost"] = {name: r[1]["cost"] for name, r in tried.items()}
    if "ref_time" in info:
        corr = corr.with_ref_time(info["ref_time"])
    frac, n = mirrored_fraction(*triangulate(tracks, corr, out))
    info["mirrored"] = frac if n >= MIN_KNEES and frac > mirror_limit else None
    return out, info


# up to this many clips whose two starts lie apart, every mix of the two starts is tried (2^k - 2
# coarse solves, about half a second each); over it, one clip at a time (k solves)
EVERY_MIX = 3


def _swap_starts(coarse, starts: dict, tried: dict, best: str, steps: int, swap_deg: float):
    """The two starts mixed clip by clip. Where a clip's two start cameras are over ``swap_deg``
    apart they lie in different basins, and the better start as a whole need not hold the better
    camera for every clip: DeepMimic run, 3 views, seed 0: the essential start had clip 1 right
    (4.8 degrees) and clip 2 reversed (162), and after the coarse steps cost 26,709 with the two
    cameras 42 and 157 degrees out; the registration had clip 2 55 degrees out (68,589, 22 and 40
    degrees out after them). Clip 1 from the essential and clip 2 from the registration: 11,065,
    2.6 and 3.3 degrees out. So each such clip is tried from the other start in turn, kept where
    the coarse cost falls. Only where the two starts also ended apart (``tried``: their coarse
    solutions): where they met, the basin is one (on the 54 DeepMimic camera stages of seeds 0-2
    with 2-4 views, 3 of 9 swaps fewer, none of them among the three failures above; measured
    with SciPy's coarse steps).

    Up to ``EVERY_MIX`` such clips, every mix is tried rather than one clip at a time: one at a
    time, a swap that lowers the cost can lead into a worse basin. Different takes of
    cmu_01_jumps (bench.varied, 90 frames, seed 2, the takes' ends then unfixed): from the
    essential start (52,335) clip 1 from the registration lowered it (49,090), then clip 3
    (48,958), and the capture ended with cameras 27, 62 and 39 degrees out, focal lengths 4.5-5.7x
    the truth, PA-MPJPE 79.5 mm; clip 2 alone from the registration costs 23,113 (13, 5 and 9
    degrees; 26.4 mm). On the 18 DeepMimic runs (seeds 0-2) with 4 views two changed:
    deepmimic_run seed 2 15.31 -> 14.45 mm, and spinkick seed 0 kept its 16.14 mm with its sync
    error 0.159 -> 0.196% (a camera 1.15 -> 1.53 degrees out); mean 14.54 -> 14.50 mm, 0.408 ->
    0.410%; with 3 views none."""
    other = next(name for name in starts if name != best)
    current, swapped, kept = list(starts[best]), [], tried[best]
    pairs = list(zip(starts[best], starts[other]))
    same = [np.allclose(a.R, b.R) and np.allclose(a.t, b.t) and a.focal == b.focal for a, b in pairs]
    apart = [j for j, (a, b) in enumerate(pairs)
             if not (_angle_deg(a.R, b.R) <= swap_deg or _angle_deg(tried[best][0][j].R, tried[other][0][j].R) <= swap_deg
                     or all(same[:j] + same[j + 1:]))]  # (with every other clip alike, the swap is the other start)
    if len(apart) <= EVERY_MIX:
        for chosen in itertools.chain.from_iterable(itertools.combinations(apart, k) for k in range(1, len(apart) + 1)):
            trial = [b if j in chosen else a for j, (a, b) in enumerate(pairs)]
            if all(same[j] or j in chosen for j in range(len(pairs))):
                continue  # the other start itself, tried already
            result = coarse.solve(trial, steps)
            if result[1]["cost"] < kept[1]["cost"]:
                kept, swapped = result, [(j, other) for j in chosen]
        return kept, swapped
    for j in apart:
        trial = current.copy()
        trial[j] = starts[other][j]
        result = coarse.solve(trial, steps)
        if result[1]["cost"] < kept[1]["cost"]:
            current, kept = trial, result
            swapped.append((j, other))
    return kept, swapped


def _unmirror(tracks, corr, coarse, kept: tuple, steps: int, limit: float):
    """``kept`` (cameras, figures), or, where its structure is mirrored (over ``limit`` of the bent
    knees backwards), the cheapest coarse solution among those from its mirror image and from each
    clip's camera carried half a turn about the performer (:mod:`core.mirror`) whose structure is
    upright (under 1 - ``limit``); with the two fractions (None where ``kept`` stays) and the other
    candidates' coarse cameras, for the engine to judge by the body (:mod:`core.engine`'s first
    bundle adjustment): the anatomy test on a two-view triangulation is noisy (DeepMimic kick, two
    views, seed 2: clip 1 turned half a turn came out 33% or 54% backwards with the float path
    alone, and when rejected, the mirror image's cameras won, 142 degrees out). Measured:
    mirrored 69-88%, upright 11-27% (two-view triangulation is noisy). Anatomy decides, not cost: DeepMimic
    kick, two views, seed 2: clip 1's camera half a turn out (178 degrees, focal lengths 2-6x too
    long) costs 15,416 over 168 points, the adjustment from the true cameras 23,168 over 336."""
    points, seen = triangulate(tracks, corr, kept[0])
    frac, n = mirrored_fraction(points, seen)
    if n < MIN_KNEES or not frac > limit:
        return kept, None, []
    starts = [mirror_cameras(corr, kept[0], points, seen)]
    starts += [turned_cameras(kept[0], points, seen, j) for j in range(len(tracks)) if j != corr.reference]
    best, trials = None, []
    for start in starts:
        trial = coarse.solve(start, steps)
        trials.append(trial[0])
        f, n2 = mirrored_fraction(*triangulate(tracks, corr, trial[0]))
        if n2 >= MIN_KNEES and f < 1 - limit and (best is None or trial[1]["cost"] < best[0][1]["cost"]):
            best = (trial, f)
    if best is None:
        return kept, None, trials
    return best[0], (frac, best[1]), [c for c in trials if c is not best[0][0]]


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.linalg.norm(_rotvec(a @ b.T))))


class _Adjustment:
    """One camera bundle adjustment's observations (at most ``max_points`` points) and limbs;
    ``solve`` (a few steps) and ``polish`` (to convergence) run it from given cameras."""

    def __init__(self, tracks, corr, seen, hold, max_points, min_conf, huber_px, limb_px, fit_times=False):
        self.tracks, self.corr, self.hold, self.huber_px, self.limb_px = tracks, corr, hold, huber_px, limb_px
        m = self.m = len(tracks)
        self.ref = corr.reference
        frames = np.where(seen[:, KEYPOINTS].any(1))[0]
        stride = self.stride = max(1, int(np.ceil(len(frames) * len(KEYPOINTS) / max_points)))
        frames = self.frames = frames[::stride]
        pf, pk = np.meshgrid(frames, KEYPOINTS, indexing="ij")
        keep = seen[pf, pk]
        self.pf, self.pk = pf, pk = pf[keep], pk[keep]
        self.n_p = n_p = len(pf)
        obs_p, obs_c, obs_uv, obs_w = [], [], [], []
        for j, t in enumerate(tracks):
            ct = np.asarray(corr.clip_time[j], float)[pf]
            ok = np.isfinite(ct)
            uv = sample(t.keypoints.astype(np.float64), ct[ok])[np.arange(ok.sum()), pk[ok]]
            cf = sample(t.confidence.astype(np.float64), ct[ok])[np.arange(ok.sum()), pk[ok]]
            good = cf > min_conf
            obs_p.append(np.where(ok)[0][good])
            obs_c.append(np.full(good.sum(), j))
            obs_uv.append(uv[good])
            obs_w.append(np.sqrt(cf[good]))
        obs_p, obs_c, obs_uv, obs_w = (np.concatenate(a) for a in (obs_p, obs_c, obs_uv, obs_w))
        # limbs: the points of one limb in one frame (both ends kept), its length shared by all frames
        # and by the body's two sides (a human's bones are rigid and symmetric). Free points alone leave
        # the cameras' focal lengths and the structure's shape ambiguous with few views (3 views of the
        # protocol: 3 px reprojection, yet a focal length 10x off and cameras 20 degrees out).
        point_of = np.full((seen.shape[0], 17), -1)
        point_of[pf, pk] = np.arange(n_p)
        ends = np.array(LIMB_PAIRS)
        limb_a, limb_b = point_of[frames][:, ends[:, 0]], point_of[frames][:, ends[:, 1]]  # (frames, 8)
        both = (limb_a >= 0) & (limb_b >= 0)
        self.limb_a, self.limb_b = limb_a[both], limb_b[both]
        self.limb_l = np.broadcast_to(LIMB_SIDE, both.shape)[both]
        self.observations = Observations(obs_p, obs_c, obs_uv, obs_w, self.limb_a, self.limb_b, self.limb_l, limb_px)
        self.timed = fit_times and stride == 1 and m > 2
        if self.timed:
            self.observations = self._timed_observations(point_of, min_conf)
        self.n_len = int(LIMB_SIDE.max()) + 1
        # the world's scale is left free (the reference camera's pose fixes the rest of the gauge): the
        # solver's damping keeps it near its start

    def _timed_observations(self, point_of: np.ndarray, min_conf: float) -> Observations:
        """Every clip's own keypoints at its own frames (not sampled at the reference's), each seeing
        the points of the reference frames around its time, which the adjustment moves per clip
        (offset and tilt, :class:`core.camera_lm.Timing`)."""
        n_ref = len(point_of)
        cam, time, key, uv, wt, rel = [], [], [], [], [], []
        self.mid, self.half = np.zeros(self.m), np.ones(self.m)
        for j, t in enumerate(self.tracks):
            rt = np.asarray(self.corr.ref_time[j], float)
            inside = np.isfinite(rt) & (rt >= 0) & (rt <= n_ref - 1)
            self.mid[j], self.half[j] = time_span(rt[inside])
            fi, kk = np.meshgrid(np.where(inside)[0], KEYPOINTS, indexing="ij")
            fi, kk = fi.ravel(), kk.ravel()
            at = rt[fi]
            i0 = np.minimum(np.floor(at).astype(int), max(n_ref - 2, 0))
            w = at - i0
            after = point_of[np.minimum(i0 + 1, n_ref - 1), kk]
            need = ((point_of[i0, kk] >= 0) | (w >= 1)) & ((after >= 0) | (w <= 0))  # as Timing's rule
            cf = t.confidence[fi, kk].astype(np.float64)
            keep = need & (cf > min_conf)
            cam.append(np.full(keep.sum(), j))
            time.append(at[keep])
            key.append(kk[keep])
            uv.append(t.keypoints[fi[keep], kk[keep]].astype(np.float64))
            wt.append(np.sqrt(cf[keep]))
            rel.append((at[keep] - self.mid[j]) / self.half[j] if j != self.ref else np.zeros(keep.sum()))
        cam, time, key, uv, wt, rel = (np.concatenate(a) for a in (cam, time, key, uv, wt, rel))
        nearest = point_of[np.clip(np.round(time).astype(int), 0, n_ref - 1), key]
        return Observations(nearest, cam, uv, wt, self.limb_a, self.limb_b, self.limb_l, self.limb_px,
                            Timing(time, key, rel, point_of))

    def _start(self, cameras: list[Camera]):
        """The points triangulated through ``cameras`` and the limbs' median lengths on them."""
        pts, _ = triangulate(self.tracks, self.corr, cameras)
        x_pts = pts[self.pf, self.pk]
        length0 = np.ones(self.n_len)
        if len(self.limb_a):
            d0 = np.linalg.norm(x_pts[self.limb_a] - x_pts[self.limb_b], axis=1)
            length0 = np.array([np.median(d0[self.limb_l == q]) if (self.limb_l == q).any() else 1.0
                                for q in range(self.n_len)])
        return x_pts, length0

    def _log_bounds(self, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # focal lengths within what a video camera can have (FOCAL_RANGE x the image's larger side)
        side = 2 * np.abs(centres).max(1)
        return np.log(FOCAL_RANGE[0] * side), np.log(FOCAL_RANGE[1] * side)

    @staticmethod
    def _median_px(residuals: np.ndarray, n_o: int) -> float:
        """The median over the ``n_o`` observations (the residuals' first 2 x ``n_o``) of the larger
        of a keypoint's two weighted residuals."""
        return float(np.median(np.abs(residuals[:2 * n_o]).reshape(-1, 2).max(1)))

    def _figures(self, logf, residuals, n_o: int, before: float, cost: float, bounds) -> dict:
        m, hold, lo, hi = self.m, self.hold, bounds[0], bounds[1]
        after = self._median_px(residuals, n_o)
        at_limit = [j for j in range(m) if not hold[j] and min(logf[j] - lo[j], hi[j] - logf[j]) < 1e-3]
        return {"points": int(self.n_p), "observations": int(n_o), "frames": int(len(self.frames)),
                "stride": self.stride, "reproj_before_px": float(before), "reproj_after_px": float(after),
                "n_ref": int(len(self.corr.clip_time[self.ref])), "cost": float(cost), "focal_at_limit": at_limit}

    def polish(self, cameras: list[Camera], focal_prior: float = 0.0, focal_guess: list | None = None,
               iterations: int = 200) -> tuple[list[Camera], dict]:
        """The adjustment run to convergence from ``cameras`` (:mod:`core.camera_lm`); with
        ``focal_prior`` > 0, each free log focal length is pulled towards the log of its
        ``focal_guess`` (default: its value in ``cameras``) with weight ``focal_prior`` x
        sqrt(observations)."""
        x_pts, length0 = self._start(cameras)
        centres = np.stack([c.centre for c in cameras])
        bounds = self._log_bounds(centres)
        logf0 = np.log([c.focal for c in cameras])
        start = (np.stack([c.R for c in cameras]).astype(float), np.stack([c.t for c in cameras]).astype(float),
                 np.clip(logf0, *bounds), x_pts.astype(float), length0, np.zeros((self.m, 2)))
        guess = logf0 if focal_guess is None else np.log(focal_guess)
        n_o = len(self.observations.camera)  # (the timed observations, where fitted, are the clips' own)
        prior = (focal_prior * np.sqrt(n_o), guess) if focal_prior > 0 else None
        (rot, tt, logf, _, _, tau), res0, res, cost, steps = adjust(
            self.observations, start, centres, self.ref, self.hold, bounds, self.huber_px, prior, iterations)
        out = [replace(c, R=rot[j] if j != self.ref else c.R, t=tt[j] if j != self.ref else c.t,
                       focal=float(np.exp(logf[j]))) for j, c in enumerate(cameras)]
        info = {**self._figures(logf, res, n_o, self._median_px(res0, n_o), cost, bounds), "steps": steps}
        if self.timed:
            info["time_shift"] = [[round(float(a), 3) for a in row] for row in tau]
            info["ref_time"] = tuple(self._moved_times(j, tau[j]) for j in range(self.m))
        return out, info

    def _moved_times(self, j: int, tau: np.ndarray) -> np.ndarray:
        """Clip j's reference times moved by its fitted offset and tilt (the reference's as they are)."""
        rt = np.asarray(self.corr.ref_time[j], float)
        if j == self.ref:
            return rt
        n_ref = len(self.corr.clip_time[self.ref])
        return np.clip(rt + tau[0] + tau[1] * (rt - self.mid[j]) / self.half[j], 0, n_ref - 1)

    def solve(self, cameras: list[Camera], steps: int) -> tuple[list[Camera], dict]:
        """At most ``steps`` steps of the adjustment from ``cameras``: the coarse stage's look at a
        start, long enough to tell its basin (it need not converge; :meth:`polish` does)."""
        return self.polish(cameras, iterations=steps)


def limb_lengths(keypoints: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Median length of each limb segment (8,) over the frames of ``keypoints`` (N,17,3)."""
    a, b = np.array(LIMB_PAIRS).T
    d = np.linalg.norm(keypoints[:, a] - keypoints[:, b], axis=-1)
    if mask is not None:
        d = np.where(mask[:, a] & mask[:, b], d, np.nan)
    return np.nanmedian(d, axis=0)


def to_body_scale(tracks, corr, cameras: list[Camera], body_keypoints: np.ndarray) -> tuple[list[Camera], float]:
    """Cameras whose world is scaled so that the keypoints triangulated through them have the
    body's limb lengths (``body_keypoints`` (N,17,3), e.g. a monocular fit, set the lengths): the
    camera bundle adjustment fixes everything but the world's scale."""
    pts, seen = triangulate(tracks, corr, cameras)
    ratio = limb_lengths(body_keypoints) / limb_lengths(pts, seen)
    scale = float(np.nanmedian(ratio))
    if not np.isfinite(scale) or scale <= 0:
        return list(cameras), 1.0
    return [replace(c, t=c.t * scale) for c in cameras], scale
