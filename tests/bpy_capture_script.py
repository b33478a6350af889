"""Run inside the bpy module by tests/test_capture_operator.py: the add-on's capture operator on
real clips through its blocking path, a failing capture, and the panels drawn on a stand-in layout."""

import json
import sys

import bpy

zip_path, worker, clips_json, out_path, bad_clip = sys.argv[-5:]
clips = json.loads(clips_json)
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
mod = "bl_ext.user_default.imocap"
prefs = bpy.context.preferences.addons[mod].preferences
prefs.worker_python = worker
s = bpy.context.scene.imocap
res = {}
# a capture that fails (not a video): an error, the scene unchanged
s.clips.add().path = bad_clip
n_objects = len(bpy.data.objects)
try:
    bpy.ops.imocap.capture(output=out_path + ".bad.npz")
    res["bad"] = "no error"
except RuntimeError as e:
    res["bad"] = str(e)
res["bad_unchanged"] = len(bpy.data.objects) == n_objects and not s.running
s.clips.clear()
import os  # noqa: E402
bpy.ops.imocap.add_clips(directory=os.path.dirname(clips[0]), files=[{"name": os.path.basename(c)} for c in clips])
res["clip_rows"] = [[c.path, c.frames, c.fps, c.width, c.height, c.status] for c in s.clips]
s.iterations = 1
r = bpy.ops.imocap.capture(output=out_path)
res["capture"] = sorted(r)
colls = [c for c in bpy.data.collections if "imocap_armature" in c]
res["collections"] = len(colls)
res["cameras"] = len(colls[0]["imocap_cameras"]) if colls else 0
res["plates"] = sorted(bpy.path.abspath(o.data.background_images[0].clip.filepath)
                       for o in bpy.data.objects if o.type == "CAMERA" and len(o.data.background_images))
res["result_path"] = s.result_path


class Recorder:
    """Stands in for a UILayout: records operators and properties drawn."""

    def __init__(self, log):
        self.log = log

    def __getattr__(self, name):
        if name in ("row", "column", "box", "split", "column_flow", "grid_flow"):
            return lambda *a, **k: Recorder(self.log)
        if name == "operator":
            def op(idname, **k):
                self.log.append(idname)

                class Props:
                    pass

                return Props()
            return op
        return lambda *a, **k: None


log = []
panels = sys.modules[mod].panels.main


class Ctx:
    scene = bpy.context.scene


s.retarget.target = bpy.data.objects[colls[0]["imocap_armature"]]  # a stand-in target: shows the map rows
bpy.ops.imocap.retarget_detect()
for cls in (panels.IMOCAP_PT_main, panels.IMOCAP_PT_results, panels.IMOCAP_PT_retarget):
    fake = type("P", (), {"layout": Recorder(log)})()
    cls.draw(fake, Ctx)
s.running = True
fake = type("P", (), {"layout": Recorder(log)})()
panels.IMOCAP_PT_main.draw(fake, Ctx)
s.running = False
# batch over a folder: the good clips' folder and a folder with a broken clip
import os  # noqa: E402
batch_dir = os.path.dirname(os.path.dirname(bad_clip))  # holds good/ and bad/
scene_before = [bpy.context.scene.camera.name if bpy.context.scene.camera else None, bpy.context.scene.frame_end]
n_objects = len(bpy.data.objects)
res["batch"] = sorted(bpy.ops.imocap.batch(directory=batch_dir, import_results=False, save_blend=True))
# not imported: the scene is as it was (its own .blend was written from a capture removed again)
res["batch_left_scene_alone"] = (scene_before == [bpy.context.scene.camera.name if bpy.context.scene.camera
                                                  else None, bpy.context.scene.frame_end]
                                 and len(bpy.data.objects) == n_objects)
res["batch_rows"] = [[r.name, r.status, r.message] for r in s.batch]
fake = type("P", (), {"layout": Recorder(log)})()
panels.IMOCAP_PT_main.draw(fake, Ctx)  # with batch rows listed
res["panel_operators"] = sorted(set(log))
# the worker set-up, with a tiny requirements file (the real one downloads several GB)
req = out_path + ".req.txt"
open(req, "w").write("# nothing\n")
res["setup"] = sorted(bpy.ops.imocap.setup_worker(requirements=req))
res["worker_after_setup"] = prefs.worker_python
print("RESULT " + json.dumps(res))
