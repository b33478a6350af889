"""The different-takes benchmark (bench.varied): its time warping finds known warps, its stretches
are the known repetitions of a capture, and its views' true times put each view's pose on the
reference's."""

import json

import numpy as np
import pytest

from bench.mocap import Mocap, load_mocap
from bench.varied import (MAX_COST, STEP_PENALTY, best_match, find_stretches, frame_costs, make_varied_problem,
                          pose_features, reference_times)
from conftest import ROOT, run_python
from core.cameras import sample
from core.errors import UserError

JUMP = ROOT.parent / "shared" / "mocap" / "deepmimic_jump.npz"
CMU = ROOT.parent / "shared" / "mocap" / "cmu_01_jumps.npz"
needs_mocap = pytest.mark.skipif(not JUMP.is_file(), reason="shared/mocap not beside the checkout")


def test_best_match_recovers_a_known_warp():
    seq = 0.5 * np.arange(200.0)  # a signal where one frame off costs far more than a stall or a skip
    steps = np.r_[0, np.tile([1, 1, 2, 1, 0, 1], 10)]
    truth = 50 + np.cumsum(steps)
    cost = np.abs(seq[truth][:, None] - seq[None])
    path, score = best_match(cost)
    np.testing.assert_array_equal(path, truth)
    assert score == pytest.approx(STEP_PENALTY * np.sum(steps[1:] != 1) / len(truth))
    # the matched frames excluded: no match there, and none anywhere as good
    cost[:, truth[0]:truth[-1] + 1] = np.inf
    path, score = best_match(cost)
    assert path[0] > truth[-1] or path[-1] < truth[0]
    assert score > 1.0


def test_reference_times_average_the_matches_and_fill_the_skips():
    frames, times = reference_times(np.array([2, 3, 4, 4, 6, 6, 6, 7]))
    np.testing.assert_array_equal(frames, np.arange(2, 8))
    np.testing.assert_allclose(times, [0.0, 1.0, 2.5, 3.75, 5.0, 7.0])
    # near the ends a frame held over more than ``hold`` reference frames ends the stretch there,
    # at the innermost of them; inside, a hold is averaged
    path = np.r_[[5] * 5, 6, 7, 8, [9] * 6, 10, 11, 12, 13, 14, [15] * 4, 16]
    frames, times = reference_times(path, hold=3)
    np.testing.assert_array_equal(frames, np.arange(5, 16))
    np.testing.assert_allclose(times, [4, 5, 6, 7, 10.5, 14, 15, 16, 17, 18, 19])


def _repeated(mocap: Mocap, speeds, gap: int = 7):
    """``mocap``'s motion done again at each of ``speeds`` (its frames per frame), each take moved
    and turned elsewhere, with ``gap`` frames of standing still between takes; returns the joints
    and each take's (first frame, the source frame of each of its frames)."""
    rng = np.random.default_rng(5)
    parts, takes, at = [], [], 0
    for k, speed in enumerate(speeds):
        src = np.arange(0, mocap.frames - 1 + 1e-9, speed)
        a = rng.uniform(0, 2 * np.pi)
        rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        take = mocap.at(src) @ rot.T + np.r_[rng.uniform(-3, 3, 2), 0.0]
        parts += [take, np.repeat(take[-1:], gap, 0)]
        takes.append((at, src))
        at += len(take) + gap
    return np.concatenate(parts), takes


@needs_mocap
def test_stretches_are_the_capture_s_repetitions_with_their_times():
    """A real jump done four times at different speeds: the reference is one take, each match is
    another, and the matched times are the true ones to a fraction of a frame."""
    jump = load_mocap(JUMP)
    speeds = (1.0, 0.8, 1.25, 0.9)
    joints, takes = _repeated(jump, speeds)
    length = 40
    start, matches = find_stretches(joints, 4, length, grid=1)
    first = [a for a, src in takes if a <= start < a + len(src)]
    assert len(first) == 1
    ref_take = next(k for k, (a, _) in enumerate(takes) if a == first[0])
    ref_src = takes[ref_take][1][start - first[0]:start - first[0] + length]
    hit = set()
    for path, score in matches:
        assert score < MAX_COST
        k = next(k for k, (a, src) in enumerate(takes) if a <= path[0] < a + len(src))
        hit.add(k)
        a, src = takes[k]
        frames, times = reference_times(path)
        inside = frames < a + len(src)
        # the true reference time of each matched frame: where the reference take shows the
        # source frame this one shows
        true = np.interp(src[frames[inside] - a], ref_src, np.arange(length))
        mid = (src[frames[inside] - a] > ref_src[0]) & (src[frames[inside] - a] < ref_src[-1])
        err = np.abs(times[inside] - true)[mid]
        assert err.mean() < 0.5, (k, err.mean())
    assert hit == set(range(4)) - {ref_take}


