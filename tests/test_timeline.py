"""The timeline extended past the reference clip where other clips show more (core.timeline)."""

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import SHARED
from core.sync import Correspondence, invert_time_map
from core.timeline import Extension, extrapolate, filled, pad, plan, public_corr, public_state, shifted, unsqueezed
from core.tracks import Tracks2D

NAN = np.nan


def _tracks(n: int, fps: float = 30.0) -> Tracks2D:
    rng = np.random.default_rng(n)
    return Tracks2D(rng.uniform(0, 100, (n, 17, 2)), np.full((n, 17), 0.9), np.tile([0.0, 0, 100, 100], (n, 1)),
                    fps, (640, 480), source=f"c{n}.mp4", times=np.arange(n) / fps)


def _corr(ref_times, n_ref):
    rts = [np.arange(n_ref, dtype=float) if r is None else np.asarray(r, float) for r in ref_times]
    return Correspondence(0, tuple(rts), tuple(invert_time_map(r, n_ref) for r in rts), np.ones(len(rts)))


def test_squeezed_and_unmatched_ends_are_extrapolated_at_the_clips_pace():
    # a clip's last three frames squeezed onto the reference's last frame (19), its first unmatched
    rt = np.array([NAN, 15.2, 16.1, 17.0, 18.0, 18.6, 19.0, 19.0, 19.0])
    cut = unsqueezed(rt, 0.0, 19.0)
    np.testing.assert_array_equal(np.isnan(cut), [True, False, False, False, False, False, True, True, True])
    np.testing.assert_allclose(extrapolate(cut, 1.25), [13.95, 15.2, 16.1, 17.0, 18.0, 18.6, 19.85, 21.1, 22.35])
    # a clip that just starts at the reference's first frame keeps it; interior gaps stay unmatched
    np.testing.assert_array_equal(unsqueezed(np.array([0.3, 1.4, NAN, 3.3]), 0.0, 19.0), [0.3, 1.4, NAN, 3.3])
    np.testing.assert_array_equal(extrapolate(np.array([0.3, 1.4, NAN, 3.3]), 1.0), [0.3, 1.4, NAN, 3.3])


def test_a_plateau_near_the_references_end_is_squeezed_too():
    """The demo's panning clip 3 against the reference cut to frames 90-239 (real detections): its
    first 11 matched frames all at 0.9 (truly -10 to 0), then 1.0, 1.9, 3.4. The plateau is
    squeezing, though 0.9 frames from the reference's first frame; its innermost frame (1.0) kept,
    the rest extrapolated from it at the clip's pace: -10 to 0 (the timeline had grown 62 frames of
    72; now 72)."""
    rt = np.r_[[NAN] * 3, [0.9] * 11, 1.0, 1.9, 3.4]
    cut = unsqueezed(rt, 0.0, 239.0)
    np.testing.assert_array_equal(np.isnan(cut), [True] * 14 + [False] * 3)
    np.testing.assert_allclose(extrapolate(cut, 1.0)[3:15], np.arange(-10.0, 2.0))
    # a plateau further in than PLATEAU_NEAR (2 frames) is motion that paused, not squeezing
    held = np.r_[[2.5] * 6, 3.4, 4.4]
    np.testing.assert_array_equal(unsqueezed(held, 0.0, 239.0), held)
    # nor is a clip that runs on at its pace from near the end
    np.testing.assert_array_equal(unsqueezed(np.array([235.4, 236.5, 237.6, 238.7]), 0.0, 239.0),
                                  [235.4, 236.5, 237.6, 238.7])


