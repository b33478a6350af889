# SPDX-License-Identifier: GPL-3.0-or-later
"""Retarget an iMoCap armature's action onto another armature: read both rigs and the source's
keys, solve the target's pose for every frame at once (``solve.py``), write one clean action.

No constraints are added, so none are left behind; the keys are the target's final (visual)
transforms. Everything is computed before the scene is touched; the source is never modified."""

from __future__ import annotations

import bpy
import numpy as np
from bpy_extras.anim_utils import action_ensure_channelbag_for_slot, action_get_channelbag_for_slot
from mathutils import Euler, Matrix

from ..rotations import continuous, matrix_to_quaternion, quaternion_to_matrix
from ..scene.motion import assign_action, write_curve
from .mapping import SMPL_BONES, TORSO, MappingError, Skeleton, resolve_map
from .solve import forward_kinematics, rotation_part, solve_bases, target_world_rotations, yaw_between

EULER = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


class RetargetError(MappingError):
    """Bad input for a retarget; the message says what and how to fix it. Nothing was changed."""


def skeleton(obj) -> tuple[Skeleton, np.ndarray]:
    """The rig's world-space Skeleton and its bones' rest matrices (B,4,4) in armature space."""
    bones = obj.data.bones
    names = tuple(b.name for b in bones)
    index = {n: i for i, n in enumerate(names)}
    parents = np.array([index[b.parent.name] if b.parent else -1 for b in bones], np.int64)
    rest = np.array([np.array(b.matrix_local) for b in bones], np.float64).reshape(-1, 4, 4)
    world = np.array(obj.matrix_world, np.float64)
    heads = np.array([b.head_local for b in bones], np.float64).reshape(-1, 3)
    tails = np.array([b.tail_local for b in bones], np.float64).reshape(-1, 3)
    to_world = lambda p: p @ world[:3, :3].T + world[:3, 3]  # noqa: E731
    return Skeleton(names, parents, to_world(heads), to_world(tails)), rest


def source_frames(source) -> list[int]:
    action = source.animation_data.action
    start, end = (int(round(v)) for v in action.frame_range)
    return list(range(start, end + 1))


def _sample_bases(obj, frames: list[int]) -> np.ndarray:
    """The pose bones' bases (N,B,4,4) at ``frames`` from the object's action (channels without
    keys keep the pose's current value)."""
    ad = obj.animation_data
    bag = action_get_channelbag_for_slot(ad.action, ad.action_slot) if ad and ad.action else None
    n = len(frames)

    def channel(bone, prop, current):
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].{prop}'
        cols = []
        for i, v in enumerate(current):
            fc = bag.fcurves.find(path, index=i) if bag else None
            cols.append(np.array([fc.evaluate(f) for f in frames]) if fc else np.full(n, float(v)))
        return np.stack(cols, -1)

    out = np.repeat(np.repeat(np.eye(4)[None, None], n, 0), len(obj.data.bones), 1)
    for k, b in enumerate(obj.data.bones):
        pb = obj.pose.bones[b.name]
        mode = pb.rotation_mode
        if mode == "QUATERNION":
            rot = quaternion_to_matrix(channel(b.name, "rotation_quaternion", pb.rotation_quaternion))
        elif mode == "AXIS_ANGLE":
            aa = channel(b.name, "rotation_axis_angle", pb.rotation_axis_angle)
            half = aa[:, :1] / 2
            axis = aa[:, 1:] / np.maximum(np.linalg.norm(aa[:, 1:], axis=1, keepdims=True), 1e-12)
            rot = quaternion_to_matrix(np.concatenate([np.cos(half), np.sin(half) * axis], 1))
        else:
            eul = channel(b.name, "rotation_euler", pb.rotation_euler)
            rot = np.array([np.array(Euler(e, mode).to_matrix()) for e in eul])
        scale = channel(b.name, "scale", pb.scale)
        out[:, k, :3, :3] = rot * scale[:, None, :]
        out[:, k, :3, 3] = channel(b.name, "location", pb.location)
    return out


