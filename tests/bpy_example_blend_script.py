"""Run inside the bpy module by tests/test_example_blend.py: open the .blend the main command
wrote, and per clip look through its camera at a few frames, printing the armature's joints in
pixels, the plate, the actions. One JSON line."""

import json
import os
import sys

import bpy
from bpy_extras.object_utils import world_to_camera_view

from imocap_blender.scene.build import capture_collections, view_clip

blend, frames_arg = sys.argv[-2:]
bpy.ops.wm.open_mainfile(filepath=blend)
coll = capture_collections()[0]
arm = bpy.data.objects[coll["imocap_armature"]]
out = {"consensus": coll["imocap_consensus_action"], "assigned": arm.animation_data.action.name,
       "mesh": [o.name for o in coll.objects if o.type == "MESH"], "clips": []}
scene = bpy.context.scene
for j, cam_name in enumerate(coll["imocap_cameras"]):
    view_clip(coll, j)
    cam = bpy.data.objects[cam_name]
    bg = cam.data.background_images
    info = {"plate": os.path.normpath(bpy.path.abspath(bg[0].clip.filepath)) if len(bg) and bg[0].clip else None,
            "action": arm.animation_data.action.name, "pixels": {}}
    w, h = scene.render.resolution_x, scene.render.resolution_y
    for f in json.loads(frames_arg)[j]:
        scene.frame_set(f + 1)
        px = {}
        for pb in arm.pose.bones:
            v = world_to_camera_view(scene, cam, arm.matrix_world @ pb.head)
            px[pb.name] = [v.x * w, (1 - v.y) * h]
        info["pixels"][str(f)] = px
    out["clips"].append(info)
print("RESULT " + json.dumps(out))
