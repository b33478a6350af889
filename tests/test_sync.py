"""Synchronisation: the aligned distance's invariances, the time maps, and the protocol's numbers."""

import json
import warnings

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from conftest import SHARED, run_python
from core.sync import (SyncSettings, _sym3_eigvals, invert_time_map, local_dtw, normalise_poses,
                       procrustes_distance, synchronise)

needs_mocap = pytest.mark.skipif(not (SHARED / "cmu_01_jumps.npz").is_file(), reason="shared/mocap missing")


def test_closed_form_eigenvalues():
    a = torch.randn(1000, 3, 3, dtype=torch.float64)
    b = a.transpose(1, 2) @ a
    torch.testing.assert_close(_sym3_eigvals(b), torch.linalg.eigvalsh(b).flip(-1), atol=1e-9, rtol=1e-9)


def test_aligned_distance_invariances():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 12, 3))
    rot = Rotation.random(6, random_state=1).as_matrix()
    moved = 1.7 * np.einsum("nij,nkj->nki", rot, x) + 2.0
    mirrored = x * np.array([1, 1, -1])
    a, b, c = (normalise_poses(torch.tensor(v)) for v in (x, moved, mirrored))
    d = procrustes_distance(a, b)
    assert torch.diagonal(d).abs().max() < 1e-9  # rotation, scale, translation: same pose
    assert d.min() >= 0 and d.max() <= 4
    assert (d + torch.eye(6) * 9).min() > 0.05  # different poses differ
    assert torch.diagonal(procrustes_distance(a, c)).min() > 0.05  # a mirror image is not a rotation
    assert torch.diagonal(procrustes_distance(a, c, allow_reflection=True)).abs().max() < 1e-9
    # against a brute-force per-pair SVD
    for i, j in ((0, 1), (2, 5)):
        u, s, vt = np.linalg.svd(a[i].numpy().T @ b[j].numpy())
        s[-1] *= np.sign(np.linalg.det(u @ vt))
        assert float(d[i, j]) == pytest.approx(2 - 2 * s.sum(), abs=1e-9)


def test_local_dtw_finds_a_known_partial_path():
    n_ref, true = 60, 10 + np.round(np.arange(30) * 1.5).astype(int)  # clip runs 1.5x, starts at 10
    score = np.full((30, n_ref), 0.1)
    score[np.arange(30), true] = 0.9
    ref, mean = local_dtw(score, 0.5, 4, nominal=1.0, step_penalty=0.05)
    np.testing.assert_array_equal(ref, true)
    assert mean == pytest.approx(0.9)


def test_invert_time_map():
    rt = np.array([np.nan, 2.0, 3.5, 5.0, np.nan])
    ct = invert_time_map(rt, 8)
    np.testing.assert_allclose(ct[2:6], [1.0, 1 + 1 / 1.5, 1 + 2 / 1.5, 3.0])
    assert np.isnan(ct[[0, 1, 6, 7]]).all()


def test_single_clip_is_the_identity():
    c = synchronise([np.random.default_rng(0).normal(size=(25, 12, 3))])
    np.testing.assert_array_equal(c.ref_time[0], np.arange(25))
    np.testing.assert_array_equal(c.clip_time[0], np.arange(25))
    assert c.confidence.tolist() == [1.0]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="cycle"):
        SyncSettings(cycle="magic")
    with pytest.raises(ValueError, match="reference"):
        synchronise([np.zeros((3, 12, 3))], settings=SyncSettings(reference=2))


