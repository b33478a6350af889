# SPDX-License-Identifier: GPL-3.0-or-later
"""Add-on preferences: machine-level paths (worker interpreter, body model, detector weights)."""

import bpy

from .addon import ADDON_PACKAGE


class IMOCAP_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_PACKAGE

    worker_python: bpy.props.StringProperty(
        name="Worker Python",
        description="Python interpreter of the capture engine's environment (torch, ultralytics, smplx); "
                    "empty: the environment the add-on sets up in its user folder",
        subtype="FILE_PATH", default="")
    body_model: bpy.props.StringProperty(
        name="Body model",
        description="SMPL-layout body model file (.npz open body or a licensed SMPL_NEUTRAL.pkl); "
                    "empty: the bundled open body",
        subtype="FILE_PATH", default="")
    detector_weights: bpy.props.StringProperty(
        name="Detector weights",
        description="YOLO-pose weights (.pt); empty: yolo11n-pose from the worker environment",
        subtype="FILE_PATH", default="")
    device: bpy.props.EnumProperty(
        name="Device",
        items=(("auto", "Auto", "CUDA when available, else CPU"), ("cpu", "CPU", ""), ("cuda", "CUDA", "")),
        default="auto")
    cache_dir: bpy.props.StringProperty(
        name="Cache folder", description="Where detections are cached; empty: beside the outputs",
        subtype="DIR_PATH", default="")

    def draw(self, context):
        layout = self.layout
        for name in ("worker_python", "body_model", "detector_weights", "device", "cache_dir"):
            layout.prop(self, name)
        layout.operator("imocap.setup_worker", icon="CONSOLE")


def addon_preferences(context):
    """This add-on's preferences, or None where it is not enabled as such (e.g. scripts)."""
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return addon.preferences if addon else None


def resolve_worker_python(context) -> str | None:
    """The worker's interpreter: the preference, $IMOCAP_WORKER_PYTHON, or the set-up venv."""
    from .worker import worker_python

    prefs = addon_preferences(context)
    try:
        user_dir = bpy.utils.extension_path_user(ADDON_PACKAGE, create=False)
    except (ValueError, RuntimeError):
        user_dir = None
    return worker_python(prefs.worker_python if prefs else "", user_dir)


NO_WORKER = "no worker Python: set one in the add-on preferences or run 'Set up worker environment'"

classes = (IMOCAP_AP_preferences,)
register, unregister = bpy.utils.register_classes_factory(classes)
