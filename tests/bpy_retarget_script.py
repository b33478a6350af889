"""Run inside the bpy module by tests/test_retarget.py: install the add-on zip, import a capture,
build four target rigs (Mixamo-named in an A-pose with an FBX-style object transform, Rigify-like
deform bones split in segments, UE5-like with a root, IK bones, twist bones and random rolls, and
an unnamed humanoid with Euler rotations), retarget onto each through ``imocap.retarget`` and
measure every frame; then the bad inputs. Prints one JSON line."""

import json
import math
import sys

import bpy
import numpy as np
from mathutils import Matrix

from bench.rigs import humanoid, make_rig, mixamo_rig, rigify_names, ue_names

zip_path, result_path = sys.argv[-2:]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert bpy.ops.imocap.import_result(filepath=result_path, with_mesh=False) == {"FINISHED"}
coll = [c for c in bpy.data.collections if "imocap_armature" in c][0]
source = bpy.data.objects[coll["imocap_armature"]]
rng = np.random.default_rng(3)

LIMB_PAIRS = ("left_hip", "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee", "right_ankle",
              "right_foot", "left_collar", "left_shoulder", "left_elbow", "left_wrist", "right_collar",
              "right_shoulder", "right_elbow", "right_wrist")


def angle_deg(a, b):
    c = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def measure(target, bone_name, truth_map, leg_ratio):
    """Max angle between mapped limb bones over every frame, max hip-height error (m)."""
    scene = bpy.context.scene
    start, end = (int(v) for v in source.animation_data.action.frame_range)
    worst, hip_err, worst_at = 0.0, 0.0, None
    for f in range(start, end + 1):
        scene.frame_set(f)
        for smpl in LIMB_PAIRS:
            if smpl not in truth_map:
                continue
            sp = source.pose.bones[smpl]
            tp = target.pose.bones[bone_name[truth_map[smpl]]]
            ds = source.matrix_world @ sp.tail - source.matrix_world @ sp.head
            dt = target.matrix_world @ tp.tail - target.matrix_world @ tp.head
            a = angle_deg(np.array(ds), np.array(dt))
            if a > worst:
                worst, worst_at = a, [f, smpl]
        hs = (source.matrix_world @ source.pose.bones["pelvis"].head).z - source.matrix_world.translation.z
        ht = (target.matrix_world @ target.pose.bones[bone_name["pelvis"]].head).z - target.matrix_world.translation.z
        hip_err = max(hip_err, abs(ht - leg_ratio * hs))
    return worst, worst_at, hip_err


def leg_length(obj, names_hip_ankle):
    out = []
    for hip, ankle in names_hip_ankle:
        out.append(((obj.matrix_world @ obj.data.bones[ankle].head_local)
                    - (obj.matrix_world @ obj.data.bones[hip].head_local)).length)
    return sum(out) / len(out)


src_leg = leg_length(source, [("left_hip", "left_ankle"), ("right_hip", "right_ankle")])
src_keys_before = {fc.data_path + str(fc.array_index): [tuple(k.co) for k in fc.keyframe_points]
                   for fc in source.animation_data.action.layers[0].strips[0].channelbags[0].fcurves}
out = {"rigs": {}}
ident = {k: k for k in ("pelvis",) + LIMB_PAIRS}
rigs = []
obj, names = mixamo_rig()
rigs.append(("mixamo", obj, names, ident))
b = humanoid(10, 0, 3, 2, split=True, size=0.9)
obj, names = make_rig("RigifyLike", b, rigify_names(b))
rigs.append(("rigify", obj, names, ident))
b = humanoid(35, 5, 5, 2, fingers=3, twist=True, ue_root=True, size=1.15)
rolls = {k: float(rng.uniform(-math.pi, math.pi)) for k, *_ in b}
obj, names = make_rig("UE5Like", b, ue_names(b), Matrix.Translation((2.0, 1.0, 0.0)) @ Matrix.Scale(1.1, 4), rolls)
ue_map = dict(ident, left_foot="left_foot", right_foot="right_foot")
rigs.append(("ue5", obj, names, ue_map))
b = humanoid(0, 0, 2, 1)
keys = [k for k, *_ in b]
obj, names = make_rig("Unnamed", b, {k: "bone" for k in keys}, Matrix.Translation((-2.0, 0.0, 0.0)),
                      modes={k: ("XYZ" if i % 2 else "ZXY") for i, k in enumerate(keys)})
