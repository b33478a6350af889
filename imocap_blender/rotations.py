# SPDX-License-Identifier: GPL-3.0-or-later
"""Rotations for the scene writers, numpy only (no bpy): quaternions are (w, x, y, z) as Blender's.

The armature is built standing in Blender's Z-up world: rest joints J' = C J, with C the rotation
taking SMPL's Y-up model frame to Z-up (+90 degrees about X). A bone k with rest orientation B_k
(its ``matrix_local`` rotation) then takes the pose-space rotation

    q_k = B_k^-1 (C R_k C^-1) B_k                  for k > 0,
    q_0 = B_0^-1 (R_0 C^-1) B_0,  location_0 = B_0^-1 (J_0 + transl - C J_0)   for the root,

where R_k are the SMPL rotations (axis-angle in the CaptureResult) and J the rest joints.
"""

from __future__ import annotations

import numpy as np

C_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # Y-up model -> Z-up world


def rotvec_to_matrix(rv: np.ndarray) -> np.ndarray:
    """(...,3) axis-angle -> (...,3,3) (Rodrigues)."""
    rv = np.asarray(rv, np.float64)
    theta = np.linalg.norm(rv, axis=-1, keepdims=True)
    axis = rv / np.where(theta > 1e-12, theta, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(rv.shape[:-1] + (3, 3))
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """(...,3,3) rotation matrices -> (...,4) unit quaternions (w,x,y,z), w >= 0."""
    m = np.asarray(m, np.float64)
    t = np.stack([1 + m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2], 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2],
                  1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], 1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]], -1)
    best = t.argmax(-1)
    q = np.empty(m.shape[:-2] + (4,))
    # four candidate formulas, each stable where its diagonal term is largest
    cand = [
        np.stack([t[..., 0], m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        np.stack([m[..., 2, 1] - m[..., 1, 2], t[..., 1], m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
        np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], t[..., 2], m[..., 1, 2] + m[..., 2, 1]], -1),
        np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], t[..., 3]], -1),
    ]
    for i in range(4):
        sel = best == i
        q[sel] = cand[i][sel]
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return q * np.where(q[..., :1] < 0, -1.0, 1.0)


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """(...,4) (w,x,y,z) -> (...,3,3)."""
    q = np.asarray(q, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = (q[..., i] for i in range(4))
    return np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                     2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                     2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1).reshape(q.shape[:-1] + (3, 3))


def continuous(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 so consecutive quaternions (N,...,4) stay on one hemisphere
    (linear interpolation between keys then takes the short way)."""
    q = q.copy()
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    flips = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)
    q[1:] *= flips[..., None]
    return q


def pose_to_bone_keys(pose: np.ndarray, transl: np.ndarray, rest_joints: np.ndarray, bone_rest: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """SMPL motion -> Blender pose-bone keys.

    pose (N,24,3) axis-angle, transl (N,3), rest_joints (24,3) model frame, bone_rest (24,3,3) the
    bones' rest rotations in the Z-up armature. Returns quaternions (N,24,4) and the root
    location (N,3) (see the module docstring)."""
    r = rotvec_to_matrix(pose)
    world = np.einsum("ij,nkjl,lm->nkim", C_UP, r, C_UP.T)  # C R_k C^-1
    world[:, 0] = r[:, 0] @ C_UP.T  # root: R_0 C^-1
    basis = np.einsum("kji,nkjl,klm->nkim", bone_rest, world, bone_rest)  # B^-1 W B (B orthonormal)
    loc = (rest_joints[0] + transl - C_UP @ rest_joints[0]) @ bone_rest[0]  # B0^-1 v, as rows
    return continuous(matrix_to_quaternion(basis)), loc


def bone_keys_to_pose(quat: np.ndarray, loc: np.ndarray, rest_joints: np.ndarray, bone_rest: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`pose_to_bone_keys`: rotation matrices (N,24,3,3) and transl (N,3)."""
    basis = quaternion_to_matrix(quat)
    world = np.einsum("kij,nkjl,kml->nkim", bone_rest, basis, bone_rest)  # B q B^-1
    r = np.einsum("ji,nkjl,lm->nkim", C_UP, world, C_UP)  # C^-1 W C
    r[:, 0] = world[:, 0] @ C_UP
    transl = loc @ bone_rest[0].T - rest_joints[0] + C_UP @ rest_joints[0]
    return r, transl
