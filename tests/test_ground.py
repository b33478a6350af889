"""The ground from where the feet stand still (core.ground), against a known ground."""

import numpy as np

from core.export import ANKLE_HEIGHT, world_frame
from core.ground import ground_plane

FPS = 30.0


def _walk(tilt_deg: float, travel: float, rng, frames: int = 240):
    """Ankles (N,2,3) of a walker crossing ``travel`` metres along x on a ground tilted by
    ``tilt_deg`` about y (its normal n): each foot planted for 20 frames, then swinging 20 frames
    forward in an arc 15 cm high; 3 mm noise. Also the ground's normal, and a guess of up 6
    degrees off it the other way."""
    t = np.deg2rad(tilt_deg)
    n = np.array([-np.sin(t), 0.0, np.cos(t)])
    along = np.array([np.cos(t), 0.0, np.sin(t)])
    side = np.array([0.0, 1.0, 0.0])
    ankles = np.zeros((frames, 2, 3))
    step = travel / (frames / 40)
    for foot in range(2):
        phase = (np.arange(frames) + 20 * foot) % 40
        k = (np.arange(frames) + 20 * foot) // 40
        swing = np.clip((phase - 20) / 20, 0, 1)
        s = (k + swing) * step - 20 * foot * step / 40
        lift = 0.15 * np.sin(np.pi * swing)
        ankles[:, foot] = (s[:, None] * along + (0.12 if foot else -0.12) * side + (ANKLE_HEIGHT + lift)[:, None] * n)
    ankles += rng.normal(0, 0.003, ankles.shape)
    a = np.deg2rad(-6.0)
    guess = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]) @ n
    return ankles, n, guess


def _deg(a, b):
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def test_a_walk_up_a_slope_gives_the_slope():
    """Walking 3 m on a ground tilted 5 degrees, with the body's guess of up 6 degrees off: the
    planted ankles give the ground's normal to within half a degree and their height to 5 mm."""
    ankles, n, guess = _walk(5.0, 3.0, np.random.default_rng(0))
    assert _deg(guess, n) > 5.9
    normal, height = ground_plane(ankles, guess, FPS)
    assert _deg(normal, n) < 0.5, _deg(normal, n)
    assert abs(height - ANKLE_HEIGHT) < 0.005, height


def test_feet_that_stay_in_place_keep_the_guess_across_them_and_too_few_give_none():
    """Stepping on the spot, the feet 24 cm apart side by side, the guess of up tilted 6 degrees
    forwards: nothing planted spans the forward direction, so the ground keeps the guess's tilt
    (within a degree) rather than swinging on the noise; a clip whose ankles never stand still
    gives no ground at all."""
    ankles, n, guess = _walk(0.0, 0.0, np.random.default_rng(1))
    normal, _ = ground_plane(ankles, guess, FPS)
    assert _deg(normal, guess) < 1.0
    fast = ankles + np.linspace(0, 10, len(ankles))[:, None, None] * np.array([1.0, 0, 0])
    assert ground_plane(fast, guess, FPS) is None  # 10 m in 8 s: nothing stands still


def test_the_capture_world_puts_every_planted_ankle_at_the_ankle_height():
    """world_frame on keypoints over a tilted ground, shoulders leaning forward: Z up out of the
    ground, the planted ankles at ANKLE_HEIGHT (median within 3 mm, each within 15: the noise is
    3 mm), the walk level."""
    ankles, n, _ = _walk(7.0, 3.0, np.random.default_rng(2))
    kp = np.zeros((len(ankles), 17, 3))
    kp[:, [15, 16]] = ankles
    lean = np.array([0.2, 0.0, 1.3])  # shoulders 1.3 m up, 0.2 m ahead: the body's guess is 16 degrees off
    kp[:, [5, 6]] = ankles.mean(1, keepdims=True) + lean
    w, b = world_frame(kp, FPS)
    moved = kp @ w.T + b
    assert _deg(w.T @ np.array([0, 0, 1.0]), n) < 0.5
    speed = np.linalg.norm(ankles[2:] - ankles[:-2], axis=-1) * FPS / 2
    still = moved[1:-1, [15, 16], 2][speed < 0.1]
    off = np.abs(still - ANKLE_HEIGHT)
    assert np.median(off) < 0.003 and off.max() < 0.015, (np.median(off), off.max())
