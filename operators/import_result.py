# SPDX-License-Identifier: GPL-3.0-or-later
"""Import a CaptureResult file: armature, actions, body mesh, cameras with plates."""

import os

import bpy
from bpy_extras.io_utils import ImportHelper

from .._core import ResultFormatError, load_result


class IMOCAP_OT_import_result(bpy.types.Operator, ImportHelper):
    """Import an iMoCap capture result (.npz) into a new collection"""

    bl_idname = "imocap.import_result"
    bl_label = "Import iMoCap Result"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".npz"
    filter_glob: bpy.props.StringProperty(default="*.npz", options={"HIDDEN"})
    with_mesh: bpy.props.BoolProperty(name="Body mesh", description="Also create the skinned body mesh",
                                      default=True)

    def execute(self, context):
        from ..imocap_blender.scene.build import import_capture

        path = bpy.path.abspath(self.filepath)
        try:
            result = load_result(path)  # read and check everything before touching the scene
        except ResultFormatError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        name = f"iMoCap {os.path.splitext(os.path.basename(path))[0]}"
        try:
            rep = import_capture(result, name=name, with_mesh=self.with_mesh, source_path=path)
        except Exception as e:  # noqa: BLE001 - reported to the user; the scene was rolled back
            self.report({"ERROR"}, f"import of {path} failed: {e}")
            return {"CANCELLED"}
        for w in rep.warnings:
            self.report({"WARNING"}, w)
        context.scene.imocap.result_path = path
        self.report({"INFO"}, f"imported {len(result.clips)} clips, {result.motion.frames} frames into "
                              f"{rep.collection.name}")
        return {"FINISHED"}


classes = (IMOCAP_OT_import_result,)
