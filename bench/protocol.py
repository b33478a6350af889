"""The multi-clip benchmark protocol: one real motion capture -> M unsynchronised, uncalibrated
views with known answers, after the paper's Human3.6M protocol (its Fig. 8).

* motion resampled to 30 fps;
* M static pinhole cameras: image size from {1920x1080, 1280x720, 1080x1920}, focal length
  0.6-1.6 x image width, elevation -5..30 degrees, azimuths at least 30 degrees apart, aimed at the
  middle of the subject's path; distance 3-8 m from the subject (from the edge of its path where it
  travels, so that the camera never stands inside it);
* view 0 is the reference (the whole motion, time = frame index); every other view gets a
  non-uniform time warp (the timeline cut into N_s1 = 150 equal segments; N_s2 = 50 of them, drawn
  at random, resampled with a random 1..length frames; motions under 300 frames get one segment per
  two frames, a third of them warped) and a random trim keeping 60-100% of it;
* each view's performer scaled by a random factor in [0.9, 1.1], travel and all, about one point:
  the ground under the root's mean position over that view's frames;
* COCO-17 keypoints for the joints the file maps (limbs; the nose from the head where present;
  eyes and ears confidence 0), Gaussian noise (sigma ``noise_px`` at 1080p, scaled with the image),
  outliers (a fraction displaced 30-150 px at 1080p, confidence still high), out-of-frame
  keypoints missing. Deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.geometry import intrinsics, look_at_camera, project
from core.tracks import Tracks2D

from .mocap import COCO_FROM_SMPL, Mocap

SIZES = ((1920, 1080), (1280, 720), (1080, 1920))
N_S1, N_S2 = 150, 50


@dataclass(frozen=True)
class View:
    """One synthetic clip with its ground truth.

    ref_time (N,) true reference frame of each frame; joints (N,24,3) world (NaN: unmapped);
    K, R, t the camera; scale the performer's; tracks the 2D keypoints the engine sees.
    """

    ref_time: np.ndarray
    joints: np.ndarray
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    scale: float
    tracks: Tracks2D

    @property
    def frames(self) -> int:
        return int(self.ref_time.shape[0])

    def joints_in_camera(self) -> np.ndarray:
        """(N,24,3) joints in this view's camera frame."""
        return self.joints @ self.R.T + self.t

    def unscaled_camera(self) -> tuple[np.ndarray, np.ndarray]:
        """(R, t) of the camera that sees the unscaled performer exactly as this view's camera sees
        its scaled one (the scale's pivot, the ground under the root's mean, is where both agree):
        true cameras for one performer. With the views' raw cameras no single body fits them all
        (sizes up to 20% apart), which only estimated cameras can absorb.

        The pivot is one point per view, so the performer's travel is scaled with its body. Until
        2026-11-24 each frame was scaled about the ground under its own root: the body grew but its
        travel did not, a standing foot slid, and these cameras were exact only where the
        performer stood still. Through them a bigger performer's travel looked shorter, and a
        capture that fits the clips' times took some of that as time (DeepMimic walk seeds 0-2, 4
        views: the bundle adjustment's time fit from the true cameras, times and their motion
        moved the times 0.38 / 0.76 / 1.51% off)."""
        return self.R, (self.t + (1 - self.scale) * self.R @ self.pivot) / self.scale

    @property
    def pivot(self) -> np.ndarray:
        """(3,) the point this view's performer is scaled about (:func:`ground_pivot`; scaling
        about it keeps it where it is)."""
        return ground_pivot(self.joints)


