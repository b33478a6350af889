"""Time maps fitted by straight pieces (core.trend) against known times."""

import numpy as np
import pytest

from conftest import SHARED, coco_keypoints
from core.trend import trend_filter

needs_mocap = pytest.mark.skipif(not (SHARED / "deepmimic_walk.npz").is_file(), reason="shared/mocap missing")


def test_a_noisy_warped_time_map_comes_back_straighter():
    """The protocol's non-uniform warp of a 300-frame motion (speeds changing between 1 and 3
    reference frames per frame at random segments, every 2-3 frames), each frame's time off by 0.3
    frames of noise: the fitted map is at least a fifth closer to the true one (measured 0.76 of the
    noise's error here, 0.73-0.81 over warps 0-7), and frames with no estimate stay without one."""
    from bench.protocol import time_warp

    rng = np.random.default_rng(3)
    truth = time_warp(300, rng)
    noisy = truth + rng.normal(0, 0.3, len(truth))
    noisy[40:43] = np.nan
    fitted = trend_filter(noisy, 0.1)
    ok = np.isfinite(noisy)
    assert np.isnan(fitted[40:43]).all() and np.isfinite(fitted[ok]).all()
    raw_err, fit_err = np.abs(noisy - truth)[ok].mean(), np.abs(fitted - truth)[ok].mean()
    assert fit_err < 0.8 * raw_err, (raw_err, fit_err)
    np.testing.assert_array_equal(trend_filter(noisy, 0.0), noisy)


def test_a_straight_map_with_one_change_of_speed_keeps_its_corner():
    """Exact times at one reference frame per frame, then two: the fit keeps them to a
    hundredth of a frame, the corner included (an l1 penalty bends where the data do)."""
    truth = np.r_[np.arange(30.0), 29.0 + 2 * np.arange(1, 31)]
    np.testing.assert_allclose(trend_filter(truth, 0.1), truth, atol=0.01)


def test_sure_frames_steer_the_fit_and_unsure_ones_follow():
    """Each frame's time scattered as its own sharpness says (standard deviation 0.3 frames over
    the root of a weight drawn from 0.1-10): weighted by it, the fitted map is closer to the true
    one than the unweighted fit (measured 0.117 against 0.221 frames here, 0.61 of it on average
    over seeds 0-9, at most 0.71), and weights that are all equal give the unweighted fit."""
    from bench.protocol import time_warp

    rng = np.random.default_rng(0)
    truth = time_warp(200, rng)
    sharp = 10.0 ** rng.uniform(-1, 1, len(truth))
    noisy = truth + rng.normal(0, 0.3, len(truth)) / np.sqrt(sharp)
    plain = np.abs(trend_filter(noisy, 0.1) - truth).mean()
    weighted = np.abs(trend_filter(noisy, 0.1, frame_weight=sharp) - truth).mean()
    assert weighted < 0.75 * plain, (weighted, plain)
    np.testing.assert_allclose(trend_filter(noisy, 0.1, frame_weight=np.full(len(truth), 7.0)),
                               trend_filter(noisy, 0.1), atol=1e-9)


@needs_mocap
def test_straight_pieces_cut_the_scatter_of_per_frame_times():
    """DeepMimic walk, the protocol's 4 views (seed 0): each clip's 2D re-timed against the true
    motion (at its performer's size) seen through its true camera. Frame by frame the times scatter
    by up to 0.85 frames (0.45% of the timeline); fitted by straight pieces, 0.36% (each frame
    weighted by how sharply it fixes its time; 0.36% too with all alike)."""
    from dataclasses import replace

    from bench.metrics import sync_error_pct
    from bench.mocap import load_mocap
    from bench.protocol import make_problem
    from core.cameras import Camera
    from core.retime import RetimeSettings, retime

    mocap = load_mocap(SHARED / "deepmimic_walk.npz")
    problem = make_problem(mocap, 4, 0)
    n = problem.reference_frames
    joints = mocap.at(np.arange(n, dtype=float))
    errors = {}
    for smooth in (0.0, 0.1):
        times = []
        for view in problem.views[1:]:
            kp = coco_keypoints(view.pivot + view.scale * (joints - view.pivot))
            cam = Camera(view.R, view.t, float(view.K[0, 0]), view.K[:2, 2].copy())
            corr = retime([problem.views[0].tracks, view.tracks], kp, [cam, cam], [30.0, 30.0], 0,
                          replace(RetimeSettings(), smooth=smooth))
            times.append(corr.ref_time[1])
        errors[smooth] = sync_error_pct(times, [v.ref_time for v in problem.views[1:]], n)
    assert errors[0.1] < 0.4 and errors[0.1] < 0.85 * errors[0.0], errors
