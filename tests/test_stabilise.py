"""Camera rotation compensation: homographies found from the background match the true ones on a
pan/zoom clip of a real photo; a still clip is recognised as still; warped tracks land where the
first frame would see them; the per-frame rotations of a turning camera are recovered from them."""

import cv2
import numpy as np

from bench.photo_clips import asset, pan_zoom_frames, write_clip
from core.export import panning_rotations
from core.geometry import intrinsics, look_at_camera
from core.stabilise import STILL_PX, corner_travel, frame_homographies, looks_still, stabilise, warp_points
from core.tracks import Tracks2D


def _to3(m):
    return np.vstack([m, [0, 0, 1]])


def test_pan_zoom_homographies_match_the_truth(tmp_path):
    img = cv2.imread(str(asset("bus.jpg")))
    frames, mats = pan_zoom_frames(img, 40, (640, 360), zoom=(1.2, 1.5), pan=(-0.12, 0.1))
    path = write_clip(tmp_path / "pan.mp4", frames)
    h, info = frame_homographies(path)
    assert info["frames"] == 40 and info["weak_steps"] == 0
    truth = np.array([_to3(mats[0]) @ np.linalg.inv(_to3(m)) for m in mats])  # frame k -> frame 0
    grid = np.stack(np.meshgrid(np.linspace(40, 600, 8), np.linspace(40, 320, 5)), -1).reshape(-1, 2)
    pts = np.repeat(grid[None], 40, 0)
    err = np.linalg.norm(warp_points(h, pts) - warp_points(truth, pts), axis=-1)
    assert np.median(err) < 1.0 and err.max() < 4.0, (np.median(err), err.max())
    assert corner_travel(h, (640, 360)) > 50
    assert not looks_still(path)


def test_a_still_clip_is_still(tmp_path):
    img = cv2.imread(str(asset("zidane.jpg")))
    frames, _ = pan_zoom_frames(img, 20, (480, 270), zoom=(1.1, 1.1), pan=(0.0, 0.0))
    rng = np.random.default_rng(0)
    frames = [np.clip(f.astype(int) + rng.integers(-3, 4, f.shape), 0, 255).astype(np.uint8) for f in frames]
    path = write_clip(tmp_path / "still.mp4", frames)
    h, _ = frame_homographies(path)
    assert corner_travel(h, (480, 270)) < STILL_PX
    assert looks_still(path)


def test_stabilised_tracks_and_rotations():
    K = intrinsics(600.0, 640, 360)
    R0, t0 = look_at_camera(np.array([4.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.9]))
    centre = -R0.T @ t0
    aims = np.stack([np.linspace(-1.0, 1.0, 10), np.zeros(10), np.full(10, 0.9)], 1)
    rots = np.array([look_at_camera(centre, a)[0] for a in aims])
    R0 = rots[0]
    h = np.array([K @ R0 @ r.T @ np.linalg.inv(K) for r in rots])  # frame k pixels -> frame 0 pixels
    np.testing.assert_allclose(panning_rotations(K, R0, h), rots, atol=1e-9)
    rng = np.random.default_rng(1)
    X = rng.normal([0, 0, 1], 0.3, (10, 17, 3))
    def px(R):
        c = X @ R.T - (R @ centre)
        uv = c @ K.T
        return uv[..., :2] / uv[..., 2:3]
    seen = np.stack([px(r)[k] for k, r in enumerate(rots)])
    tr = Tracks2D(seen.astype(np.float32), np.ones((10, 17), np.float32), np.tile([0, 0, 10, 10], (10, 1)).astype(
        np.float32), 30.0, (640, 360))
    still = stabilise(tr, h)
    np.testing.assert_allclose(still.keypoints, px(R0), atol=1e-3)
