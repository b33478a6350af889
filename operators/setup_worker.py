# SPDX-License-Identifier: GPL-3.0-or-later
"""Set up the worker environment: a venv in the add-on's user folder with the engine's
requirements (several GB: torch, ultralytics, smplx, OpenCV). Blender's own Python is untouched."""

import os

import bpy

from ..imocap_blender.addon import ADDON_PACKAGE, ADDON_ROOT
from ..imocap_blender.preferences import addon_preferences


class IMOCAP_OT_setup_worker(bpy.types.Operator):
    """Create the capture engine's Python environment in the add-on's user folder (downloads several GB)"""

    bl_idname = "imocap.setup_worker"
    bl_label = "Set Up Worker Environment"

    requirements: bpy.props.StringProperty(name="Requirements", subtype="FILE_PATH",
                                           description="Requirements file (default: the add-on's requirements.txt)")
    _job = None
    _timer = None

    def execute(self, context):
        from ..imocap_blender.setup_env import SetupJob

        try:
            user = bpy.utils.extension_path_user(ADDON_PACKAGE, create=True)
        except (ValueError, RuntimeError):
            user = os.path.join(bpy.utils.user_resource("SCRIPTS"), "imocap_worker")
        req = bpy.path.abspath(self.requirements) if self.requirements else str(ADDON_ROOT / "requirements.txt")
        self._job = SetupJob(os.path.join(user, "venv"), req).start()
        if bpy.app.background or not context.window_manager.windows:
            self._job.wait()
            return self._done(context)
        self._timer = context.window_manager.event_timer_add(0.5, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "TIMER":
            context.workspace.status_text_set(f"iMoCap set-up: {self._job.last_line}")
            if self._job.state != "running":
                context.window_manager.event_timer_remove(self._timer)
                context.workspace.status_text_set(None)
                return self._done(context)
        return {"PASS_THROUGH"}

    def _done(self, context):
        if self._job.state != "done":
            self.report({"ERROR"}, self._job.error or "set-up failed")
            return {"CANCELLED"}
        prefs = addon_preferences(context)
        if prefs:
            prefs.worker_python = str(self._job.venv_python)
        self.report({"INFO"}, f"worker environment ready: {self._job.venv_python} (log: {self._job.log_path})")
        return {"FINISHED"}


classes = (IMOCAP_OT_setup_worker,)
