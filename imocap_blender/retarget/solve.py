# SPDX-License-Identifier: GPL-3.0-or-later
"""Retargeting maths, numpy only (no bpy): forward kinematics of Blender armatures and the target
pose that makes every mapped target bone point where its source bone points.

Conventions (Blender's): a bone's rest matrix ``L`` (``bone.matrix_local``) is in armature space,
its Y axis runs head -> tail. A pose bone's armature-space matrix is

    P_b = P_p L_p^-1 L_b B_b          (B_b: its basis, from location/rotation keys; p: its parent)

and in the world ``O P_b`` with ``O`` the object's matrix.

For a mapped pair (source bone s, target bone t), with D(f) = W_s(f) W_s0^-1 the source's world
rotation since its rest and Y the turn about the vertical between the two rigs' facings:

    W_t(f) = Y D(f) Y^-1 A W_t0,

where A is the shortest rotation taking the target's rest direction onto the source's rest
direction (limbs: this absorbs A-pose versus T-pose and any bone roll), or the identity (torso:
its rest is upright in both rigs and its twist matters). Then the target bone's world direction is
exactly the source's: W_t(f) y = Y D(f) d_s0 = Y d_s(f).
"""

from __future__ import annotations

import numpy as np

Y_AXIS = np.array([0.0, 1.0, 0.0])


def rotation_part(m: np.ndarray) -> np.ndarray:
    """The rotation of (...,3,3)/(...,4,4) matrices that may carry a uniform or axis scale."""
    r = np.asarray(m, np.float64)[..., :3, :3]
    return r / np.linalg.norm(r, axis=-2, keepdims=True)


def topological(parents: np.ndarray) -> list[int]:
    """Bone indices ordered so that every parent comes before its children."""
    order, seen = [], set()
    children: dict[int, list[int]] = {}
    for b, p in enumerate(parents):
        children.setdefault(int(p), []).append(b)
    stack = list(reversed(children.get(-1, [])))
    while stack:
        b = stack.pop()
        if b in seen:
            continue
        seen.add(b)
        order.append(b)
        stack.extend(reversed(children.get(b, [])))
    if len(order) != len(parents):
        raise ValueError("the bone hierarchy has a cycle or a parent index out of range")
    return order


def forward_kinematics(rest: np.ndarray, parents: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Armature-space pose matrices (N,B,4,4) from rest matrices (B,4,4) and bases (N,B,4,4)."""
    pose = np.empty_like(basis)
    inv_rest = np.linalg.inv(rest)
    for b in topological(parents):
        p = parents[b]
        if p < 0:
            pose[:, b] = rest[b] @ basis[:, b]
        else:
            pose[:, b] = pose[:, p] @ (inv_rest[p] @ rest[b]) @ basis[:, b]
    return pose


def shortest_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3,3) taking direction ``a`` onto direction ``b``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(np.dot(a, b))
    if c < -1 + 1e-9:  # opposite: half a turn about any axis perpendicular to a
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def yaw_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation about world Z taking the horizontal part of ``a`` onto that of ``b``."""
    ang = np.arctan2(b[1], b[0]) - np.arctan2(a[1], a[0])
    c, s = np.cos(ang), np.sin(ang)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def target_world_rotations(source_world: np.ndarray, source_rest_world: np.ndarray,
                           target_rest_world: np.ndarray, swing: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Desired world rotations (N,M,3,3) of M mapped target bones.

    source_world (N,M,3,3): the source bones' world rotations per frame; source_rest_world,
    target_rest_world (M,3,3): rest world rotations; swing (M,) bool: align rest directions by
    the shortest rotation (limbs) or not (torso); yaw (3,3)."""
    delta = source_world @ np.swapaxes(source_rest_world, -1, -2)  # D(f)
    delta = yaw @ delta @ yaw.T
    align = np.repeat(np.eye(3)[None], len(swing), 0)
    for m in np.nonzero(swing)[0]:
        align[m] = shortest_rotation(target_rest_world[m] @ Y_AXIS, yaw @ source_rest_world[m] @ Y_AXIS)
    return delta @ (align @ target_rest_world)


def solve_bases(rest: np.ndarray, parents: np.ndarray, desired_rot: dict[int, np.ndarray],
                root: int | None = None, root_position: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bases (N,B,4,4) giving each bone in ``desired_rot`` (index -> (N,3,3) armature-space
    rotation) that rotation, the others their rest; ``root`` also moves its head to
    ``root_position`` (N,3) armature space. Returns (bases, armature-space pose matrices)."""
    n = len(next(iter(desired_rot.values())))
    basis = np.repeat(np.repeat(np.eye(4)[None, None], n, 0), len(parents), 1)
    pose = np.empty_like(basis)
    inv_rest = np.linalg.inv(rest)
    for b in topological(parents):
        p = parents[b]
        base = np.repeat(rest[b][None], n, 0) if p < 0 else pose[:, p] @ (inv_rest[p] @ rest[b])
        if b in desired_rot:
            base_r = rotation_part(base)
            basis[:, b, :3, :3] = np.swapaxes(base_r, -1, -2) @ desired_rot[b]
            if b == root and root_position is not None:
                basis[:, b, :3, 3] = np.einsum("nji,nj->ni", base_r, root_position - base[:, :3, 3])
        pose[:, b] = base @ basis[:, b]
    return basis, pose
