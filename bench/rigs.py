"""Humanoid rigs built in Blender (bpy module) as other tools name and pose them: Mixamo (A-pose,
centimetres under a 0.01-scaled, X-rotated object, 'mixamorig:' names), Rigify's deform bones (split
in segments), the Unreal mannequin (root and IK bones, twist bones, spine_01..05), or plain 'bone.001'
names. Targets for the retargeting tests and benchmark."""

from __future__ import annotations

import math

import bpy
import numpy as np
from mathutils import Matrix, Vector


def humanoid(arm_deg, leg_deg, spine_n, neck_n, split=False, fingers=0, twist=False, ue_root=False, size=1.0):
    """(key, parent key, head, tail) in world space, metres, Z up, facing -Y, scaled by ``size``:
    arms ``arm_deg`` below horizontal, legs ``leg_deg`` apart, ``spine_n`` spine and ``neck_n``
    neck bones. Keys are SMPL names for the bones that have one; extras get other keys."""
    return [(k, p, tuple(size * np.array(h)), tuple(size * np.array(t)))
            for k, p, h, t in _humanoid(arm_deg, leg_deg, spine_n, neck_n, split, fingers, twist, ue_root)]


def _humanoid(arm_deg, leg_deg, spine_n, neck_n, split, fingers, twist, ue_root):
    out = [("pelvis", "root" if ue_root else None, (0, 0, 0.95), (0, 0, 1.02))]
    if ue_root:  # UE's root at the floor with IK helper bones beside the body
        out.insert(0, ("root", None, (0, 0, 0), (0, 0.2, 0)))
        out += [("ik_foot_root", "root", (0, 0, 0), (0, 0, 0.1)), ("ik_foot_l", "ik_foot_root", (0.1, 0, 0.1),
                                                                   (0.1, -0.1, 0.1)),
                ("ik_foot_r", "ik_foot_root", (-0.1, 0, 0.1), (-0.1, -0.1, 0.1)),
                ("ik_hand_root", "root", (0, 0, 0), (0, 0, 0.1)), ("ik_hand_gun", "ik_hand_root", (-0.6, 0, 1.4),
                                                                     (-0.6, 0, 1.5)),
                ("ik_hand_l", "ik_hand_gun", (0.6, 0, 1.4), (0.6, 0, 1.5))]
    zs = np.linspace(1.02, 1.45, spine_n + 1)
    prev = "pelvis"
    for i in range(spine_n):
        out.append((f"spine{i}", prev, (0, 0, zs[i]), (0, 0, zs[i + 1])))
        prev = f"spine{i}"
    chest = prev
    zn = np.linspace(1.45, 1.58, neck_n + 1)
    for i in range(neck_n):
        out.append((f"neck{i}", prev, (0, 0, zn[i]), (0, 0, zn[i + 1])))
        prev = f"neck{i}"
    out.append(("head", prev, (0, 0, 1.58), (0, 0, 1.78)))
    for side, sx in (("left", 1), ("right", -1)):
        a = math.radians(arm_deg)
        d = np.array([sx * math.cos(a), 0.0, -math.sin(a)])
        s0 = np.array([sx * 0.17, 0.0, 1.43])
        out.append((f"{side}_collar", chest, (sx * 0.02, 0.0, 1.42), tuple(s0)))
        parent, s0 = _long_bones(out, side, f"{side}_collar", s0, d, (("shoulder", 0.28), ("elbow", 0.26)), split,
                                 twist)
        out.append((f"{side}_wrist", parent, tuple(s0), tuple(s0 + 0.09 * d)))
        parent, s0 = f"{side}_wrist", s0 + 0.09 * d
        for i in range(fingers):
            out.append((f"{side}_finger{i}", parent, tuple(s0), tuple(s0 + 0.03 * d)))
            parent, s0 = f"{side}_finger{i}", s0 + 0.03 * d
        g = math.radians(leg_deg)
        dl = np.array([sx * math.sin(g), 0.0, -math.cos(g)])
        h0 = np.array([sx * 0.09, 0.0, 0.93])
        parent, h0 = _long_bones(out, side, "pelvis", h0, dl, (("hip", 0.42), ("knee", 0.42)), split, twist)
        ball = h0 + np.array([0.0, -0.13, -0.06])
        out.append((f"{side}_ankle", parent, tuple(h0), tuple(ball)))
        out.append((f"{side}_foot", f"{side}_ankle", tuple(ball), tuple(ball + np.array([0.0, -0.06, 0.0]))))
    return out


