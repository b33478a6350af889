# SPDX-License-Identifier: GPL-3.0-or-later
"""The armature: 24 bones with SMPL's names, standing in Blender's Z-up world."""

from __future__ import annotations

import bpy
import numpy as np

from ..rotations import C_UP

# the child a bone points at (the others point on along their parent's direction)
_TAIL_CHILD = {0: 3, 1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10, 8: 11, 9: 12, 12: 15, 13: 16, 14: 17,
               16: 18, 17: 19, 18: 20, 19: 21, 20: 22, 21: 23}


def bone_tails(joints: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Tail positions (24,3) for bones whose heads are ``joints`` (Z-up)."""
    tails = np.empty_like(joints)
    for k in range(len(joints)):
        if k in _TAIL_CHILD:
            tails[k] = joints[_TAIL_CHILD[k]]
        elif k == 15:  # head: up
            tails[k] = joints[k] + np.array([0.0, 0.0, 0.2])
        elif k in (10, 11):  # toes: forward along the foot
            d = joints[k] - joints[parents[k]]
            d[2] = 0.0
            tails[k] = joints[k] + 0.08 * d / max(np.linalg.norm(d), 1e-6)
        else:  # hands: on along the forearm
            d = joints[k] - joints[parents[k]]
            tails[k] = joints[k] + 0.08 * d / max(np.linalg.norm(d), 1e-6)
        if np.linalg.norm(tails[k] - joints[k]) < 1e-3:
            tails[k] = joints[k] + np.array([0.0, 0.0, 0.05])
    return tails


def build_armature(name: str, collection, joint_names, parents: np.ndarray, rest_joints_model: np.ndarray):
    """Create the armature object (rest joints given in the model frame, Y up) and link it.
    Returns the object and the bones' rest rotations (24,3,3) in armature space."""
    joints = rest_joints_model @ C_UP.T
    tails = bone_tails(joints, parents)
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    collection.objects.link(obj)
    view_layer = bpy.context.view_layer
    prev_active = view_layer.objects.active
    view_layer.objects.active = obj
    prev_mode = bpy.context.mode
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        bones = []
        for k, n in enumerate(joint_names):
            b = arm.edit_bones.new(n)
            b.head, b.tail, b.roll = joints[k], tails[k], 0.0
            bones.append(b)
        for k, p in enumerate(parents):
            if p >= 0:
                bones[k].parent = bones[p]
                bones[k].use_connect = False
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = prev_active
    del prev_mode
    rest = np.array([np.array(arm.bones[n].matrix_local)[:3, :3] for n in joint_names])
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return obj, rest
