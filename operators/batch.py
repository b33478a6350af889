# SPDX-License-Identifier: GPL-3.0-or-later
"""Batch capture: every capture in a folder (sub-folders of clips, or the loose clips), one after
another in the background; each writes imocap_result.npz beside its clips; failures are listed,
not fatal."""

import os

import bpy

from ..imocap_blender.preferences import NO_WORKER, addon_preferences, resolve_worker_python


class IMOCAP_OT_batch(bpy.types.Operator):
    """Capture every sub-folder of clips in a folder, one after another (Esc cancels)"""

    bl_idname = "imocap.batch"
    bl_label = "Batch Capture"
    bl_options = {"REGISTER"}

    directory: bpy.props.StringProperty(subtype="DIR_PATH")
    import_results: bpy.props.BoolProperty(name="Import results", default=True,
                                           description="Import each finished capture into the scene")
    save_blend: bpy.props.BoolProperty(name="Save .blend per capture", default=False,
                                       description="Also write each finished capture as its own .blend beside its "
                                                   "clips (imocap_result.blend)")
    _job = None
    _timer = None

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        from ..imocap_blender.batch import BatchJob
        from ..imocap_blender.worker import capture_args

        s = context.scene.imocap
        prefs = addon_preferences(context)
        python = resolve_worker_python(context)
        if not python:
            self.report({"ERROR"}, NO_WORKER)
            return {"CANCELLED"}
        folder = bpy.path.abspath(self.directory)

        def args(clips, result):
            return capture_args(clips, result, s.rank, s.iterations, -1, s.detector, prefs.device if prefs else "auto",
                                unflip=s.unflip, plant_feet=s.plant_feet)

        try:
            self._job = BatchJob.for_folder(folder, args, python)
        except OSError as e:
            self.report({"ERROR"}, f"cannot read {folder}: {e}")
            return {"CANCELLED"}
        if not self._job.items:
            self.report({"ERROR"}, f"no clips in {folder} or its sub-folders")
            return {"CANCELLED"}
        s.batch.clear()
        for item in self._job.items:
            s.batch.add().name = item.name
        s.running = True
        if bpy.app.background or not context.window_manager.windows:
            self._job.wait()
            return self._finish(context)
        self._timer = context.window_manager.event_timer_add(0.2, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" or not context.scene.imocap.running:
            self._job.cancel()
        elif event.type == "TIMER":
            self._job.poll()
            self._sync_status(context)
        if self._job.finished:
            context.window_manager.event_timer_remove(self._timer)
            return self._finish(context)
        return {"PASS_THROUGH"}

    def _sync_status(self, context):
        for row, item in zip(context.scene.imocap.batch, self._job.items):
            row.status, row.message = item.status, item.message

    def _finish(self, context):
        from .._core import load_result
        from ..imocap_blender.scene.build import import_capture, remove_capture, write_capture_blend

        s = context.scene.imocap
        s.running = False
        self._sync_status(context)
        done = [i for i in self._job.items if i.status == "done"]
        if self.import_results or self.save_blend:
            for item in done:
                try:
                    coll = import_capture(load_result(item.result), name=f"iMoCap {item.name}",
                                          with_mesh=s.with_mesh, source_path=item.result,
                                          set_scene=self.import_results).collection
                except Exception as e:  # noqa: BLE001 - reported; that capture was rolled back
                    self.report({"WARNING"}, f"{item.name}: could not import {item.result}: {e}")
                    continue
                try:
                    if self.save_blend:
                        write_capture_blend(coll, os.path.splitext(item.result)[0] + ".blend")
                except (OSError, RuntimeError) as e:
                    self.report({"WARNING"}, f"{item.name}: could not write its .blend: {e}")
                finally:
                    if not self.import_results:
                        remove_capture(coll)
        for item in self._job.items:
            if item.status != "done":
                self.report({"WARNING"}, f"{item.name}: {item.message}")
        self.report({"INFO"}, f"batch: {len(done)} of {len(self._job.items)} captures done")
        return {"FINISHED"} if done else {"CANCELLED"}


classes = (IMOCAP_OT_batch,)
