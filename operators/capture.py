# SPDX-License-Identifier: GPL-3.0-or-later
"""Capture: run the engine on the clip list in a worker subprocess and import its result.

Modal with live progress in the interface (ESC cancels: the worker gets SIGINT and the scene is
left untouched); blocking in background mode (``blender -b``, the bpy module)."""

import os
import time

import bpy

from ..imocap_blender.preferences import NO_WORKER, addon_preferences, resolve_worker_python


class IMOCAP_OT_capture(bpy.types.Operator):
    """Capture the performer's motion from the listed clips (runs in the background; Esc cancels)"""

    bl_idname = "imocap.capture"
    bl_label = "Capture"
    bl_options = {"REGISTER"}

    output: bpy.props.StringProperty(name="Result file", subtype="FILE_PATH",
                                     description="Where to write the CaptureResult (default: beside the first clip)")

    _runner = None
    _timer = None
    _out = ""

    @classmethod
    def poll(cls, context):
        s = context.scene.imocap
        if s.running:
            cls.poll_message_set("A capture is running")
            return False
        if not len(s.clips):
            cls.poll_message_set("Add clips first")
            return False
        return True

    def _start(self, context) -> bool:
        from ..imocap_blender.runner import WorkerRunner
        from ..imocap_blender.worker import capture_args

        s = context.scene.imocap
        clips = [bpy.path.abspath(c.path) for c in s.clips]
        missing = [c for c in clips if not os.path.isfile(c)]
        if missing:
            self.report({"ERROR"}, f"clip not found: {missing[0]}")
            return False
        prefs = addon_preferences(context)
        python = resolve_worker_python(context)
        if not python:
            self.report({"ERROR"}, NO_WORKER)
            return False
        self._out = bpy.path.abspath(self.output) if self.output else os.path.join(
            os.path.dirname(clips[0]), f"imocap_{time.strftime('%Y%m%d-%H%M%S')}.npz")
        reference = -1 if s.reference < 0 else min(s.reference, len(clips) - 1)
        args = capture_args(clips, self._out, s.rank, s.iterations, reference, s.detector,
                            prefs.device if prefs else "auto", bpy.path.abspath(prefs.body_model) if prefs else "",
                            unflip=s.unflip, plant_feet=s.plant_feet)
        self._runner = WorkerRunner(args, python=python).start()
        if self._runner.state == "failed":
            self.report({"ERROR"}, self._runner.error)
            return False
        s.running, s.progress, s.stage_text = True, 0.0, "starting..."
        return True

    def _update(self, context) -> None:
        s = context.scene.imocap
        self._runner.poll()
        s.progress = self._runner.fraction
        s.stage_text = self._runner.stage_text
        for area in context.screen.areas if context.screen else ():
            if area.type == "VIEW_3D":
                area.tag_redraw()

    def _finish(self, context) -> set:
        from .._core import ResultFormatError, load_result
        from ..imocap_blender.scene.build import import_capture
        from ..imocap_blender.worker import timeline_note

        s = context.scene.imocap
        s.running = False
        r = self._runner
        if r.state == "cancelled":
            self.report({"WARNING"}, "capture cancelled; the scene is unchanged")
            return {"CANCELLED"}
        if r.state != "done":
            self.report({"ERROR"}, f"capture failed: {r.error}")
            return {"CANCELLED"}
        try:
            result = load_result(self._out)
            rep = import_capture(result, name=f"iMoCap {os.path.splitext(os.path.basename(self._out))[0]}",
                                 with_mesh=s.with_mesh, source_path=self._out)
        except (ResultFormatError, Exception) as e:  # noqa: BLE001 - reported; the scene was rolled back
            self.report({"ERROR"}, f"could not import {self._out}: {e}")
            return {"CANCELLED"}
        s.result_path = self._out
        for w in rep.warnings + list(r.summary.get("warnings", [])):
            self.report({"WARNING"}, w)
        note = timeline_note(r.summary)
        if note:
            self.report({"INFO"}, note)
        self.report({"INFO"}, f"captured {len(result.clips)} clips into {rep.collection.name}")
        return {"FINISHED"}

    def execute(self, context):
        if not self._start(context):
            return {"CANCELLED"}
        if bpy.app.background or not context.window_manager.windows:
            self._runner.wait(on_progress=lambda p: None)
            return self._finish(context)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" or not context.scene.imocap.running:
            self._runner.cancel()
            return self._end(context)
        if event.type == "TIMER":
            self._update(context)
            if self._runner.state != "running":
                return self._end(context)
        return {"PASS_THROUGH"}

    def _end(self, context):
        context.window_manager.event_timer_remove(self._timer)
        return self._finish(context)


class IMOCAP_OT_cancel(bpy.types.Operator):
    """Stop the running capture (the scene stays as it was)"""

    bl_idname = "imocap.cancel"
    bl_label = "Cancel Capture"

    @classmethod
    def poll(cls, context):
        if not context.scene.imocap.running:
            cls.poll_message_set("No capture is running")
            return False
        return True

    def execute(self, context):
        context.scene.imocap.running = False  # the modal operator sees it and cancels its worker
        return {"FINISHED"}


classes = (IMOCAP_OT_capture, IMOCAP_OT_cancel)
