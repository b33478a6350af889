"""core.sightlines and the capture's warning: frames whose clips all see the performer along nearly
one line."""

import numpy as np

from core.ba import BAState
from core.cameras import Camera
from core.engine import sightline_note
from core.geometry import look_at_camera
from core.sightlines import off_line_degrees, one_line_frames
from core.sync import Correspondence, invert_time_map

N = 40


def _camera(azimuth_deg: float, distance: float = 6.0, height: float = 1.0) -> Camera:
    a = np.radians(azimuth_deg)
    R, t = look_at_camera(np.array([distance * np.cos(a), distance * np.sin(a), height]), np.array([0.0, 0.0, 1.0]))
    return Camera(R, t, 1000.0, np.array([640.0, 360.0]))


def _state(azimuths) -> BAState:
    """A performer walking along x (hips at z = 1) seen by cameras at ``azimuths`` (degrees)."""
    kp = np.zeros((N, 17, 3))
    kp[:, :, 0] = np.linspace(-1.0, 1.0, N)[:, None]
    kp[:, :, 2] = 1.0
    kp[:, 11, 1], kp[:, 12, 1] = 0.1, -0.1  # the hips either side of the midline
    cams = tuple(_camera(a) for a in azimuths)
    return BAState((np.zeros((N, 24, 3)),) * len(cams), (np.zeros((N, 3)),) * len(cams), (np.zeros(10),) * len(cams),
                   cams, keypoints=(kp,) * len(cams))


def _truth_off_line(azimuths, a: int, b: int) -> np.ndarray:
    """Per frame, the angle between cameras a and b's sight lines to the hips and one line."""
    root = np.c_[np.linspace(-1.0, 1.0, N), np.zeros(N), np.ones(N)]
    rays = []
    for az in (azimuths[a], azimuths[b]):
        c = np.radians(az)
        d = root - [6.0 * np.cos(c), 6.0 * np.sin(c), 1.0]
        rays.append(d / np.linalg.norm(d, axis=1, keepdims=True))
    ang = np.degrees(np.arccos(np.clip((rays[0] * rays[1]).sum(1), -1, 1)))
    return np.minimum(ang, 180.0 - ang)


def test_off_line_degrees_is_the_widest_pair_of_sight_lines_from_one_line():
    """Cameras at 0, 165 and 95 degrees about a walking performer. Frames that clips 0 and 1 alone
    show are 15 degrees (give or take the walk) from opposite; adding clip 2 at right angles
    widens them; one clip alone gives NaN."""
    az = (0.0, 165.0, 95.0)
    state = _state(az)
    shows = np.zeros((3, N), bool)
    shows[0] = True
    shows[1, 10:] = True
    shows[2, 30:] = True
    off = off_line_degrees(state, shows, 0)
    assert np.isnan(off[:10]).all()
    np.testing.assert_allclose(off[10:30], _truth_off_line(az, 0, 1)[10:30], atol=1e-6)
    assert 10 < off[10:30].min() and off[10:30].max() < 25
    widest = np.maximum.reduce([_truth_off_line(az, a, b)[30:] for a, b in ((0, 1), (0, 2), (1, 2))])
    np.testing.assert_allclose(off[30:], widest, atol=1e-6)
    assert off[30:].min() > 60
    expected = np.r_[np.zeros(10), np.ones(20), np.zeros(10)]
    np.testing.assert_array_equal(one_line_frames(off, 30.0), expected)
    # two cameras nearly side by side (10 degrees apart) also see along one line
    assert (off_line_degrees(_state((40.0, 50.0)), np.ones((2, N), bool), 0) < 15).all()


def test_the_capture_names_frames_seen_along_one_line():
    """Past a twentieth of the timeline the frames only nearly opposite clips see are named, with
    the clips and how far from one line they look; under it, in stretches under ten frames, or with
    a clip from the side, nothing."""
    az = (0.0, 165.0, 95.0)
    state = _state(az)
    full = np.arange(N, dtype=float)

    def corr(first2: int):  # clip 1 shows every frame, clip 2 frames first2..N-1
        r2 = np.arange(first2, N, dtype=float)
        rts = (full, full.copy(), r2)
        return Correspondence(0, rts, tuple(invert_time_map(r, N) for r in rts), np.ones(3))

    note = sightline_note(corr(30), state, ["a.mp4", "b.mp4", "c.mp4"])
    assert note is not None
    assert note.startswith("reference frames 0-29 (75% of them) are seen only by a.mp4 and b.mp4 along nearly one line")
    assert f"{np.median(_truth_off_line(az, 0, 1)[:30]):.0f} degrees" in note
    assert sightline_note(corr(1), state, ["a.mp4", "b.mp4", "c.mp4"]) is None  # one frame: 2.5%
    assert sightline_note(corr(9), state, ["a.mp4", "b.mp4", "c.mp4"]) is None  # 9 frames (22%): too short a stretch
    assert sightline_note(corr(10), state, ["a.mp4", "b.mp4", "c.mp4"]) is not None
    assert sightline_note(corr(0), _state((0.0, 90.0, 95.0)), ["a", "b", "c"]) is None  # from the side