def _long_bones(out, side, parent, p0, d, parts, split, twist):
    """Append a limb's long bones (optionally each in two segments, or with a twist bone beside it)
    from ``p0`` along ``d``; returns the last bone's key and its tail."""
    for key, length in parts:
        p1 = p0 + length * d
        if split:
            mid = (p0 + p1) / 2
            out += [(f"{side}_{key}", parent, tuple(p0), tuple(mid)), (f"{side}_{key}_b", f"{side}_{key}", tuple(mid),
                                                                       tuple(p1))]
            parent = f"{side}_{key}_b"
        else:
            out.append((f"{side}_{key}", parent, tuple(p0), tuple(p1)))
            parent = f"{side}_{key}"
        if twist:
            out.append((f"{side}_{key}_twist", f"{side}_{key}", tuple(p0), tuple((p0 + p1) / 2)))
        p0 = p1
    return parent, p0


def make_rig(name, bones, names, matrix=Matrix.Identity(4), rolls=None, modes=None):
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    bpy.context.scene.collection.objects.link(obj)
    obj.matrix_world = matrix
    inv = matrix.inverted()
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    made, bone_name = {}, {}
    for key, parent, head, tail in bones:
        b = arm.edit_bones.new(names[key])
        b.head, b.tail = inv @ Vector(head), inv @ Vector(tail)
        b.roll = rolls[key] if rolls else 0.0
        if parent:
            b.parent = made[parent]
        made[key], bone_name[key] = b, b.name  # Blender makes duplicate names unique ('bone.001')
    bpy.ops.object.mode_set(mode="OBJECT")
    for key, mode in (modes or {}).items():
        obj.pose.bones[bone_name[key]].rotation_mode = mode
    return obj, bone_name


def mixamo_names(bones):
    table = {"pelvis": "Hips", "spine0": "Spine", "spine1": "Spine1", "spine2": "Spine2", "neck0": "Neck",
             "head": "Head"}
    side_table = {"collar": "Shoulder", "shoulder": "Arm", "elbow": "ForeArm", "wrist": "Hand", "hip": "UpLeg",
                  "knee": "Leg", "ankle": "Foot", "foot": "ToeBase", "finger0": "HandIndex1",
                  "finger1": "HandIndex2"}
    out = {}
    for key, *_ in bones:
        if key in table:
            out[key] = "mixamorig:" + table[key]
        else:
            side, part = key.split("_", 1)
            out[key] = "mixamorig:" + side.capitalize() + side_table[part]
    return out


def rigify_names(bones):
    spine = {"pelvis": "DEF-spine", "spine0": "DEF-spine.001", "spine1": "DEF-spine.002", "spine2": "DEF-spine.003",
             "neck0": "DEF-spine.004", "neck1": "DEF-spine.005", "head": "DEF-spine.006"}
    parts = {"collar": "shoulder", "shoulder": "upper_arm", "elbow": "forearm", "wrist": "hand", "hip": "thigh",
             "knee": "shin", "ankle": "foot", "foot": "toe"}
    out = {}
    for key, *_ in bones:
        if key in spine:
            out[key] = spine[key]
            continue
        side, part = key.split("_", 1)
        s = "L" if side == "left" else "R"
        seg = part.endswith("_b")
        out[key] = f"DEF-{parts[part.removesuffix('_b')]}.{s}" + (".001" if seg else "")
    return out


def ue_names(bones):
    spine = {"pelvis": "pelvis", "head": "head", **{f"spine{i}": f"spine_0{i + 1}" for i in range(5)},
             "neck0": "neck_01", "neck1": "neck_02"}
    parts = {"collar": "clavicle", "shoulder": "upperarm", "elbow": "lowerarm", "wrist": "hand", "hip": "thigh",
             "knee": "calf", "ankle": "foot", "foot": "ball", "finger0": "index_01", "finger1": "index_02",
             "finger2": "index_03"}
    out = {}
    for key, *_ in bones:
        if key in spine or key.startswith(("root", "ik_")):
            out[key] = spine.get(key, key)
            continue
        side, part = key.split("_", 1)
        s = side[0]
        if part.endswith("_twist"):
            out[key] = f"{parts[part.removesuffix('_twist')]}_twist_01_{s}"
        else:
            out[key] = f"{parts[part]}_{s}"
    return out


def mixamo_rig(name="Mixamo"):
    """A Mixamo-like character: (object, {key: bone name})."""
    b = humanoid(45, 0, 3, 1, fingers=2)
    return make_rig(name, b, mixamo_names(b), Matrix.Rotation(math.radians(90), 4, "X") @ Matrix.Scale(0.01, 4))
