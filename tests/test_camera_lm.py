"""The camera adjustment's converging solver (core.camera_lm) against known cameras and points."""

import numpy as np
from scipy.spatial.transform import Rotation

from core.camera_lm import Observations, Timing, adjust
from core.geometry import look_at_camera


def _scene(rng, n_points=300):
    """Three cameras 5 m from a cloud of points (the first camera the world), 1 px noise, 2% of
    the observations thrown 60 px off; every point seen by every camera."""
    pts = rng.normal(0, 0.5, (n_points, 3)) + [0, 0, 1.0]
    focals, cams = np.array([1400.0, 1000.0, 1800.0]), []
    for az in (0, 70, -120):
        a = np.deg2rad(az)
        cams.append(look_at_camera(np.array([5 * np.cos(a), 5 * np.sin(a), 1.8]), np.array([0, 0, 1.0])))
    r0, t0 = cams[0]
    cams = [(r @ r0.T, t - r @ r0.T @ t0) for r, t in cams]
    world = pts @ r0.T + t0
    centres = np.tile([960.0, 540.0], (3, 1))
    point, camera, uv = [], [], []
    for j, (r, t) in enumerate(cams):
        x = world @ r.T + t
        uv.append(focals[j] * x[:, :2] / x[:, 2:] + centres[j])
        point.append(np.arange(n_points))
        camera.append(np.full(n_points, j))
    uv = np.concatenate(uv) + rng.normal(0, 1, (3 * n_points, 2))
    wild = rng.random(len(uv)) < 0.02
    uv[wild] += 60.0
    obs = Observations(np.concatenate(point), np.concatenate(camera), uv, np.ones(len(uv)),
                       np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), 50.0)
    return obs, cams, focals, world, centres


def test_converges_to_the_true_cameras_from_a_start_degrees_off():
    """Cameras 1 and 2 turned 4 degrees and focal lengths 25% off, points shifted 5 cm: the
    adjustment must bring the cameras within 0.3 degrees and the focal lengths within 2%, and stop
    by its own criterion, not its step limit."""
    rng = np.random.default_rng(0)
    obs, cams, focals, world, centres = _scene(rng)
    turn = Rotation.from_rotvec(np.deg2rad(4.0) * np.array([0.3, 1.0, 0.2]) / np.linalg.norm([0.3, 1.0, 0.2]))
    R = np.stack([cams[0][0]] + [turn.as_matrix() @ r for r, _ in cams[1:]])
    t = np.stack([tt for _, tt in cams])
    start = (R, t, np.log(focals * [1.25, 0.75, 1.25]), world + rng.normal(0, 0.05, world.shape), np.ones(0))
    bounds = (np.log(np.full(3, 300.0)), np.log(np.full(3, 10000.0)))
    (r2, _, logf, _, _), before, after, cost, steps = adjust(obs, start, centres, 0, np.zeros(3, bool), bounds, 4.0)
    for j in (1, 2):
        assert np.degrees(Rotation.from_matrix(r2[j] @ cams[j][0].T).magnitude()) < 0.3
    np.testing.assert_allclose(np.exp(logf), focals, rtol=0.02)
    assert steps < 200
    assert np.median(np.abs(after)) < 1.5 < np.median(np.abs(before))  # 1 px noise


def test_a_focal_prior_holds_what_the_views_leave_free():
    """Camera 1's focal length held (``hold``) stays exactly; a strong prior keeps camera 2's at
    its guess, 10% off the truth, within 1%."""
    rng = np.random.default_rng(1)
    obs, cams, focals, world, centres = _scene(rng)
    start = (np.stack([r for r, _ in cams]), np.stack([t for _, t in cams]), np.log(focals * [1.0, 1.3, 1.0]),
             world.copy(), np.ones(0))
    guess = np.log(focals * [1.0, 1.0, 1.1])
    bounds = (np.log(np.full(3, 300.0)), np.log(np.full(3, 10000.0)))
    hold = np.array([False, True, False])
    (_, _, logf, _, _), _, _, _, _ = adjust(obs, start, centres, 0, hold, bounds, 4.0, (1e5, guess))
    assert np.exp(logf[1]) == focals[1] * 1.3
    assert abs(np.exp(logf[2]) / (focals[2] * 1.1) - 1) < 0.01