@dataclass(frozen=True)
class Problem:
    mocap: Mocap
    views: tuple[View, ...]
    seed: int

    @property
    def reference_frames(self) -> int:
        return self.views[0].frames

    def true_correspondence(self, reference: int = 0):
        """The views' true synchronisation as the engine's Correspondence, on view ``reference``'s
        timeline (a view's frames outside it unmatched, NaN)."""
        from core.sync import Correspondence, invert_time_map

        own = self.views[reference].ref_time
        n = len(own)
        times = [np.where((v.ref_time >= own[0]) & (v.ref_time <= own[-1]), v.ref_time, np.nan) if not reference else
                 np.interp(v.ref_time, own, np.arange(n, dtype=float), left=np.nan, right=np.nan) for v in self.views]
        return Correspondence(reference, tuple(times), tuple(invert_time_map(t, n) for t in times),
                              np.ones(len(self.views)))

    def true_extended(self, reference: int = 0):
        """The views' true synchronisation on view ``reference``'s timeline extended over every
        view's frames (core.timeline; outside the reference view at its mean pace), and the
        :class:`core.timeline.Extension`: what the engine's answer would be with perfect times."""
        from core.sync import Correspondence, invert_time_map
        from core.timeline import Extension

        own = self.views[reference].ref_time
        n = len(own)
        idx = np.arange(n, dtype=float)
        # view 0's times are its frame indices
        times = [interp_paced(v.ref_time, own, idx) if reference else np.asarray(v.ref_time, float) for v in self.views]
        lo = min(0.0, min(float(t.min()) for t in times))
        hi = max(n - 1.0, max(float(t.max()) for t in times))
        ext = Extension(int(np.ceil(-lo - 1e-6)), int(np.ceil(hi - (n - 1) - 1e-6)), n)
        times = [np.arange(ext.total, dtype=float) if j == reference else t + ext.before for j, t in enumerate(times)]
        return (Correspondence(reference, tuple(times), tuple(invert_time_map(t, ext.total) for t in times),
                               np.ones(len(self.views))), ext)

    def true_cameras(self) -> list:
        """The views' true cameras for one performer (:meth:`View.unscaled_camera`), as the engine's."""
        from core.cameras import Camera

        return [Camera(*v.unscaled_camera(), float(v.K[0, 0]), v.K[:2, 2].copy()) for v in self.views]


