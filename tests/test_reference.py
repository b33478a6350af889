"""The reference clip chosen by the capture (core.reference) and the benchmark's synchronisation
error on another clip's timeline."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import SHARED
from core.reference import choose_reference, clip_spans
from core.sync import Correspondence, invert_time_map

NAN = np.nan


def _corr(ref_times, n_ref, confidence=None, reference=0):
    rts = [np.arange(n_ref, dtype=float) if j == reference else np.asarray(r, float) for j, r in enumerate(ref_times)]
    return Correspondence(reference, tuple(rts), tuple(invert_time_map(r, n_ref) for r in rts),
                          np.ones(len(rts)) if confidence is None else np.asarray(confidence, float))


def test_spans_are_lengths_in_time():
    """Clip 1 has 21 frames at 60 fps against the first clip's 30: it spans 10 reference frames,
    whatever pace the synchroniser matched it at."""
    corr = _corr([None, 4 + 0.3 * np.arange(21), np.arange(5.0)], 40)
    np.testing.assert_allclose(clip_spans(corr, [30.0, 60.0, 30.0]), [39, 10, 4])


def test_the_clip_that_spans_the_most_becomes_the_reference():
    n_ref = 20

    def clip(frames):  # a clip at the reference's pace from reference frame 3
        return 3.0 + np.arange(frames)

    corr = _corr([None, clip(15), clip(30)], n_ref)
    k, spans = choose_reference(corr, [30.0] * 3, 0.35)
    assert k == 2
    np.testing.assert_allclose(spans, [19, 14, 29])
    # a clip whose motion matched poorly is no candidate
    k, spans = choose_reference(replace(corr, confidence=np.array([1, 1, 0.2])), [30.0] * 3, 0.35)
    assert k == 0 and np.isnan(spans[2])
    # within the margin (5% of the reference's span, at least 2 frames) the reference stays
    assert choose_reference(_corr([None, clip(22)], n_ref), [30.0] * 2, 0.35)[0] == 0  # 21 frames: 2 more
    assert choose_reference(_corr([None, clip(23)], n_ref), [30.0] * 2, 0.35)[0] == 1  # 22: 3 more


def test_sync_error_on_another_clips_timeline():
    """bench.evaluate.sync_error of a capture built on view 1's timeline: view 1 truly shows
    reference frames 2, 3.5, ..., 9.5; view 0 (11 frames) is matched inside view 1 exactly and
    left unmatched outside it (the metric then takes the nearest match: errors 2, 1 and 1 frames);
    view 2 is matched 0.3 of view 1's frames late (0.45 reference frames)."""
    from bench.evaluate import sync_error

    truth = [np.arange(11.0), 2 + 1.5 * np.arange(6), 2.5 + np.arange(6.0)]
    problem = SimpleNamespace(views=[SimpleNamespace(ref_time=t) for t in truth], reference_frames=11)
    on_1 = [(t - 2) / 1.5 for t in truth]
    on_1[0][(truth[0] < 2) | (truth[0] > 9.5)] = NAN
    on_1[2] = on_1[2] + 0.3
    corr = SimpleNamespace(reference=1, ref_time=on_1)
    assert sync_error(corr, problem) == pytest.approx(100 * (4 + 6 * 0.45) / 17 / 10)
    # on view 0's own timeline: the plain metric
    own = SimpleNamespace(reference=0, ref_time=[truth[0], truth[1] + 1.0, truth[2]])
    assert sync_error(own, problem) == pytest.approx(100 * 6 / 12 / 10)


@pytest.mark.skipif(not (SHARED / "deepmimic_kick.npz").is_file(), reason="shared/mocap missing")
def test_a_short_clip_of_another_action_given_first_is_not_the_reference():
    """A DeepMimic walk clip (24 frames) before three views of a kick (31-41 frames): against the
    walk every kick clip finds a stretch that matches (confidence 0.99), so its confidences cannot
    tell; the longest kick clip becomes the reference, and against it the walk is reported as
    matching poorly (0.13)."""
    from bench.mocap import load_mocap
    from bench.protocol import make_problem
    from core.engine import CaptureSettings, _sync_2d
    from core.sync import features_2d

    walk = make_problem(load_mocap(SHARED / "deepmimic_walk.npz"), 2, 0).views[1].tracks
    kick = make_problem(load_mocap(SHARED / "deepmimic_kick.npz"), 4, 0).views[:3]
    tracks = [walk] + [v.tracks for v in kick]
    settings = CaptureSettings().sync_2d
    feats, valid = features_2d(tracks)
    first, _ = _sync_2d(feats, [30.0] * 4, valid, 0, settings, "cpu")
    assert (first.confidence[1:] > 0.9).all()
    k, spans = choose_reference(first, [30.0] * 4, settings.min_confidence)
    assert k == int(np.argmax([t.frames for t in tracks])) == 1
    corr, notes = _sync_2d(feats, [30.0] * 4, valid, k, settings, "cpu")
    assert corr.confidence[0] < settings.min_confidence < corr.confidence[2:].min()
    assert len(notes) == 1 and notes[0].startswith("clip 0: its motion matches the reference clip poorly")


@pytest.mark.skipif(not (SHARED / "deepmimic_punch.npz").is_file(), reason="shared/mocap missing")
def test_a_clip_that_spans_more_of_the_action_becomes_the_reference(body):
    """DeepMimic punch, 4 views, seed 0, the first view cut to its first 70%: 11, 16 and 18 frames
    of the other views show motion after its end. Built on the first view's timeline those frames
    have no shared motion and the capture scores 43.0 mm PA-MPJPE over all views' frames (139.5 mm
    on the frames past the cut; core.engine.CaptureSettings(reference=0)); the capture picks a view
    that spans the whole action instead."""
    from bench.evaluate import score_views
    from bench.mocap import load_mocap
    from bench.protocol import cut_first_view, make_problem
    from core.engine import capture_from_tracks

    prob = cut_first_view(make_problem(load_mocap(SHARED / "deepmimic_punch.npz"), 4, 0), 0.7)
    last = prob.views[0].ref_time[-1]  # the cut view shows reference frames 0..last
    past = [int((v.ref_time > last).sum()) for v in prob.views[1:]]
    assert past == [11, 16, 18]
    out = capture_from_tracks([v.tracks for v in prob.views], body)
    # the views that truly span more than the cut one by over the choice's margin
    spans = [v.ref_time[-1] - v.ref_time[0] for v in prob.views]
    assert out.corr.reference in [j for j in range(1, 4) if spans[j] > 1.05 * spans[0] + 2]
    assert score_views(out.state, prob)["pa_mpjpe_mm"] < 20.0  # measured: 17.0 (view 2)