rigs.append(("auto", obj, names, ident))

for expect, target, names, truth_map in rigs:
    rep = {"expected_preset": expect}
    t_leg = leg_length(target, [(names["left_hip"], names["left_ankle"]), (names["right_hip"], names["right_ankle"])])
    r = bpy.ops.imocap.retarget(source=source.name, target=target.name, preset="auto", root_motion=True)
    rep["op"] = sorted(r)
    s = bpy.context.scene.imocap.retarget
    rep["preset_used"] = s.last_preset
    rep["map"] = {m.source: m.target for m in s.bone_map}
    rep["truth"] = {k: names[k] for k in truth_map if k in names}
    rep["action"] = target.animation_data.action.name if target.animation_data and target.animation_data.action else None
    rep["max_angle_deg"], rep["worst_at"], rep["hip_err_m"] = measure(target, names, truth_map, t_leg / src_leg)
    rep["leg_ratio"] = t_leg / src_leg
    out["rigs"][target.name] = rep

# in place: the hips do not travel across the floor
target = rigs[0][1]
bpy.ops.imocap.retarget(source=source.name, target=target.name, preset="mixamo", root_motion=False)
xy = []
for f in (1, 40, 80):
    bpy.context.scene.frame_set(f)
    p = target.matrix_world @ target.pose.bones["mixamorig:Hips"].head
    xy.append([p.x, p.y])
out["in_place_xy"] = xy
rest_hips = target.matrix_world @ target.data.bones["mixamorig:Hips"].head_local
out["rest_hips_xy"] = [rest_hips.x, rest_hips.y]

# bad input: nothing changes
n_actions = len(bpy.data.actions)
me = bpy.data.meshes.new("NotARig")
mesh_obj = bpy.data.objects.new("NotARig", me)
bpy.context.scene.collection.objects.link(mesh_obj)
tail_rig, _ = make_rig("Tail", [("pelvis", None, (0, 0, 0.5), (0, 0.2, 0.5)),
                               ("a", "pelvis", (0, 0.2, 0.5), (0, 0.4, 0.5)),
                               ("b", "a", (0, 0.4, 0.5), (0, 0.6, 0.5))], {"pelvis": "t0", "a": "t1", "b": "t2"})
out["bad"] = {}
for name in ("NotARig", "Tail"):
    try:
        r = bpy.ops.imocap.retarget(source=source.name, target=name)
        out["bad"][name] = {"result": sorted(r)}
    except RuntimeError as e:  # the operator's ERROR report is raised in background mode
        out["bad"][name] = {"error": str(e)}
    out["bad"][name]["animated"] = bool(bpy.data.objects[name].animation_data)
out["actions_after_bad"] = len(bpy.data.actions) - n_actions
src_keys_after = {fc.data_path + str(fc.array_index): [tuple(k.co) for k in fc.keyframe_points]
                  for fc in source.animation_data.action.layers[0].strips[0].channelbags[0].fcurves}
out["source_untouched"] = src_keys_after == src_keys_before

# the Python API, and export through Blender's own exporters
from bl_ext.user_default.imocap.imocap_blender.retarget import retarget  # noqa: E402

act = retarget(source, rigs[2][1], preset="ue5", frames=range(1, 30, 2))
out["api_action"] = [act.name, sorted({int(k.co[0]) for fc in act.layers[0].strips[0].channelbags[0].fcurves
                                       for k in fc.keyframe_points})]
out["export"] = {}
import os  # noqa: E402
import tempfile  # noqa: E402

tmp = tempfile.mkdtemp()
for fmt in ("FBX", "BVH"):
    path = os.path.join(tmp, f"anim.{fmt.lower()}")
    r = bpy.ops.imocap.export_animation(filepath=path, armature=rigs[0][1].name, format=fmt)
    out["export"][fmt] = [sorted(r), os.path.getsize(path) if os.path.exists(path) else 0,
                          sorted(os.listdir(tmp))]
print("RESULT " + json.dumps(out))