@needs_mocap
def test_clips_of_different_actions_get_low_confidence_and_a_warning():
    from bench.mocap import LIMB_SMPL, load_mocap
    from bench.protocol import make_problem

    jumps = make_problem(load_mocap(SHARED / "cmu_01_jumps.npz"), 2, 0)
    walk = make_problem(load_mocap(SHARED / "deepmimic_walk.npz"), 2, 0)
    poses = [jumps.views[0].joints_in_camera()[:, LIMB_SMPL], walk.views[1].joints_in_camera()[:, LIMB_SMPL],
             jumps.views[1].joints_in_camera()[:, LIMB_SMPL]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = synchronise(poses)
    assert c.confidence[1] < 0.2 < 0.6 < c.confidence[2]
    assert len(c.warnings) == 1 and "clip 1" in c.warnings[0] and "different action" in c.warnings[0]
    assert any("clip 1" in str(w.message) for w in caught)


@needs_mocap
def test_clips_at_other_frame_rates_run_at_their_own_pace():
    """A 25 fps and a 24 fps clip of a 30 fps reference: each clip frame maps 30/25 (30/24)
    reference frames further, which a whole-step pace prior alone pulls towards 1."""
    from bench.mocap import LIMB_SMPL, load_mocap
    from bench.metrics import sync_error_pct

    mocap = load_mocap(SHARED / "cmu_01_jumps.npz", fps=120)
    ref_t = np.arange(0, 8.0, 1 / 30)  # seconds
    clips, truth = [mocap.at(ref_t * 120)[:, LIMB_SMPL]], []
    for fps, start in ((25.0, 1.3), (24.0, 2.1)):
        t = start + np.arange(0, 5.0, 1 / fps)
        clips.append(mocap.at(t * 120)[:, LIMB_SMPL])
        truth.append(t * 30)
    c = synchronise(clips, [30.0, 25.0, 24.0])
    assert sync_error_pct(c.ref_time[1:], truth, len(ref_t)) < 0.3
    # the same from 2D (each clip seen by its own camera), with the engine's 2D settings
    from core.engine import CaptureSettings
    from core.geometry import intrinsics, look_at_camera, project

    flat = []
    for j, x in enumerate(clips):
        az = 1.0 + 1.7 * j
        R, t = look_at_camera(np.array([6 * np.cos(az), 6 * np.sin(az), 1.2]), np.array([0.5, -0.8, 0.9]))
        flat.append(project(x, intrinsics(800.0, 1280, 720), R, t)[0])
    c2 = synchronise(flat, [30.0, 25.0, 24.0], settings=CaptureSettings().sync_2d, kind="2d")
    assert sync_error_pct(c2.ref_time[1:], truth, len(ref_t)) < 0.5
    for j in (1, 2):  # and the inverse map agrees
        r = np.arange(len(ref_t))
        ok = np.isfinite(c.clip_time[j])
        assert ok.sum() > 100
        np.testing.assert_allclose(np.interp(c.clip_time[j][ok], np.arange(len(truth[j - 1])), truth[j - 1]), r[ok],
                                   atol=1.5)


def _bench(*args):
    r = run_python(["-m", "bench", "run", "--stage", "sync", "--json", *args], timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.splitlines()[-1])


@needs_mocap
@pytest.mark.parametrize("init", ["2d", "noisy-truth"])
def test_protocol_four_views_seed0_meets_the_target(init):
    """From the 2D keypoints (what the engine does) and from noisy true 3D (the issue's first setup)."""
    out = _bench("--mocap", str(SHARED / "cmu_01_jumps.npz"), "--views", "4", "--seed", "0", "--init", init)
    assert out["init"] == init and out["views"] == 4 and out["seed"] == 0
    assert out["sync_error_pct"] <= 0.5  # the target (the paper reports 0.77%)
    assert out["sync_error_pct"] < out["sync_error_pct_no_cycle"]
    assert out["seconds"]["total"] > 0 and set(out["seconds"]) >= {"sync", "total"}
    assert min(out["sync_confidence"]) > 0.5 and out["warnings"] == []


@needs_mocap
@pytest.mark.parametrize("views", [2, 8])
def test_two_to_eight_views(views):
    out = _bench("--mocap", str(SHARED / "cmu_01_jumps.npz"), "--views", str(views), "--seed", "1",
                 "--init", "noisy-truth")
    assert len(out["frames"]) == views and out["sync_error_pct"] <= 0.5


@needs_mocap
def test_other_captures_of_the_same_format():
    out = _bench("--mocap", str(SHARED / "deepmimic_punch.npz"), "--views", "3", "--seed", "0", "--init", "noisy-truth")
    # 64 reference frames: one frame is 1.6% of the timeline
    assert out["sync_error_pct"] <= 1.6