def test_the_timeline_grows_to_hold_the_clips_and_nothing_else_moves():
    """Reference 20 frames at 30 fps. Clip 1 (30 fps) truly shows reference frames -3..24, matched
    on 0..19; clip 2 (15 fps: two reference frames per frame) shows 6..26, its last three frames
    squeezed onto frame 19."""
    n = 20
    c1 = np.where((np.arange(28) >= 3) & (np.arange(28) <= 22), np.arange(28) - 3.0, NAN)
    c2 = np.r_[6 + 2.0 * np.arange(7), 19.0, 19.0, 19.0, 19.0]
    tracks = [_tracks(n), _tracks(28), _tracks(11, 15.0)]
    corr = _corr([None, c1, c2], n)
    fps = [30.0, 30.0, 15.0]
    ext = plan(tracks, corr, fps)
    # clip 1 reaches -3 and 24; clip 2 19 + 2 * 3 = 25 from its first frame at the end (19)
    assert ext == Extension(3, 6, 20) and ext.total == 29
    on = shifted(corr, ext)
    np.testing.assert_array_equal(on.ref_time[0], np.arange(29.0))
    np.testing.assert_array_equal(on.ref_time[1], c1 + 3)
    full = filled(on, fps, ext)
    np.testing.assert_allclose(full.ref_time[1], np.arange(28.0))  # every frame at its true place
    np.testing.assert_allclose(full.ref_time[2], 3 + np.r_[6 + 2.0 * np.arange(7), 19, 21, 23, 25])
    np.testing.assert_allclose(full.clip_time[1], np.r_[np.arange(28.0), NAN])
    # the engine's answer back on the reference clip's own frames
    out = public_corr(full, ext)
    np.testing.assert_array_equal(out.ref_time[0], 3 + np.arange(20.0))
    np.testing.assert_array_equal(out.clip_time[0], np.r_[[NAN] * 3, np.arange(20.0), [NAN] * 6])
    assert out.views_per_frame().tolist() == [1] * 3 + [2] * 6 + [3] * 14 + [2] * 5 + [1]
    # padded reference tracks: empty frames around its own, timestamps carried on at its rate
    p = pad(tracks[0], 3, 7)
    assert p.frames == 30 and p.frames_with_person == 20
    np.testing.assert_array_equal(p.keypoints[3:23], tracks[0].keypoints)
    assert np.isnan(p.bbox[:3]).all() and np.isnan(p.bbox[23:]).all()
    np.testing.assert_allclose(p.times, (np.arange(30) - 3) / 30)
    own = p.frames_of(slice(3, 23))  # and back
    for f in ("keypoints", "confidence", "bbox", "times"):
        np.testing.assert_array_equal(getattr(own, f), getattr(tracks[0], f))
    # a clip matched poorly (another action, perhaps) extends nothing, and is not filled
    poor = Correspondence(0, corr.ref_time, corr.clip_time, np.array([1.0, 1.0, 0.2]))
    assert plan(tracks, poor, fps, 0.35) == Extension(3, 5, 20)  # clip 1 alone: -3 .. 24
    ext = Extension(3, 5, 20)
    np.testing.assert_array_equal(filled(shifted(poor, ext), fps, ext, 0.35).ref_time[2], c2 + 3)
    # under MIN_OVERHANG (2 frames) past an end, nothing changes
    short = _corr([None, np.r_[NAN, np.arange(20.0)]], n)
    assert not plan([tracks[0], _tracks(21)], short, fps[:2]).extended
    assert filled(shifted(short, Extension(0, 0, n)), fps[:2], Extension(0, 0, n)) is short


def test_the_reference_clips_own_arrays_are_cut_back_to_its_frames():
    from core.ba import BAState

    two = (np.arange(7.0), np.arange(5.0))
    state = BAState(pose=two, transl=two, betas=(None, None), cameras=(None, None), keypoints=two, reproj_px=two,
                    shared_pose=np.arange(7.0), ref_time=(np.arange(7.0), np.arange(5.0) + 0.5))
    out = public_state(state, 0, Extension(2, 1, 4))
    for a in (out.pose, out.transl, out.keypoints, out.reproj_px):
        np.testing.assert_array_equal(a[0], [2, 3, 4, 5])
        np.testing.assert_array_equal(a[1], np.arange(5.0))
    np.testing.assert_array_equal(out.ref_time[0], [2, 3, 4, 5])
    np.testing.assert_array_equal(out.ref_time[1], np.arange(5.0) + 0.5)
    np.testing.assert_array_equal(out.shared_pose, np.arange(7.0))
    assert public_state(state, 0, Extension(0, 0, 7)) is state