def _moving_scene(rng, offsets, n_ref=40):
    """Twelve keypoints (COCO 5-16) swinging with their own phases over ``n_ref`` reference frames,
    seen by the three cameras of :func:`_scene`; camera j's clip frame i truly shows reference time
    i + 2 + offsets[j], while the times given to the adjustment are i + 2. 0.5 px noise."""
    base = rng.normal(0, 0.4, (12, 3)) + [0, 0, 1.0]
    phase, axis = rng.uniform(0, 2 * np.pi, 12), rng.normal(0, 1, (12, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)

    def motion(t):  # (T,) times -> (T,12,3): a swing of 0.25 m, period 40 frames, and a slow drift
        t = np.asarray(t, float)[:, None, None]
        return base + 0.25 * np.sin(2 * np.pi * t / 40 + phase[:, None]) * axis + t * np.array([0.01, 0, 0])

    _, cams, focals, _, centres = _scene(rng, 12)
    r0, t0 = cams[0]
    table = -np.ones((n_ref, 17), int)
    table[:, 5:17] = np.arange(n_ref * 12).reshape(n_ref, 12)
    cam, time, key, uv = [], [], [], []
    frames = np.arange(n_ref - 5)
    for j, (r, t) in enumerate(cams):
        x = motion(frames + 2 + offsets[j]) @ r.T + t
        px = focals[j] * x[..., :2] / x[..., 2:] + centres[j]
        cam.append(np.full(px.shape[:2], j)), time.append(np.repeat(frames + 2.0, 12).reshape(-1, 12))
        key.append(np.tile(np.arange(5, 17), (len(frames), 1))), uv.append(px)
    cam, time, key = (np.concatenate(a).ravel() for a in (cam, time, key))
    uv = np.concatenate(uv).reshape(-1, 2) + rng.normal(0, 0.5, (len(cam), 2))
    mid, half = time.mean(), (time.max() - time.min()) / 2
    timing = Timing(time, key, np.where(cam > 0, (time - mid) / half, 0.0), table)
    obs = Observations(table[np.round(time).astype(int), key], cam, uv, np.ones(len(cam)), np.zeros(0, int),
                       np.zeros(0, int), np.zeros(0, int), 50.0, timing)
    world = motion(np.arange(n_ref)).reshape(-1, 3)
    return obs, cams, focals, world, centres


def test_clip_times_are_fitted_with_the_cameras():
    """Clips 1 and 2 shown 0.4 frames late and 0.3 frames early against the times given: fitted
    with the cameras (turned 2 degrees at the start), the offsets come back within 0.05 frames,
    the tilts within 0.05, and the cameras within 0.2 degrees."""
    rng = np.random.default_rng(2)
    obs, cams, focals, world, centres = _moving_scene(rng, [0.0, 0.4, -0.3])
    turn = Rotation.from_rotvec(np.deg2rad(2.0) * np.array([0.0, 1.0, 0.0]))
    R = np.stack([cams[0][0]] + [turn.as_matrix() @ r for r, _ in cams[1:]])
    start = (R, np.stack([t for _, t in cams]), np.log(focals), world + rng.normal(0, 0.01, world.shape),
             np.ones(0), np.zeros((3, 2)))
    bounds = (np.log(np.full(3, 300.0)), np.log(np.full(3, 10000.0)))
    (r2, _, _, _, _, tau), _, _, _, steps = adjust(obs, start, centres, 0, np.zeros(3, bool), bounds, 4.0)
    np.testing.assert_allclose(tau[:, 0], [0.0, 0.4, -0.3], atol=0.05)
    np.testing.assert_allclose(tau[:, 1], 0.0, atol=0.05)
    for j in (1, 2):
        assert np.degrees(Rotation.from_matrix(r2[j] @ cams[j][0].T).magnitude()) < 0.2
    assert steps < 200
