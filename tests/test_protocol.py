"""The benchmark protocol: its promises about cameras, warps, overlap, noise and determinism."""

import numpy as np
import pytest

from bench.mocap import load_mocap
from bench.protocol import SIZES, make_problem, time_warp
from conftest import ROOT

CMU = ROOT.parent / "shared" / "mocap" / "cmu_01_jumps.npz"
pytestmark = pytest.mark.skipif(not CMU.is_file(), reason="shared/mocap not beside the checkout")


@pytest.fixture(scope="module")
def mocap():
    return load_mocap(CMU)


def test_resampled_to_30_fps(mocap):
    assert mocap.fps == 30.0
    assert mocap.frames == 688  # 2751 frames at 120 fps
    assert np.isnan(mocap.joints[:, 13]).all()  # collars are not mapped in the CMU file


def test_views_follow_the_protocol(mocap):
    p = make_problem(mocap, 5, seed=3)
    v0 = p.views[0]
    np.testing.assert_array_equal(v0.ref_time, np.arange(mocap.frames))
    centres = []
    for v in p.views:
        w, h = v.tracks.size
        assert (w, h) in SIZES
        assert 0.6 * w <= v.K[0, 0] <= 1.6 * w and v.K[0, 0] == v.K[1, 1]
        np.testing.assert_allclose(v.R @ v.R.T, np.eye(3), atol=1e-9)
        centre = -v.R.T @ v.t
        centres.append(centre)
        assert 0.9 <= v.scale <= 1.1
        assert np.all(np.diff(v.ref_time) >= 0)
    for v in p.views[1:]:
        span = (v.ref_time[-1] - v.ref_time[0]) / (mocap.frames - 1)
        assert span >= 0.6 - 1e-9
        assert v.frames < mocap.frames  # speed-ups and trims make warped clips shorter
    az = np.degrees(np.arctan2([c[1] for c in centres], [c[0] for c in centres]))
    gaps = np.abs((az[:, None] - az[None] + 180) % 360 - 180) + np.eye(len(az)) * 360
    assert gaps.min() >= 30 - 1e-6


def test_keypoints_noise_outliers_and_visibility(mocap):
    p = make_problem(mocap, 3, seed=0, noise_px=4.0, outliers=0.0)
    clean = make_problem(mocap, 3, seed=0, noise_px=0.0, outliers=0.0)
    for v, c in zip(p.views, clean.views):
        seen = v.tracks.confidence > 0
        assert np.all(v.tracks.confidence[:, 1:5] == 0)  # eyes, ears
        w, h = v.tracks.size
        d = (v.tracks.keypoints - c.tracks.keypoints)[seen & (c.tracks.confidence > 0)]
        assert d.std() == pytest.approx(4.0 * min(w, h) / 1080, rel=0.1)
        uv = c.tracks.keypoints[c.tracks.confidence > 0]
        assert np.all((uv >= 0) & (uv < [w, h]))
    with_out = make_problem(mocap, 3, seed=0, noise_px=0.0, outliers=0.05)
    for v, c in zip(with_out.views, clean.views):
        d = np.linalg.norm(v.tracks.keypoints - c.tracks.keypoints, axis=-1)[c.tracks.confidence > 0]
        frac = np.mean(d > 1e-6)
        assert 0.03 < frac < 0.07
        px = min(v.tracks.size) / 1080
        assert d[d > 1e-6].min() >= 30 * px - 1e-3 and d.max() <= 150 * px + 1e-3


def test_deterministic_per_seed(mocap):
    a, b, c = make_problem(mocap, 3, 7), make_problem(mocap, 3, 7), make_problem(mocap, 3, 8)
    for x, y in zip(a.views, b.views):
        np.testing.assert_array_equal(x.tracks.keypoints, y.tracks.keypoints)
        np.testing.assert_array_equal(x.ref_time, y.ref_time)
    assert not np.array_equal(a.views[1].ref_time, c.views[1].ref_time)


def test_time_warp_is_monotonic_and_covers_the_motion():
    rng = np.random.default_rng(0)
    for frames in (20, 300, 700):
        t = time_warp(frames, rng)
        assert t[0] == 0 and t[-1] == frames - 1 and np.all(np.diff(t) > 0)


def test_bad_mocap_file(tmp_path):
    from core.errors import UserError

    bad = tmp_path / "bad.npz"
    np.savez(bad, joints=np.zeros((5, 3, 3)), fps=30.0, smpl24=np.full(24, -1))
    with pytest.raises(UserError, match="bad.npz"):
        load_mocap(bad)


def test_unscaled_camera_sees_one_performer(mocap):
    """The oracle's cameras: through ``unscaled_camera`` the unscaled performer lands exactly where
    the scaled one does through the true camera, up to the scale (invisible to projection), in
    every frame, the travelling ones too (each view is scaled about one point, travel and all)."""
    p = make_problem(mocap, 3, seed=1)
    for v in p.views:
        assert abs(v.scale - 1) > 1e-3
        R, t = v.unscaled_camera()
        plain = mocap.at(v.ref_time)
        assert np.ptp(plain[:, 0, :2], axis=0).max() > 0.5  # the performer travels
        seen = v.joints @ v.R.T + v.t
        np.testing.assert_allclose(seen, v.scale * (plain @ R.T + t), atol=1e-9)
