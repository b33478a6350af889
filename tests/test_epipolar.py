"""Synchronisation by two-view epipolar geometry (core.epipolar) against the protocol's true times."""

from dataclasses import replace

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