def leg_length(skel: Skeleton, bone_map: dict[str, str]) -> float:
    """Mean rest length of the legs: hip joint to ankle joint (the foot bone's head) where the foot
    is mapped (a thigh or shin split in segments is then still measured whole), else thigh + shin."""
    out = []
    for side in ("left", "right"):
        thigh, shin = (skel.names.index(bone_map[f"{side}_{k}"]) for k in ("hip", "knee"))
        foot = bone_map.get(f"{side}_ankle")
        end = skel.heads[skel.names.index(foot)] if foot else None
        out.append(np.linalg.norm(end - skel.heads[thigh]) if foot else skel.lengths[thigh] + skel.lengths[shin])
    return float(np.mean(out))


def check_rigs(source, target) -> None:
    for what, obj in (("source", source), ("target", target)):
        if obj is None:
            raise RetargetError(f"no {what} armature given")
        if obj.type != "ARMATURE":
            raise RetargetError(f"the {what} {obj.name!r} is a {obj.type.lower()}, not an armature: pick an "
                                f"armature object")
    if source == target:
        raise RetargetError("the source and the target are the same armature: pick your character's rig as "
                            "the target")
    missing = [n for n in SMPL_BONES if n not in source.data.bones]
    if missing:
        raise RetargetError(f"the source {source.name!r} is not an iMoCap armature (no bone {missing[0]!r}); "
                            "import a capture and use its armature")
    if not (source.animation_data and source.animation_data.action):
        raise RetargetError(f"the source {source.name!r} has no action to retarget")


def solve(source, target, preset: str = "auto", frames=None, root_motion: bool = True,
          overrides: dict[str, str] | None = None, presets=None):
    """Everything a retarget writes, computed without touching the scene: returns
    (frames, bone map, preset used, target bone names, bases (N,B,4,4), bones to key)."""
    check_rigs(source, target)
    frames = source_frames(source) if frames is None else [int(f) for f in frames]
    if not frames:
        raise RetargetError("no frames to retarget")
    s_skel, s_rest = skeleton(source)
    t_skel, t_rest = skeleton(target)
    bone_map, used = resolve_map(t_skel, preset, presets, overrides)
    s_idx = [s_skel.names.index(k) for k in bone_map]
    t_idx = [t_skel.names.index(v) for v in bone_map.values()]

    s_obj = np.array(source.matrix_world, np.float64)
    t_obj = np.array(target.matrix_world, np.float64)
    s_pose = forward_kinematics(s_rest, s_skel.parents, _sample_bases(source, frames))
    s_world = rotation_part(s_obj) @ rotation_part(s_pose[:, s_idx])
    s_rest_world = rotation_part(s_obj) @ rotation_part(s_rest[s_idx])
    t_rot = rotation_part(t_obj)
    t_rest_world = t_rot @ rotation_part(t_rest[t_idx])

    def left(skel, hip_l, hip_r):
        return skel.heads[skel.names.index(hip_l)] - skel.heads[skel.names.index(hip_r)]

    yaw = yaw_between(left(s_skel, "left_hip", "right_hip"), left(t_skel, bone_map["left_hip"], bone_map["right_hip"]))
    swing = np.array([k not in TORSO for k in bone_map])
    desired_world = target_world_rotations(s_world, s_rest_world, t_rest_world, swing, yaw)
    desired = {t: t_rot.T @ desired_world[:, m] for m, t in enumerate(t_idx)}

    # the hips: height above each rig's floor (its object's origin) scaled by the legs' ratio;
    # across the floor from where the target stands, turned and scaled likewise (or not at all)
    scale = leg_length(t_skel, bone_map) / leg_length(s_skel, {k: k for k in SMPL_BONES})
    hips_s = (s_pose[:, s_skel.names.index("pelvis"), :3, 3] @ s_obj[:3, :3].T) + s_obj[:3, 3]
    t_hips = t_skel.names.index(bone_map["pelvis"])
    hips_t0 = t_skel.heads[t_hips]
    hips_t = np.empty_like(hips_s)
    hips_t[:, 2] = t_obj[2, 3] + scale * (hips_s[:, 2] - s_obj[2, 3])
    move = (hips_s[:, :2] - hips_s[:1, :2]) @ yaw[:2, :2].T * scale if root_motion else 0.0
    hips_t[:, :2] = hips_t0[:2] + move
    root_position = (hips_t - t_obj[:3, 3]) @ np.linalg.inv(t_obj[:3, :3]).T
    bases, _ = solve_bases(t_rest, t_skel.parents, desired, root=t_hips, root_position=root_position)

    keyed = set(t_idx)
    for t in t_idx:  # unmapped bones between mapped ones are keyed at rest, so the action decides all
        p = int(t_skel.parents[t])
        while p >= 0:
            keyed.add(p)
            p = int(t_skel.parents[p])
    return frames, bone_map, used, t_skel.names, bases, sorted(keyed), t_hips