def interp_paced(x, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp(x, xp, fp)`` (``xp`` increasing) carried on straight past both ends at the mean
    slope from the first point to the last: a view's times past its ends, at its mean pace."""
    out = np.interp(x, xp, fp)
    if len(xp) < 2:
        return out
    slope = (fp[-1] - fp[0]) / (xp[-1] - xp[0])
    return np.where(x < xp[0], fp[0] + slope * (x - xp[0]), np.where(x > xp[-1], fp[-1] + slope * (x - xp[-1]), out))


def cut_first_view(problem: Problem, keep: float) -> Problem:
    """``problem`` with view 0 cut to its first ``keep`` (0-1] of its frames: the other views then
    show motion past its end, as clips that start and stop at different moments do."""
    if not 0 < keep <= 1:
        raise ValueError("keep must be in (0, 1]")
    v = problem.views[0]
    n = max(2, int(round(keep * v.frames)))
    first = View(v.ref_time[:n], v.joints[:n], v.K, v.R, v.t, v.scale, v.tracks.frames_of(slice(0, n)))
    return replace(problem, views=(first,) + problem.views[1:])


def ground_pivot(joints: np.ndarray) -> np.ndarray:
    """(3,) the ground under the root's mean position over ``joints`` (N,24,3) frames: where a
    view's performer is scaled about."""
    pivot = np.nanmean(joints[:, 0], axis=0)
    pivot[2] = 0.0
    return pivot


def time_warp(frames: int, rng: np.random.Generator) -> np.ndarray:
    """Fractional reference times (monotonic) of a warped clip of a ``frames``-frame motion.

    Short motions get fewer segments (at least two frames each), the same third of them warped."""
    n_s1 = max(1, min(N_S1, (frames - 1) // 2))
    n_s2 = max(1, round(n_s1 * N_S2 / N_S1))
    edges = np.linspace(0, frames - 1, n_s1 + 1)
    chosen = set(rng.choice(n_s1, size=n_s2, replace=False).tolist())
    parts = []
    for s in range(n_s1):
        a, b = edges[s], edges[s + 1]
        length = b - a
        if s in chosen:
            n = int(rng.integers(1, max(1, int(np.ceil(length))) + 1))
        else:
            n = max(1, int(round(length)))
        parts.append(a + (b - a) * np.arange(n) / n)
    times = np.concatenate(parts + [np.array([frames - 1.0])])
    return times


def trim(times: np.ndarray, frames: int, rng: np.random.Generator, min_overlap: float = 0.6) -> np.ndarray:
    """A contiguous part of ``times`` spanning a random 60-100% of the reference timeline."""
    return times[trim_mask(times, frames, rng, min_overlap)]


def trim_mask(times: np.ndarray, frames: int, rng: np.random.Generator, min_overlap: float = 0.6) -> np.ndarray:
    """(N,) which of ``times`` :func:`trim` keeps."""
    span = rng.uniform(min_overlap, 1.0) * (frames - 1)
    start = rng.uniform(0, frames - 1 - span)
    return (times >= start) & (times <= start + span)


def _cameras(m: int, centre: np.ndarray, radius: float, rng: np.random.Generator):
    azimuths: list[float] = []
    while len(azimuths) < m:
        a = rng.uniform(0, 360)
        if all(abs((a - b + 180) % 360 - 180) >= 30 for b in azimuths):
            azimuths.append(a)
    cams = []
    for az in azimuths:
        w, h = SIZES[rng.integers(len(SIZES))]
        focal = rng.uniform(0.6, 1.6) * w
        dist = rng.uniform(3.0, 8.0) + radius
        el = np.deg2rad(rng.uniform(-5.0, 30.0))
        a = np.deg2rad(az)
        pos = centre + dist * np.array([np.cos(el) * np.cos(a), np.cos(el) * np.sin(a), np.sin(el)])
        rot, tr = look_at_camera(pos, centre)
        cams.append((intrinsics(focal, w, h), rot, tr, (w, h)))
    return cams


def make_problem(mocap: Mocap, views: int, seed: int, noise_px: float = 4.0, outliers: float = 0.05) -> Problem:
    """The protocol's M views of ``mocap`` (see the module docstring)."""
    if views < 1:
        raise ValueError("views must be at least 1")
    rng = np.random.default_rng(seed)
    root = mocap.joints[:, 0]
    centre = np.nanmean(root, axis=0)
    radius = float(np.nanmax(np.linalg.norm(root[:, :2] - centre[:2], axis=1)))
    centre = np.array([centre[0], centre[1], np.nanmean(root[:, 2])])
    out = []
    for j, (K, R, t, size) in enumerate(_cameras(views, centre, radius, rng)):
        if j == 0:
            times = np.arange(mocap.frames, dtype=float)
        else:
            times = trim(time_warp(mocap.frames, rng), mocap.frames, rng)
        scale = float(rng.uniform(0.9, 1.1))
        # each view's keypoint noise from its own stream: geometry and warps do not depend on it
        out.append(make_view(mocap.at(times), times, (K, R, t, size), scale, np.random.default_rng([seed, 1, j]),
                             noise_px, outliers))
    return Problem(mocap, tuple(out), seed)


def make_view(joints: np.ndarray, times: np.ndarray, camera: tuple, scale: float, noise_rng: np.random.Generator,
              noise_px: float, outliers: float) -> View:
    """A view of ``joints`` (N,24,3) at reference ``times`` (N,) through ``camera`` (K, R, t, size),
    the performer scaled by ``scale`` about :func:`ground_pivot`, its 2D drawn from ``noise_rng``."""
    K, R, t, size = camera
    pivot = ground_pivot(joints)
    joints = pivot + scale * (joints - pivot)
    return View(times, joints, K, R, t, scale, _keypoints(joints, K, R, t, size, noise_rng, noise_px, outliers))


def _keypoints(joints, K, R, t, size, rng, noise_px, outliers) -> Tracks2D:
    n = joints.shape[0]
    w, h = size
    px = min(w, h) / 1080.0  # 1080p-equivalent pixels
    kp = np.zeros((n, 17, 2))
    conf = np.zeros((n, 17))
    for k, sj in COCO_FROM_SMPL.items():
        uv, depth = project(joints[:, sj], K, R, t)
        ok = np.isfinite(uv).all(1) & (depth > 0.1)
        ok &= (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        kp[ok, k] = uv[ok]
        conf[ok, k] = rng.uniform(0.6, 1.0, ok.sum())
    seen = conf > 0
    kp[seen] += rng.normal(0, noise_px * px, (seen.sum(), 2))
    is_out = seen & (rng.random(seen.shape) < outliers)
    ang = rng.uniform(0, 2 * np.pi, is_out.sum())
    mag = rng.uniform(30, 150, is_out.sum()) * px
    kp[is_out] += np.stack([np.cos(ang), np.sin(ang)], 1) * mag[:, None]
    kp[~seen] = 0.0
    bbox = np.full((n, 4), np.nan)
    any_seen = seen.any(1)
    masked = np.where(seen[..., None], kp, np.nan)
    bbox[any_seen, :2] = np.nanmin(masked[any_seen], axis=1)
    bbox[any_seen, 2:] = np.nanmax(masked[any_seen], axis=1)
    return Tracks2D(kp.astype(np.float32), conf.astype(np.float32), bbox.astype(np.float32), 30.0, (w, h),
                    source="synthetic", model="protocol", settings={"noise_px": noise_px, "outliers": outliers})