def test_sync_error_of_a_capture_whose_timeline_starts_before_its_reference():
    """bench.evaluate.sync_error: times on a timeline with 4 frames before the reference clip's
    first are moved back; on another view's timeline, past its ends at its mean pace."""
    from bench.evaluate import sync_error

    truth = [np.arange(11.0), 2 + 1.5 * np.arange(6), 2.5 + np.arange(6.0)]
    problem = SimpleNamespace(views=[SimpleNamespace(ref_time=t) for t in truth], reference_frames=11)
    corr = SimpleNamespace(reference=0, ref_time=[4 + truth[0], 4 + truth[1] + 0.5, 4 + truth[2]])
    assert sync_error(corr, problem) == pytest.approx(100 * 6 * 0.5 / 12 / 10)
    # built on view 1 (truly 2 + 1.5 i), which starts 2 of its frames into a 2-frame extension:
    # view 0's frames -1.33.. and view 2's are exact through the pace (1.5) outside view 1's span
    on_1 = [2 + (t - 2) / 1.5 for t in truth]
    corr = SimpleNamespace(reference=1, ref_time=[on_1[0], 2 + np.arange(6.0), on_1[2]])
    assert sync_error(corr, problem) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.skipif(not (SHARED / "deepmimic_punch.npz").is_file(), reason="shared/mocap missing")
def test_clips_that_run_past_the_reference_extend_the_timeline(body):
    """DeepMimic punch, 4 views, seed 0, the first view cut to its first 70% and kept as the
    reference: 11, 16 and 18 frames of the other views show motion after its end. Left unmatched,
    each from its own view, the capture scored 43.0 mm PA-MPJPE over all views' frames (139.5 mm on
    the frames past the cut; CaptureSettings(extend_timeline=False)). On the extended timeline:
    15.5 mm."""
    from bench.evaluate import score_views, sync_error
    from bench.mocap import load_mocap
    from bench.protocol import cut_first_view, make_problem
    from core.engine import CaptureSettings, capture_from_tracks
    from core.export import to_capture_result

    prob = cut_first_view(make_problem(load_mocap(SHARED / "deepmimic_punch.npz"), 4, 0), 0.7)
    n = prob.views[0].frames
    past = max(v.ref_time[-1] for v in prob.views[1:]) - prob.views[0].ref_time[-1]
    assert n == 45 and past == pytest.approx(17.98, abs=0.01)
    tracks = [v.tracks for v in prob.views]
    out = capture_from_tracks(tracks, body, CaptureSettings(reference=0))
    # the first synchronisation matched the other views' last frames up to 5 frames early, and
    # their ends are extrapolated from there: 13 frames added
    assert out.extension.before == 0 and past - 6 <= out.extension.after <= past
    total = out.extension.total
    assert out.state.shared_pose.shape[0] == total and out.state.keypoints[0].shape[0] == n
    np.testing.assert_array_equal(out.corr.ref_time[0], np.arange(n, dtype=float))
    assert score_views(out.state, prob)["pa_mpjpe_mm"] < 20.0  # measured 15.5
    # over all frames, those past the cut included: measured 2.12% (6.15 left unmatched, the
    # rounds then squeeze them onto the cut view's last frames)
    assert sync_error(out.corr, prob) < 3.0
    result = to_capture_result(out, tracks, body, [f"c{j}.mp4" for j in range(4)])
    assert result.offset == 0 and result.motion.frames == total and result.clips[0].motion.frames == n


