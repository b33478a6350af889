"""Synchronisation by two-view epipolar geometry (core.epipolar) against the protocol's true times."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED
from core.epipolar import refine_correspondence
from core.sync import Correspondence, invert_time_map

needs_mocap = pytest.mark.skipif(not (SHARED / "cmu_01_jumps.npz").is_file(), reason="shared/mocap missing")


def _problem(name, seed, views):
    from bench.mocap import load_mocap
    from bench.protocol import make_problem

    p = make_problem(load_mocap(SHARED / f"{name}.npz"), 4, seed)
    return [p.views[j] for j in views], p.reference_frames


def _corr(ref_times, n_ref):
    rts = tuple(np.asarray(t, float) for t in ref_times)
    return Correspondence(0, rts, tuple(invert_time_map(t, n_ref) for t in rts), np.ones(len(rts)))


def _given_late(n, n_ref, late=250.0):
    """Clip 1 (``n`` frames) given ``late`` reference frames late (NaN past the reference's end),
    with a low confidence, as a wrong pose match leaves it."""
    wrong = np.arange(n) + late
    wrong[wrong > n_ref - 1] = np.nan
    return replace(_corr([np.arange(n_ref), wrong], n_ref), confidence=np.array([1.0, 0.2]))


def _mae(rt, truth):
    return float(np.nanmean(np.abs(np.asarray(rt) - truth)))


@needs_mocap
@pytest.mark.parametrize("candidates", [1, 3])
def test_the_search_aligns_its_best_few_maps_not_only_the_first(candidates):
    """The case below: the search's best straight map by its sampled pairs is 236 frames off, and
    aligned it fits 2,859 pairs, where the second best (12 frames off) fits 3,832 aligned and lands
    within a frame. Aligning the best three brings the clip back (measured: 0.78 frames); the first
    alone (the search as it was) leaves it 222 frames off. (Found when the protocol came to scale
    each performer about one point, travel and all; before, the first map was the best here.)"""
    from core.epipolar import EpipolarSettings

    views, n_ref = _problem("cmu_01_jumps", 1, [0, 1])
    corr = _given_late(views[1].tracks.frames, n_ref)
    out = refine_correspondence([v.tracks for v in views], corr, [30.0, 30.0], EpipolarSettings(candidates=candidates))
    error = _mae(out.ref_time[1], views[1].ref_time)
    assert (error < 1.0) if candidates == 3 else (error > 200), error


@needs_mocap
def test_epipolar_geometry_finds_times_far_from_the_given_ones():
    """Two views 160 degrees apart of the jumps (protocol seed 1), the clip's times given 250
    frames late (what the 2D pose match found here before this check existed: 247 frames) with a
    low confidence and its warning: the search over straight time maps and the alignment on
    epipolar scores bring every frame back within a frame on average (measured: 0.78); the
    warning gives way to a note naming the clip, and the confidence becomes the fraction of pairs
    that fit (measured: 0.59)."""
    views, n_ref = _problem("cmu_01_jumps", 1, [0, 1])
    n = views[1].tracks.frames
    corr = replace(_given_late(n, n_ref),
                   warnings=("clip 1: its motion matches the reference clip poorly",))
    out = refine_correspondence([v.tracks for v in views], corr, [30.0, 30.0])
    assert _mae(out.ref_time[1], views[1].ref_time) < 1.0
    np.testing.assert_array_equal(out.ref_time[0], np.arange(n_ref))
    assert 0.5 < out.confidence[1] < 1.0
    assert len(out.warnings) == 1 and out.warnings[0].startswith("clip 1: the 2D pose match put it")


@needs_mocap
def test_epipolar_refinement_at_another_frame_rate():
    """The protocol's seed 0 view 2 kept at 15 fps (every other frame), its times given 2 frames
    off: the refinement works on the clip resampled to the reference's rate and maps back to the
    clip's own frames, within 0.85 reference frames of the truth on average (measured: 0.72; 0.77
    with the clip at its full 30 fps; median 0.41; the performer stands still between jumps,
    where no time fits better than another), and no note (the clip moved less than
    ``EpipolarSettings.moved``)."""
    views, n_ref = _problem("cmu_01_jumps", 0, [0, 2])
    tr = views[1].tracks
    half = replace(tr.frames_of(slice(None, None, 2)), fps=15.0)
    truth = views[1].ref_time[::2]
    given = np.clip(truth + 2.0, 0, n_ref - 1)
    out = refine_correspondence([views[0].tracks, half], _corr([np.arange(n_ref), given], n_ref), [30.0, 15.0])
    assert len(out.ref_time[1]) == half.frames
    assert _mae(out.ref_time[1], truth) < 0.85
    assert not out.warnings


@needs_mocap
@pytest.mark.parametrize("action", ["deepmimic_punch", "deepmimic_walk"])
def test_epipolar_check_leaves_a_different_action_alone(action):
    """A clip of another action against the jumps, its times given 100 frames in: the best map
    the search finds fits 44% (punch) and 59% (walk) of its pairs, only 0.02-0.05 above what maps
    at wrong times reach, so the clip is not moved (at most ``EpipolarSettings.moved`` frames by
    the local refinement) and keeps its confidence and warning."""
    from core.epipolar import EpipolarSettings

    views, n_ref = _problem("cmu_01_jumps", 0, [0])
    other, _ = _problem(action, 0, [1])
    n = other[0].tracks.frames
    given = np.arange(n) + 100.0
    corr = replace(_corr([np.arange(n_ref), given], n_ref), confidence=np.array([1.0, 0.2]),
                   warnings=("clip 1: its motion matches the reference clip poorly",))
    out = refine_correspondence([views[0].tracks, other[0].tracks], corr, [30.0, 30.0])
    assert np.nanmedian(np.abs(out.ref_time[1] - given)) <= EpipolarSettings().moved
    assert out.confidence[1] == 0.2
    assert out.warnings == corr.warnings


def _demo_views(cut: tuple[int, int], noise_px: float = 2.0):
    """The demo clips' true keypoints (examples/demo_truth.npz) seen from each clip's first frame's
    camera (the panning clip 3 as core.stabilise leaves it), 2 px of noise; clip 0 keeps frames
    cut[0]..cut[1]-1. Returns the tracks and each clip's true times on clip 0's cut frames."""
    from core.tracks import Tracks2D

    t = np.load(Path(__file__).parents[1] / "examples" / "demo_truth.npz")
    rng = np.random.default_rng(0)
    tracks, times = [], []
    for k in range(4):
        cam = t[f"c{k}_coco"].astype(float) @ t[f"c{k}_R"][0].T + t[f"c{k}_t"][0]
        uv = cam @ t[f"c{k}_K"].T
        uv = uv[..., :2] / uv[..., 2:] + rng.normal(0.0, noise_px, cam[..., :2].shape)
        rf = t[f"c{k}_ref_frame"].astype(float)
        if k == 0:
            uv, rf = uv[cut[0]:cut[1]], rf[cut[0]:cut[1]]
        n = len(uv)
        tracks.append(Tracks2D(uv, np.full((n, 17), 0.9), np.concatenate([uv.min(1), uv.max(1)], 1),
                               float(t[f"c{k}_fps"]), tuple(int(s) for s in t[f"c{k}_size"])))
        times.append(rf - cut[0])
    return tracks, times


@pytest.mark.parametrize("cut, clip", [((90, 240), 3), ((0, 120), 1)])
def test_a_clip_that_overlaps_a_repeated_motion_in_part_is_not_put_a_repetition_away(cut, clip):
    """The demo's jumps, the reference clip (0) cut; clip 3 (90-239 kept) and clip 1 (0-119 kept)
    see 48 and 70 of its frames, the rest of theirs before or after it. The 2D pose match put
    them 84 and 45 frames off, wholly inside the reference, at another jump; there they fit one
    epipolar geometry on more pairs than placed right (pairing more frames) and nearly as large a
    fraction, and the refinement kept them there: 88.7 and 46.3 frames off. Judged by the excess
    over wrong maps' fraction (core.epipolar.excess): 0.3 frames each."""
    from core.engine import CaptureSettings, _sync_2d
    from core.sync import features_2d

    tracks, times = _demo_views(cut)
    fps = [t.fps for t in tracks]
    settings = CaptureSettings()
    feats, valid = features_2d(tracks)
    corr, _ = _sync_2d(feats, fps, valid, 0, settings.sync_2d, "cpu")
    true = np.interp(times[clip], times[0], np.arange(cut[1] - cut[0], dtype=float), left=np.nan, right=np.nan)
    inside = np.isfinite(true)
    assert inside.sum() == {3: 48, 1: 70}[clip]
    assert np.nanmean(np.abs(corr.ref_time[clip] - true)[inside]) > 30  # the pose match: 84.3, 45.3
    out = refine_correspondence(tracks, corr, fps, settings.epipolar)
    got = np.asarray(out.ref_time[clip])
    assert np.isfinite(got[inside]).all()
    assert np.mean(np.abs(got - true)[inside]) < 1.0  # measured 0.3
    assert any(w.startswith(f"clip {clip}: the 2D pose match put it") for w in out.warnings)
