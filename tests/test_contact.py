"""Foot contacts and planted feet (core.contact), against motions whose contacts are known."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from core.contact import contacts, flat_feet, plant_feet, spans
from core.export import ANKLE_HEIGHT
from core.result import Motion

FPS = 30.0


def _walk(frames: int, jitter: float, rng):
    """Ankles (N,2,3) of a walker along x on flat ground: each foot planted for 20 frames, then
    swinging 20 frames forward (0.6 m) in an arc 15 cm high, ``jitter`` metres of noise; and which
    ankles are planted."""
    ankles = np.zeros((frames, 2, 3))
    planted = np.zeros((frames, 2), bool)
    for foot in range(2):
        phase = (np.arange(frames) + 20 * foot) % 40
        k = (np.arange(frames) + 20 * foot) // 40
        swing = np.clip((phase - 20) / 20, 0, 1)
        ankles[:, foot, 0] = (k + swing) * 0.6
        ankles[:, foot, 1] = 0.12 if foot else -0.12
        ankles[:, foot, 2] = ANKLE_HEIGHT + 0.15 * np.sin(np.pi * swing)
        planted[:, foot] = phase < 20
    return ankles + rng.normal(0, jitter, ankles.shape), planted


def test_a_walks_stances_are_found_and_a_foot_held_up_or_moving_slowly_in_the_air_is_not():
    """A walk whose ankles shake by 1 cm (as the answer's do): 95% of the frames called planted
    are, and 85% of the planted frames are found. A foot held still 30 cm up, or drifting at
    0.2 m/s 25 cm up, is never planted."""
    ankles, truth = _walk(240, 0.01, np.random.default_rng(0))
    found = contacts(ankles, FPS, ANKLE_HEIGHT)
    precision = (found & truth).sum() / found.sum()
    recall = (found & truth).sum() / truth.sum()
    assert precision > 0.95 and recall > 0.85, (precision, recall)
    up = ankles.copy()
    up[:, 0, 2] += 0.3
    up[:, 1, 2] += 0.25
    up[:, 1, 0] = np.arange(240) * 0.2 / FPS
    assert not contacts(up, FPS, ANKLE_HEIGHT).any()


def test_spans_are_the_runs_of_true():
    assert spans(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [(1, 3), (4, 5), (7, 8)]
    assert spans(np.zeros(4, bool)) == []


def _standing_then_knee_up(body, rng, jitter_rad: float):
    """90 frames Z up: standing, the left knee raised (hip 70 degrees, knee 80) over frames 35-55,
    both feet planted otherwise; the truth, and the truth with ``jitter_rad`` of noise on the hips
    and knees (1-2 cm at the ankles)."""
    n = 90
    pose = np.zeros((n, 24, 3))
    pose[:, 0] = [np.pi / 2, 0.0, 0.0]  # SMPL's Y up turned to Z up
    lift = np.clip(np.minimum(np.arange(n) - 30, 60 - np.arange(n)) / 10, 0, 1)
    pose[:, 1, 0] = -np.deg2rad(70) * lift
    pose[:, 4, 0] = np.deg2rad(80) * lift
    betas = np.zeros(10)
    transl = np.zeros((n, 3))
    with torch.no_grad():
        kp = body(torch.as_tensor(pose, dtype=torch.float32), torch.as_tensor(betas, dtype=torch.float32),
                  torch.as_tensor(transl, dtype=torch.float32)).keypoints.numpy()
    transl[:, 2] = ANKLE_HEIGHT - kp[0, [15, 16], 2].min()
    truth = Motion(pose.astype(np.float32), betas.astype(np.float32), transl.astype(np.float32), FPS)
    noisy = pose.copy()
    noisy[:, [1, 2, 4, 5]] += rng.normal(0, jitter_rad, (n, 4, 3))
    return truth, Motion(noisy.astype(np.float32), truth.betas, truth.transl, FPS)


def _bodies(body, m: Motion):
    with torch.no_grad():
        o = body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl))
    return o.keypoints.numpy().astype(np.float64), o.joints.numpy().astype(np.float64)


@pytest.fixture(scope="module")
def planted_case():
    from core.body import BodyModel

    body = BodyModel(device="cpu")
    truth, noisy = _standing_then_knee_up(body, np.random.default_rng(3), 0.02)
    fixed, found = plant_feet(noisy, body, ANKLE_HEIGHT)
    return body, truth, noisy, fixed, found


def test_planted_feet_stand_still_where_the_truths_do(planted_case):
    """Hips and knees shaken by 0.02 rad: the ankles slide 30 mm a frame where the truth's stand,
    20 mm from the truth's ankles. Planted, they slide a tenth as much (3.3 mm), stand a fifth as
    far from the truth's (4.2 mm), and the knees are no further from the truth's than they were
    (8.5 mm, from 10.3); the raised foot's frames are found in the air."""
    body, truth, noisy, fixed, found = planted_case
    kt, jt = _bodies(body, truth)
    kn, jn = _bodies(body, noisy)
    kf, jf = _bodies(body, fixed)
    assert not found[36:55, 0].any()  # the raised foot
    assert found[:, 1].mean() > 0.9 and found[:, 0].mean() > 0.55
    both = found & np.r_[found[:1] & False, found[:-1]]  # this frame and the one before planted

    def slide(kp):
        step = np.linalg.norm(np.diff(kp[:, [15, 16]], axis=0), axis=-1)
        return 1000 * step[both[1:]].mean()

    def off(kp):
        return 1000 * np.linalg.norm(kp[:, [15, 16]] - kt[:, [15, 16]], axis=-1)[found].mean()

    def knees(j):
        return 1000 * np.linalg.norm(j[:, [4, 5]] - jt[:, [4, 5]], axis=-1).mean()

    assert slide(kf) < 0.15 * slide(kn), (slide(kf), slide(kn))
    assert off(kf) < 0.3 * off(kn), (off(kf), off(kn))
    assert knees(jf) < knees(jn), (knees(jf), knees(jn))


def test_planting_turns_only_the_legs_and_leaves_frames_far_from_contacts_alone(planted_case):
    """Everything but the hips', knees' and ankles' turns is the motion as it was (root, spine,
    arms, toes, shape, translation), and the raised leg's middle frames, 5 or more from any
    contact, move by under a hundredth of a radian."""
    body, truth, noisy, fixed, found = planted_case
    others = [j for j in range(24) if j not in (1, 2, 4, 5, 7, 8)]
    np.testing.assert_array_equal(fixed.pose[:, others], noisy.pose[:, others])
    np.testing.assert_array_equal(fixed.transl, noisy.transl)
    np.testing.assert_array_equal(fixed.betas, noisy.betas)
    far = [i for i in range(90) if not found[max(0, i - 5):i + 6, 0].any()]
    assert len(far) >= 5
    assert np.abs(fixed.pose[far][:, [1, 4, 7]] - noisy.pose[far][:, [1, 4, 7]]).max() < 0.01


def test_a_motion_with_no_contact_comes_back_as_it_was():
    """A body 1 m up in the air the whole time, standing for only 4 frames (too few to measure a
    speed over), or with a NaN in its pose: nothing is planted and nothing changes; no frames, no
    contacts."""
    from core.body import BodyModel

    body = BodyModel(device="cpu")
    truth, noisy = _standing_then_knee_up(body, np.random.default_rng(4), 0.02)
    high = Motion(noisy.pose, noisy.betas, noisy.transl + np.float32([0, 0, 1.0]), FPS)
    out, found = plant_feet(high, body, ANKLE_HEIGHT)
    assert not found.any() and out is high
    short = Motion(truth.pose[:4], truth.betas, truth.transl[:4], FPS)
    out, found = plant_feet(short, body, ANKLE_HEIGHT)
    assert found.shape == (4, 2) and not found.any() and out is short
    broken = noisy.pose.copy()
    broken[7, 3] = np.nan
    holed = Motion(broken, noisy.betas, noisy.transl, FPS)
    out, found = plant_feet(holed, body, ANKLE_HEIGHT)
    assert not found.any() and out is holed
    assert contacts(np.zeros((0, 2, 3)), FPS, ANKLE_HEIGHT).shape == (0, 2)  # no frame at all


def _foot_bones(body, pose):
    """(N,2,3) the ankle -> foot bones of ``pose`` (Z-up world)."""
    with torch.no_grad():
        j = body(torch.as_tensor(pose, dtype=torch.float32), torch.zeros(10)).joints.numpy().astype(np.float64)
    return j[:, [10, 11]] - j[:, [7, 8]]


def _elevation_and_heading(v):
    return (np.degrees(np.arctan2(v[..., 2], np.linalg.norm(v[..., :2], axis=-1))),
            np.degrees(np.arctan2(v[..., 1], v[..., 0])))


def test_a_planted_foot_lies_flat_under_a_leaning_shin_and_keeps_its_heading():
    """A crouch (hips flexed 30 degrees, knees bent 60) leans the shins 30 degrees forward, and a
    foot at rest under them points 45 degrees down into the floor. Planted, each foot points down
    as the body's does standing at rest (15 degrees: on the CMU capture's planted frames 15-17),
    and towards where the body standing at rest points it (the body turned 70 degrees about the
    vertical: the feet too, the shins leaning straight ahead); the frames 5 or more from a contact
    keep their own turn, and nothing but the ankles moves."""
    from core.body import BodyModel

    body = BodyModel(device="cpu")
    n = 30
    pose = np.zeros((n, 24, 3))
    root = Rotation.from_euler("z", 70, degrees=True) * Rotation.from_rotvec([np.pi / 2, 0, 0])
    pose[:, 0] = root.as_rotvec()
    pose[:, [1, 2], 0] = -np.deg2rad(30)
    pose[:, [4, 5], 0] = np.deg2rad(60)
    planted = np.zeros((n, 2), bool)
    planted[:15] = True
    rest = np.zeros((1, 24, 3))
    rest[:, 0] = pose[0, 0]
    rest_elev, rest_heading = _elevation_and_heading(_foot_bones(body, rest))
    before, _ = _elevation_and_heading(_foot_bones(body, pose))
    out = flat_feet(pose, planted)
    after, new_heading = _elevation_and_heading(_foot_bones(body, out))
    assert np.all(before[:15] < rest_elev - 25), (before[0], rest_elev)
    np.testing.assert_allclose(after[:15], np.broadcast_to(rest_elev, (15, 2)), atol=0.5)
    np.testing.assert_allclose(new_heading[:15], np.broadcast_to(rest_heading, (15, 2)), atol=0.5)
    np.testing.assert_allclose(out[20:], pose[20:], atol=1e-6)
    others = [j for j in range(24) if j not in (7, 8)]
    np.testing.assert_array_equal(out[:, others], pose[:, others])


def test_a_foot_under_a_shin_along_the_floor_keeps_its_turn():
    """Sitting with the legs stretched out along the floor (hips flexed 90 degrees, the body
    upright), the ankles low and still: the feet, whose shins lie flat, keep their own turn rather
    than being stood on their soles; the same legs under a shin leaning 30 degrees are turned."""
    pose = np.zeros((10, 24, 3))
    pose[:, 0] = [np.pi / 2, 0.0, 0.0]
    pose[:, [1, 2], 0] = -np.pi / 2
    pose[:, [7, 8]] = [0.3, 0.1, 0.0]
    planted = np.ones((10, 2), bool)
    np.testing.assert_array_equal(flat_feet(pose, planted), pose)
    pose[:, [1, 2], 0] = -np.deg2rad(30)
    assert np.abs(flat_feet(pose, planted)[:, [7, 8]] - pose[:, [7, 8]]).max() > 0.1
