"""core.kinematics against SciPy and a plain joint-by-joint chain."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from core.kinematics import Tree, forward_kinematics, rodrigues, rodrigues_planes


def test_rodrigues_matches_scipy_from_tiny_to_half_turn():
    rng = np.random.default_rng(0)
    axes = rng.normal(size=(400, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.concatenate([np.geomspace(1e-7, 1e-2, 100), rng.uniform(0, np.pi, 300)])
    rv = axes * angles[:, None]
    got = rodrigues(torch.tensor(rv, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, Rotation.from_rotvec(rv).as_matrix(), atol=1e-12)
    assert rodrigues_planes(torch.zeros(5, 7, 3)).shape == (3, 3, 5, 7)


def test_rodrigues_gradient_at_zero_is_the_cross_product_matrix():
    v = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    jac = torch.autograd.functional.jacobian(rodrigues, v)  # (3,3,3): d R_ij / d v_k
    for k in range(3):
        e = np.eye(3)[k]
        skew = np.array([[0, -e[2], e[1]], [e[2], 0, -e[0]], [-e[1], e[0], 0]])
        np.testing.assert_allclose(jac[..., k].numpy(), skew, atol=1e-12)


@pytest.mark.parametrize("parents", [(-1, 0, 1, 2, 1, 0, 5), (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6)])
def test_level_walk_equals_joint_by_joint_chain(parents):
    rng = np.random.default_rng(1)
    j, b = len(parents), 4
    rot = Rotation.from_rotvec(rng.normal(size=(b * j, 3))).as_matrix().reshape(b, j, 3, 3)
    rest = rng.normal(size=(b, j, 3))
    world_r, world_t = np.zeros_like(rot), np.zeros_like(rest)
    for i, p in enumerate(parents):
        if p < 0:
            world_r[:, i], world_t[:, i] = rot[:, i], rest[:, i]
        else:
            world_r[:, i] = world_r[:, p] @ rot[:, i]
            world_t[:, i] = world_t[:, p] + np.einsum("bij,bj->bi", world_r[:, p], rest[:, i] - rest[:, p])
    t = lambda a: torch.tensor(a)  # noqa: E731
    got_r, got_t = forward_kinematics(t(rot).permute(2, 3, 1, 0), t(rest).permute(2, 1, 0), Tree(parents))
    np.testing.assert_allclose(got_r.permute(3, 2, 0, 1).numpy(), world_r, atol=1e-12)
    np.testing.assert_allclose(got_t.permute(2, 1, 0).numpy(), world_t, atol=1e-12)


def test_tree_refuses_a_child_before_its_parent():
    with pytest.raises(ValueError):
        Tree((-1, 2, 0))


def test_unwrap_rotvec_makes_a_turning_sequence_continuous_and_keeps_every_rotation():
    from core.geometry import unwrap_rotvec

    t = np.linspace(0, 5 * np.pi, 300)  # two and a half turns about a wobbling vertical axis
    rots = Rotation.from_rotvec(np.stack([0.2 * np.sin(t), t, 0.1 * np.cos(3 * t)], 1))
    raw = rots.as_rotvec()
    assert np.abs(np.diff(raw, axis=0)).max() > 5  # as_rotvec wraps at half a turn
    got = unwrap_rotvec(raw)
    assert np.abs(np.diff(got, axis=0)).max() < 0.1
    assert np.degrees((Rotation.from_rotvec(got).inv() * rots).magnitude()).max() < 1e-9
    # midpoints of neighbours are now the rotations halfway between them
    mid = Rotation.from_rotvec(0.5 * (got[1:] + got[:-1]))
    halfway = rots[:-1] * Rotation.from_rotvec(0.5 * (rots[:-1].inv() * rots[1:]).as_rotvec())
    assert np.degrees((mid.inv() * halfway).magnitude()).max() < 0.5
    # several joints at once (N, J, 3)
    both = unwrap_rotvec(np.stack([raw, raw[::-1]], 1))
    np.testing.assert_allclose(both[:, 0], got)


def test_unwrap_rotvec_keeps_its_turns_through_an_exact_identity():
    """A body back where it started after a whole turn has no rotation axis at that frame: the
    turns gathered so far are kept (they were dropped: 5.93 -> 0 -> 6.63 rad about the vertical),
    and a sequence that starts or stays at the identity is left at zero."""
    from core.geometry import unwrap_rotvec

    angles = np.radians(20.0 * np.arange(30))
    raw = Rotation.from_euler("z", angles[:, None]).as_rotvec()
    raw[18] = 0.0  # 360 degrees exactly
    got = unwrap_rotvec(raw)
    np.testing.assert_allclose(got[:, 2], angles, atol=1e-9)
    still = np.zeros((6, 2, 3))
    still[3:, 1] = [0.0, 0.0, 0.5]
    np.testing.assert_allclose(unwrap_rotvec(still), still)


def test_the_adjustment_unwraps_the_root_alone_and_keeps_joints_at_their_principal_angle():
    """A body turning twice about the vertical while a wrist's rotation keeps turning the same way
    (as a start that takes each frame's limbs from another clip can leave it): the root is
    unwrapped (continuous), the wrist's vectors stay at angles of at most pi, and every rotation
    is unchanged. Unwrapped as well, the wrist gathered two whole turns (its vectors at 12 rad), and
    the adjustment's pose prior and smoothness, which act on the vectors, pulled it round them."""
    from core.ba import interpolable
    from core.geometry import principal_rotvec, unwrap_rotvec

    n = 30
    turning = Rotation.from_euler("y", np.linspace(0, 4 * np.pi, n)[:, None])
    pose = np.zeros((n, 24, 3))
    pose[:, 0] = turning.as_rotvec()
    pose[:, 20] = Rotation.from_rotvec(np.linspace(0, 12, n)[:, None] * [0.6, 0.8, 0.0]).as_rotvec()
    pose[:, 4] = [0.4, 0.0, 0.0]  # a bent knee, left as it is
    got = interpolable(pose)
    assert np.linalg.norm(np.diff(got[:, 0], axis=0), axis=1).max() < 0.5
    assert np.linalg.norm(got[:, 1:], axis=-1).max() <= np.pi + 1e-9
    np.testing.assert_allclose(got[:, 1:], pose[:, 1:], atol=1e-12)  # already principal: unchanged
    same = Rotation.from_rotvec(got.reshape(-1, 3)).inv() * Rotation.from_rotvec(pose.reshape(-1, 3))
    assert np.degrees(same.magnitude()).max() < 1e-9
    assert np.linalg.norm(unwrap_rotvec(pose)[:, 20], axis=-1).max() > 11  # what it replaced
    # a vector past half a turn comes back to the same rotation at an angle of at most pi
    far = Rotation.random(200, random_state=3).as_rotvec() * 3.0
    back = principal_rotvec(far)
    assert np.linalg.norm(back, axis=-1).max() <= np.pi + 1e-9
    same = Rotation.from_rotvec(back).inv() * Rotation.from_rotvec(far)
    assert np.degrees(same.magnitude()).max() < 1e-6
