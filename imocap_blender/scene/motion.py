# SPDX-License-Identifier: GPL-3.0-or-later
"""Motions as actions: keyframes written in bulk (``keyframe_points.add`` + ``foreach_set``)."""

from __future__ import annotations

import bpy
import numpy as np
from bpy_extras.anim_utils import action_ensure_channelbag_for_slot

from ..rotations import pose_to_bone_keys

LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value
CONSTANT = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["CONSTANT"].value
# the armature's custom properties that say, frame by frame, which foot stands planted (1) or not (0)
CONTACT_PROPS = ("imocap_left_foot_contact", "imocap_right_foot_contact")


def write_curve(channelbag, path: str, index: int, group: str, frames: np.ndarray, values: np.ndarray,
                interpolation: int = LINEAR) -> None:
    """One F-curve with a key at each of ``frames`` (linear between them by default), written in bulk."""
    fc = channelbag.fcurves.new(path, index=index, group_name=group)
    n = len(frames)
    fc.keyframe_points.add(n)
    co = np.empty((n, 2), np.float32)
    co[:, 0], co[:, 1] = frames, values
    fc.keyframe_points.foreach_set("co", co.ravel())
    fc.keyframe_points.foreach_set("interpolation", np.full(n, interpolation, np.int32))
    fc.update()


def write_contacts(action, armature_obj, contacts: np.ndarray, first_frame: int = 1) -> None:
    """``contacts`` (N,2) (the consensus motion's planted ankles, left and right) as the armature's
    :data:`CONTACT_PROPS`, keyed on ``action`` (its first slot) 1 where the foot stands and 0 where
    not, held between keys: curves an animator can drive foot locks or IK pins with."""
    for name in CONTACT_PROPS:
        armature_obj[name] = 0.0
        armature_obj.id_properties_ui(name).update(min=0.0, max=1.0, description="1 where the capture found this "
                                                   "foot standing planted (held in place and flat), 0 elsewhere")
    bag = action_ensure_channelbag_for_slot(action, action.slots[0])
    frames = first_frame + np.arange(len(contacts), dtype=np.float64)
    for name, column in zip(CONTACT_PROPS, np.asarray(contacts, bool).T):
        write_curve(bag, f'["{name}"]', 0, "Contacts", frames, column.astype(np.float32), CONSTANT)


def write_action(name: str, armature_obj, joint_names, motion, rest_joints_model: np.ndarray,
                 bone_rest: np.ndarray, first_frame: int = 1):
    """An action (with one slot for ``armature_obj``) holding ``motion`` with frame i at
    ``first_frame + i``."""
    quat, loc = pose_to_bone_keys(motion.pose, motion.transl, rest_joints_model, bone_rest)
    frames = first_frame + np.arange(motion.frames, dtype=np.float64)
    action = bpy.data.actions.new(name)
    slot = action.slots.new(id_type="OBJECT", name=armature_obj.name)
    bag = action_ensure_channelbag_for_slot(action, slot)
    for k, bone in enumerate(joint_names):
        path = f'pose.bones["{bone}"].rotation_quaternion'
        for i in range(4):
            write_curve(bag, path, i, bone, frames, quat[:, k, i])
    root = joint_names[0]
    for i in range(3):
        write_curve(bag, f'pose.bones["{root}"].location', i, root, frames, loc[:, i])
    action["imocap_fps"] = float(motion.fps)
    action.use_fake_user = True  # the clips' actions are unassigned most of the time: keep them on save
    return action


def assign_action(obj, action) -> None:
    """Play ``action`` on ``obj`` (its slot is chosen for the object)."""
    if obj.animation_data is None:
        obj.animation_data_create()
    obj.animation_data.action = action
    if obj.animation_data.action_slot is None and len(action.slots):
        obj.animation_data.action_slot = action.slots[0]