@needs_mocap
def test_takes_too_unlike_are_refused():
    """The same jump four times, but every take's body bent its own way (each limb joint moved by
    20 cm about the pelvis): the matches are found, and refused as too far apart."""
    joints, takes = _repeated(load_mocap(JUMP), (1.0, 0.8, 1.25, 0.9))
    rng = np.random.default_rng(1)
    for a, src in takes:
        bend = rng.normal(size=(24, 3))
        joints[a:a + len(src), 1:] += 0.2 * (bend / np.linalg.norm(bend, axis=1, keepdims=True))[1:]
    with pytest.raises(UserError, match="worst mean joint distance is 2[0-9][0-9] mm, at most 120 mm"):
        find_stretches(joints, 4, 40, grid=1)


def test_a_capture_that_does_not_repeat_is_refused():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(0, 0.05, (400, 24, 3)), 0)  # joints wandering apart: no two stretches alike
    with pytest.raises(UserError, match="does not repeat a 60-frame stretch 3 times .no stretch has 2 disjoint"):
        find_stretches(walk, 3, 60)
    with pytest.raises(UserError, match="cannot hold 4 disjoint stretches"):
        find_stretches(walk, 4, 120)


@pytest.mark.skipif(not CMU.is_file(), reason="shared/mocap not beside the checkout")
def test_varied_views_show_the_reference_s_action_at_their_true_times():
    """cmu_01_jumps cut into four takes: each view's pose at each frame is close to the reference
    view's at that frame's true reference time (closer than at a time two frames off), and the
    views come from disjoint stretches of the capture."""
    mocap = load_mocap(CMU)
    p = make_varied_problem(mocap, 4, seed=0, length=60)
    assert p.reference_frames == 60 and len(p.views) == 4
    ref = p.views[0]
    np.testing.assert_array_equal(ref.ref_time, np.arange(60))
    ref_feats = pose_features((ref.joints - ref.pivot) / ref.scale)
    for v in p.views[1:]:
        assert 0.6 * 59 - 1 <= np.ptp(v.ref_time) <= 59 and np.all(np.diff(v.ref_time) > 0)
        feats = pose_features((v.joints - v.pivot) / v.scale)
        def dist(times):
            at = tuple(sample(f, np.clip(times, 0, 59)) for f in ref_feats)
            return np.diag(frame_costs(at, feats)).mean()

        assert dist(v.ref_time) < MAX_COST
        assert dist(v.ref_time) < min(dist(v.ref_time - 2), dist(v.ref_time + 2))
        # not the reference's own frames: a different take
        assert np.diag(frame_costs(tuple(sample(f, v.ref_time) for f in ref_feats), feats)).mean() > 0.01


@pytest.mark.skipif(not CMU.is_file(), reason="shared/mocap not beside the checkout")
def test_bench_run_on_different_takes_the_clips_own_motions_pay():
    """``bench run --vary``: with a different take in every view, the capture (a shared motion and
    each clip's departures from it) beats one motion for all clips (the single-model ablation),
    which the one-performance protocol cannot show. Measured (seed 0, 60 frames): 21.85 mm against
    24.24, the oracle 21.69, one clip 120.75."""
    r = run_python(["-m", "bench", "run", "--stage", "full", "--json", "--mocap", str(CMU), "--vary", "60"],
                   timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["vary"] == 60 and out["frames"][0] == 60 and out["reference_frames"] == 60
    assert out["pa_mpjpe_mm"] < out["single_model_pa_mpjpe_mm"] - 1.0
    assert out["pa_mpjpe_mm"] <= 1.1 * out["oracle_pa_mpjpe_mm"]
    assert out["pa_mpjpe_mm"] < 0.25 * out["mono_pa_mpjpe_mm"]


@needs_mocap
def test_bench_run_refuses_a_capture_too_short_for_the_takes():
    r = run_python(["-m", "bench", "run", "--json", "--mocap", str(JUMP.with_name("deepmimic_walk.npz")),
                    "--vary", "30"], timeout=300)
    assert r.returncode != 0
    assert "cannot hold 4 disjoint stretches of 30 frames" in r.stdout + r.stderr
