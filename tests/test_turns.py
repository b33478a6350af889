"""core.turns: single frames of a body sequence turned the wrong way are found and mended."""

import numpy as np
from scipy.spatial.transform import Rotation

from core.geometry import unwrap_rotvec
from core.turns import mend_turned_frames, turned_frames


def _turning(n=30, deg_per_frame=20.0, seed=0):
    """A body turning about the vertical at a constant rate, its joints bending slowly."""
    rng = np.random.default_rng(seed)
    pose = np.zeros((n, 24, 3))
    pose[:, 0] = Rotation.from_euler("z", deg_per_frame * np.arange(n)[:, None], degrees=True).as_rotvec()
    pose[:, 1:] = 0.3 * np.sin(np.linspace(0, 3, n))[:, None, None] * rng.normal(0, 1, (23, 3))
    return pose


def test_a_front_back_flip_is_mended_from_the_frames_around_it():
    """Frames 7 and 8, and 20, turned half a turn about the vertical with the spine twisted (a
    monocular fit's flip): found, and put back within a degree (the turn is at a constant rate, so
    spherical interpolation between the good frames is the truth) and the joints within 0.03 rad
    (linear interpolation of a slow sine); every other frame untouched. Without mending, unwrapping
    the root's axis-angle vectors leaves the frames after the flip a whole turn off."""
    truth = _turning()
    flipped = truth.copy()
    half = Rotation.from_euler("z", 180, degrees=True)
    for i in (7, 8, 20):
        flipped[i, 0] = (half * Rotation.from_rotvec(truth[i, 0])).as_rotvec()
        flipped[i, 3] += [0.0, 0.0, 1.2]  # spine
    bad = turned_frames(flipped[:, 0])
    assert np.flatnonzero(bad).tolist() == [7, 8, 20]
    out = mend_turned_frames(flipped)
    err = (Rotation.from_rotvec(out[:, 0]) * Rotation.from_rotvec(truth[:, 0]).inv()).magnitude()
    assert np.degrees(err).max() < 1.0
    assert np.abs(out[:, 1:] - truth[:, 1:]).max() < 0.03
    keep = ~bad
    assert np.array_equal(out[keep], flipped[keep])
    jump = np.linalg.norm(np.diff(unwrap_rotvec(flipped[:, 0]), axis=0), axis=1).max()
    assert jump > 2.5 and np.linalg.norm(np.diff(unwrap_rotvec(out[:, 0]), axis=0), axis=1).max() < 0.4


def test_a_fast_spin_and_the_ends_are_no_flips():
    """A spin at 40 degrees a frame (1200 degrees a second at 30 fps) is left as it is; a flip in the
    first frame is found and takes the nearest good frame's orientation."""
    spin = _turning(deg_per_frame=40.0)
    assert not turned_frames(spin[:, 0]).any()
    assert np.array_equal(mend_turned_frames(spin), spin)
    steady = _turning(deg_per_frame=0.0)
    steady[0, 0] = Rotation.from_euler("z", 170, degrees=True).as_rotvec()
    out = mend_turned_frames(steady)
    assert np.flatnonzero(turned_frames(steady[:, 0])).tolist() == [0]
    assert np.abs(out[0] - steady[1]).max() < 1e-9
