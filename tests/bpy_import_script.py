"""Run inside the bpy module by tests/test_scene.py: install the add-on zip in a sandbox, import a
CaptureResult, and print everything the test checks as one JSON line."""

import json
import sys

import bpy
from bpy_extras.object_utils import world_to_camera_view

zip_path, result_path, frames_arg, blend_path = sys.argv[-4:]
frames = json.loads(frames_arg)
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
out = {}
r = bpy.ops.imocap.import_result(filepath=result_path)
out["import"] = sorted(r)
coll = [c for c in bpy.data.collections if "imocap_armature" in c][0]
out["collection"] = coll.name
arm = bpy.data.objects[coll["imocap_armature"]]
out["bones"] = [b.name for b in arm.data.bones]
out["rest_heads"] = {b.name: list(b.head_local) for b in arm.data.bones}
out["parents"] = {b.name: b.parent.name if b.parent else None for b in arm.data.bones}
out["mesh"] = [o.name for o in coll.objects if o.type == "MESH"]
# as imported (the consensus motion on the timeline), each plate starts at its clip's place on it
out["plate_starts"] = [bpy.data.objects[n].data.background_images[0].clip.frame_start for n in coll["imocap_cameras"]]
scene = bpy.context.scene


def sample(tag):
    res = {"fps": scene.render.fps / scene.render.fps_base, "range": [scene.frame_start, scene.frame_end],
           "camera": scene.camera.name, "joints": {}, "pixels": {}}
    for f in frames:
        scene.frame_set(f + 1)
        dg = bpy.context.evaluated_depsgraph_get()
        a = arm.evaluated_get(dg)
        heads = {pb.name: list(a.matrix_world @ pb.head) for pb in a.pose.bones}
        res["joints"][str(f)] = heads
        cam = scene.camera
        w, h = scene.render.resolution_x, scene.render.resolution_y
        px = {}
        for p in a.pose.bones:
            v = world_to_camera_view(scene, cam, a.matrix_world @ p.head)
            px[p.name] = [v.x * w, (1 - v.y) * h]
        res["pixels"][str(f)] = px
    return res


out["consensus"] = sample("consensus")
ch = arm.animation_data.action
out["action"] = ch.name
from bpy_extras.anim_utils import action_get_channelbag_for_slot  # noqa: E402

bag = action_get_channelbag_for_slot(ch, arm.animation_data.action_slot)
keys = {}
for fc in bag.fcurves:
    keys[f"{fc.data_path}[{fc.array_index}]"] = [fc.evaluate(f + 1) for f in frames]
out["keys"] = keys
# contact curves hold their value between keys (constant interpolation): sampled half a frame on
out["contact_steps"] = {fc.data_path[2:-2]: [fc.evaluate(f + 1.5) for f in frames] for fc in bag.fcurves
                        if fc.data_path.startswith('["imocap_')}
out["bone_rest"] = {b.name: [list(r)[:3] for r in list(b.matrix_local)[:3]] for b in arm.data.bones}
out["clips"] = []
for j in range(len(coll["imocap_cameras"])):
    bpy.ops.imocap.view_clip(collection=coll.name, index=j)
    cam = scene.camera
    bg = cam.data.background_images
    info = sample(f"clip{j}")
    info.update(lens=cam.data.lens, shift=[cam.data.shift_x, cam.data.shift_y],
                plate=bpy.path.abspath(bg[0].clip.filepath) if len(bg) and bg[0].clip else None,
                flip_x=bool(bg[0].use_flip_x) if len(bg) else None,
                plate_start=bg[0].clip.frame_start if len(bg) and bg[0].clip else None,
                resolution=[scene.render.resolution_x, scene.render.resolution_y],
                action=arm.animation_data.action.name)
    out["clips"].append(info)
# a second import makes a second collection
bpy.ops.imocap.import_result(filepath=result_path, with_mesh=False)
out["collections"] = sorted(c.name for c in bpy.data.collections if "imocap_armature" in c)
# a broken file: an error, no change
n_objects = len(bpy.data.objects)
try:
    bpy.ops.imocap.import_result(filepath=result_path + ".missing.npz")
    out["bad_import"] = "no error"
except RuntimeError as e:
    out["bad_import"] = str(e)
out["objects_unchanged"] = len(bpy.data.objects) == n_objects
# save and reload
bpy.ops.imocap.view_clip(collection=coll.name, index=1)
coll_name = coll.name
bpy.ops.wm.save_as_mainfile(filepath=blend_path)
bpy.ops.wm.open_mainfile(filepath=blend_path)
scene = bpy.context.scene
arm = bpy.data.objects[bpy.data.collections[coll_name]["imocap_armature"]]
out["reloaded"] = sample("reloaded")
out["reloaded_action"] = arm.animation_data.action.name
print("RESULT " + json.dumps(out))
