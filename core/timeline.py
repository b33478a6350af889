# SPDX-License-Identifier: GPL-3.0-or-later
"""The capture's timeline, extended past the reference clip where other clips show more.

The first synchronisation matches each clip against the reference clip: frames of a clip that
started earlier or stopped later than the reference have nothing to match and are left unmatched
(NaN), or squeezed onto the reference's first or last frame. Fitted alone, each from its own view,
they were the capture's worst frames (the cut benchmark: 260.7 mm PA-MPJPE on such frames of
DeepMimic run seed 0, 17.5 mm elsewhere). Here their times are extrapolated at the clip's frame
rate, and the timeline grows by as many frames before and after as they need (:func:`plan`): the
reference clip's tracks gain empty frames (nobody detected) there (:func:`pad`), so that the shared
motion, the bundle adjustment and the re-timing carry on over the whole action, with the reference
clip's frame i at timeline frame ``i + before``. The engine registers the cameras on the matched
frames alone (:func:`shifted`) and adds the extrapolated ones after (:func:`filled`).

:func:`public_corr` and :func:`public_state` turn the engine's padded answer back into the
reference clip's own frames (its motion and reprojection cut to them, its times ``i + before``),
the timeline and the shared motion staying extended.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .sync import Correspondence, invert_time_map
from .tracks import Tracks2D

# the timeline is extended on a side only where a clip's detected frames reach this many frames
# past the reference's end (a fraction of a frame is the synchroniser's own scatter at the ends)
MIN_OVERHANG = 2.0
# matched frames within this many frames of the reference's first (last) frame, in a run at a
# clip's start (end), were squeezed onto it by the first synchronisation: their motion lies past it
SQUEEZED = 0.5
# ... or a run of them at one time (within SQUEEZED of one another) up to this many frames from it:
# the demo's panning clip 3 against the reference cut to frames 90-239 (real detections) had its
# first 11 matched frames at 0.9, truly -10 to 0, and the timeline grew by 62 frames of 72 (now 72:
# bench e2e --cut 90:240, PA-MPJPE 53.3 -> 37.5 mm, sync 1.31 -> 0.18%). The 18 DeepMimic runs cut
# to 70% (reference 0) 18.35 -> 18.31 mm, sync 1.56 -> 1.43%; with the automatic reference 22.85 ->
# 23.94 mm, all of it kick seed 2 (15.7 -> 29.5: a leg flipped in the reference's own frames, as a
# two-frame-longer extension had flipped it before). 1.0 here: the same on those two
PLATEAU_NEAR = 2.0


@dataclass(frozen=True)
class Extension:
    """How the timeline was extended: ``before`` and ``after`` empty frames around the reference
    clip's ``frames``."""

    before: int = 0
    after: int = 0
    frames: int = 0

    @property
    def extended(self) -> bool:
        return bool(self.before or self.after)

    @property
    def total(self) -> int:
        return self.before + self.frames + self.after

    @property
    def reference_times(self) -> np.ndarray:
        """The reference clip's own frames on the extended timeline."""
        return np.arange(self.frames, dtype=float) + self.before


def _plateau(v: np.ndarray, end: float, sign: float) -> int:
    """How many of the times ``v`` (from a clip's outer end inwards) were squeezed onto the
    reference's ``end`` frame: those within ``SQUEEZED`` of it, or, further in by up to
    ``PLATEAU_NEAR``, a run of them all within ``SQUEEZED`` of one another (a plateau)."""
    near = np.cumprod(sign * (v - end) <= SQUEEZED)
    k = int(near.sum())
    span = np.maximum.accumulate(v) - np.minimum.accumulate(v)
    flat = np.cumprod((span <= SQUEEZED) & (sign * (v - end) <= PLATEAU_NEAR))
    return max(k, int(flat.sum()))


def unsqueezed(rt: np.ndarray, first: float, last: float) -> np.ndarray:
    """``rt`` (N,) with the frames squeezed onto the reference clip's ``first`` or ``last`` frame
    unmatched (:func:`_plateau`): the run at the clip's start (end), its innermost frame kept."""
    out = np.asarray(rt, float).copy()
    ok = np.where(np.isfinite(out))[0]
    if len(ok) < 2:
        return out
    for idx, end, sign in ((ok, first, 1.0), (ok[::-1], last, -1.0)):
        run = idx[:_plateau(out[idx], end, sign)]
        out[run[:-1]] = np.nan
    return out


def extrapolate(rt: np.ndarray, pace: float) -> np.ndarray:
    """``rt`` (N,) with its leading and trailing unmatched frames given times at ``pace``
    reference frames per clip frame from the nearest matched ones (interior gaps stay NaN)."""
    out = np.asarray(rt, float).copy()
    ok = np.where(np.isfinite(out))[0]
    if len(ok) == 0:
        return out
    a, b = ok[0], ok[-1]
    idx = np.arange(len(out))
    out[:a] = out[a] + pace * (idx[:a] - a)
    out[b + 1:] = out[b] + pace * (idx[b + 1:] - b)
    return out