def test_e2e_scores_the_consensus_over_the_whole_extended_timeline(body):
    """bench.e2e.score with --cut A:B: the demo's own result re-expressed as a capture whose
    reference clip is the truth's frames 20..59 (its frame 0 at timeline frame 20) scores zero
    over all 90 timeline frames, those outside the cut included."""
    import dataclasses

    import torch

    from bench.e2e import score
    from core.demo import demo_capture

    demo = demo_capture(body, frames=90, clips=3)
    a, b = 20, 60
    c0 = demo.clips[0]
    own = np.arange(a, b, dtype=float)
    ct = np.arange(90, dtype=float) - a
    ct[(ct < 0) | (ct > b - a - 1)] = NAN
    motion = dataclasses.replace(c0.motion, pose=c0.motion.pose[a:b], transl=c0.motion.transl[a:b])
    cut = dataclasses.replace(c0, ref_time=own, clip_time=ct, motion=motion)
    result = dataclasses.replace(demo, clips=(cut,) + demo.clips[1:])
    assert result.offset == a
    m = demo.motion
    with torch.no_grad():
        joints = body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl)).joints.numpy()
    truth = {"reference": 0, "c0_joints": joints, "c0_R": np.tile(c0.R, (90, 1, 1)), "c0_t": np.tile(c0.t, (90, 1))}
    truth.update({f"c{j}_ref_frame": demo.clips[j].ref_time for j in (1, 2)})
    got = score(result, truth, body, (a, b))
    assert got["timeline_frames_scored"] == 90
    assert got["pa_mpjpe_mm"] < 0.01 and got["pa_outside_cut_mm"] < 0.01 and got["sync_error_pct"] < 1e-9
    # read as if the timeline started at the reference clip's first frame, it is 20 frames off
    late = score(dataclasses.replace(result, clips=(dataclasses.replace(cut, ref_time=own - a),) + demo.clips[1:]),
                 truth, body, (a, b))
    assert late["sync_error_pct"] > 20


def test_the_add_on_says_where_the_timeline_grew():
    """imocap_blender.worker.timeline_note on the capture summary's ``timeline`` (the figures of
    ``bench e2e --cut 90:240``)."""
    from imocap_blender.worker import timeline_note

    s = {"timeline": {"frames": 204, "reference_offset": 54, "added": [54, 0]}, "reference": {"clip": "/x/clip0.mp4"}}
    assert timeline_note(s) == ("other clips show more of the action than clip0.mp4: the timeline runs 204 frames "
                                "(54 added before it, 0 after), its own frames at scene frames 55-204")
    assert timeline_note({"timeline": {"frames": 240, "reference_offset": 0, "added": [0, 0]}}) is None
    assert timeline_note({}) is None  # a worker from before the extension


def test_the_benchmarks_true_times_on_an_extended_timeline():
    """bench.protocol.Problem.true_extended, the oracle's times: view 1 (truly 2 + 1.5 i, 6
    frames) as the reference; view 0 (0..10) runs 1.33 of its frames before it and 0.33 after, so
    the timeline gains 2 frames before and 1 after, and every time is exact at view 1's pace."""
    from bench.protocol import Problem

    truth = [np.arange(11.0), 2 + 1.5 * np.arange(6), 2.5 + np.arange(6.0)]
    problem = SimpleNamespace(views=[SimpleNamespace(ref_time=t) for t in truth])
    corr, ext = Problem.true_extended(problem, 1)
    assert ext == Extension(2, 1, 6)
    np.testing.assert_allclose(corr.ref_time[1], np.arange(9.0))
    np.testing.assert_allclose(corr.ref_time[0], 2 + (truth[0] - 2) / 1.5)
    np.testing.assert_allclose(corr.ref_time[2], 2 + (truth[2] - 2) / 1.5)
    # on view 0's own timeline nothing moves, and nothing is added
    corr, ext = Problem.true_extended(problem, 0)
    assert ext == Extension(0, 0, 11)
    for got, want in zip(corr.ref_time, truth):
        np.testing.assert_array_equal(got, want)