def write(target, name: str, frames, names, bases: np.ndarray, keyed: list[int], root: int):
    """A new action on ``target`` holding ``bases`` for the ``keyed`` bones; the root's location too."""
    action = bpy.data.actions.new(name)
    try:
        slot = action.slots.new(id_type="OBJECT", name=target.name)
        bag = action_ensure_channelbag_for_slot(action, slot)
        f = np.asarray(frames, np.float64)
        for b in keyed:
            bone = names[b]
            pb = target.pose.bones[bone]
            path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"]'
            rot = bases[:, b, :3, :3]
            mode = pb.rotation_mode
            if mode == "QUATERNION":
                values, prop = continuous(matrix_to_quaternion(rot)), "rotation_quaternion"
            elif mode == "AXIS_ANGLE":
                q = continuous(matrix_to_quaternion(rot))
                angle = 2 * np.arccos(np.clip(q[:, 0], -1, 1))
                axis = q[:, 1:] / np.maximum(np.linalg.norm(q[:, 1:], axis=1, keepdims=True), 1e-12)
                axis[np.linalg.norm(q[:, 1:], axis=1) < 1e-12] = (0.0, 1.0, 0.0)
                values, prop = np.concatenate([angle[:, None], axis], 1), "rotation_axis_angle"
            else:
                values, prev = np.empty((len(f), 3)), None
                for i in range(len(f)):  # one call per key: Euler angles kept continuous from key to key
                    m = Matrix(rot[i].tolist())
                    prev = m.to_euler(mode) if prev is None else m.to_euler(mode, prev)
                    values[i] = prev
                prop = "rotation_euler"
            for i in range(values.shape[1]):
                write_curve(bag, f"{path}.{prop}", i, bone, f, values[:, i])
            if b == root:
                for i in range(3):
                    write_curve(bag, f"{path}.location", i, bone, f, bases[:, b, i, 3])
        assign_action(target, action)
    except BaseException:
        bpy.data.actions.remove(action)
        raise
    return action


def retarget(source, target, preset: str = "auto", frames=None, root_motion: bool = True,
             overrides: dict[str, str] | None = None, presets=None, report: dict | None = None):
    """Retarget ``source``'s action onto ``target``; returns the new action (assigned to the
    target). ``report`` (a dict), when given, receives the bone map, the preset used and the bones
    left unmapped on both sides."""
    frames, bone_map, used, names, bases, keyed, root = solve(source, target, preset, frames, root_motion,
                                                              overrides, presets)
    previous = target.animation_data.action if target.animation_data else None
    action = write(target, f"{target.name} from {source.name}", frames, names, bases, keyed, root)
    action["imocap_source"] = source.name
    if report is not None:
        mapped = set(bone_map.values())
        report.update(bone_map=bone_map, preset=used, previous_action=previous.name if previous else "",
                      source_unmapped=[k for k in SMPL_BONES if k not in bone_map],
                      target_unmapped=[n for n in names if n not in mapped], frames=len(frames))
    return action