def _reach(corr: Correspondence, fps, first: float, last: float, min_confidence: float) -> list:
    """Per clip its frames' times, the unmatched and squeezed ends extrapolated at the clip's frame
    rate (the reference clip's own frames span first..last); None for the reference and for clips
    matched with less than ``min_confidence`` (another action, perhaps: nothing to extend by)."""
    ref = corr.reference
    return [None if j == ref or corr.confidence[j] < min_confidence else
            extrapolate(unsqueezed(rt, first, last), fps[ref] / fps[j]) for j, rt in enumerate(corr.ref_time)]


def plan(tracks, corr: Correspondence, fps, min_confidence: float = 0.0) -> Extension:
    """How far the clips' detected frames reach past the reference clip's ends (their unmatched
    ends' times extrapolated at their frame rates), counted only from ``MIN_OVERHANG`` frames and
    over the clips matched with at least ``min_confidence``."""
    n = tracks[corr.reference].frames
    lo, hi = 0.0, n - 1.0
    for j, t in enumerate(_reach(corr, fps, 0.0, n - 1.0, min_confidence)):
        if t is None:
            continue
        seen = (tracks[j].confidence > 0).any(1) & np.isfinite(t)
        if seen.any():
            lo, hi = min(lo, float(t[seen].min())), max(hi, float(t[seen].max()))
    before = int(np.ceil(-lo - 1e-6)) if -lo >= MIN_OVERHANG else 0
    after = int(np.ceil(hi - (n - 1) - 1e-6)) if hi - (n - 1) >= MIN_OVERHANG else 0
    return Extension(before, after, n)


def shifted(corr: Correspondence, ext: Extension) -> Correspondence:
    """``corr`` on the extended timeline, nothing more matched: the reference clip's times the
    identity over the whole timeline (its padded tracks' frames), the others' moved by ``before``."""
    if not ext.extended:
        return corr
    ref = corr.reference
    rts = tuple(np.arange(ext.total, dtype=float) if j == ref else np.asarray(r, float) + ext.before
                for j, r in enumerate(corr.ref_time))
    return replace(corr, ref_time=rts, clip_time=tuple(invert_time_map(r, ext.total) for r in rts))


def filled(corr: Correspondence, fps, ext: Extension, min_confidence: float = 0.0) -> Correspondence:
    """``corr`` on the extended timeline (:func:`shifted`) with each clip's unmatched and squeezed
    ends, on the sides extended, given their extrapolated times where those fall on the timeline
    (clips matched with at least ``min_confidence``)."""
    if not ext.extended:
        return corr
    first, last = float(ext.before), float(ext.before + ext.frames - 1)
    rts = []
    for j, (r, t) in enumerate(zip(corr.ref_time, _reach(corr, fps, first, last, min_confidence))):
        if t is None:
            rts.append(np.asarray(r, float))
            continue
        kept = np.isfinite(unsqueezed(r, first, last))
        idx = np.arange(len(r))
        start = idx < (idx[kept][0] if kept.any() else len(r))
        new = ~kept & ((start & (ext.before > 0)) | (~start & (ext.after > 0))) & (t >= 0) & (t <= ext.total - 1)
        rts.append(np.where(new, t, r))
    return replace(corr, ref_time=tuple(rts), clip_time=tuple(invert_time_map(r, ext.total) for r in rts))


def pad(t: Tracks2D, before: int, after: int) -> Tracks2D:
    """``t`` with ``before`` and ``after`` empty frames (nobody detected) around it."""
    def grow(a, fill):
        shape = (before + a.shape[0] + after,) + a.shape[1:]
        out = np.full(shape, fill, dtype=a.dtype)
        out[before:before + a.shape[0]] = a
        return out

    times = None
    if t.times is not None:
        step = 1.0 / t.fps
        times = np.concatenate([t.times[0] - step * np.arange(before, 0, -1), t.times,
                                t.times[-1] + step * np.arange(1, after + 1)])
    return replace(t, keypoints=grow(t.keypoints, 0.0), confidence=grow(t.confidence, 0.0),
                   bbox=grow(t.bbox, np.nan), times=times)


def public_corr(corr: Correspondence, ext: Extension) -> Correspondence:
    """The engine's correspondence on the extended timeline with the reference clip's own frames
    as the reference's times (``i + before``; its clip times NaN over the added frames)."""
    if not ext.extended:
        return corr
    ref, own = corr.reference, ext.reference_times
    rts = tuple(own if j == ref else r for j, r in enumerate(corr.ref_time))
    cts = tuple(invert_time_map(own, ext.total) if j == ref else c for j, c in enumerate(corr.clip_time))
    return replace(corr, ref_time=rts, clip_time=cts)


def public_state(state, ref: int, ext: Extension):
    """A core.ba.BAState with the reference clip's own arrays cut back to its frames (the shared
    motion stays on the extended timeline)."""
    if not ext.extended:
        return state
    cut = slice(ext.before, ext.before + ext.frames)

    def own(arrays):
        return tuple(a[cut] if j == ref and a is not None else a for j, a in enumerate(arrays)) if arrays else arrays

    ref_time = state.ref_time
    if ref_time is not None:
        ref_time = tuple(ext.reference_times if j == ref else r for j, r in enumerate(ref_time))
    return replace(state, pose=own(state.pose), transl=own(state.transl), keypoints=own(state.keypoints),
                   joints=own(state.joints), reproj_px=own(state.reproj_px), ref_time=ref_time)
