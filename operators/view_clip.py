# SPDX-License-Identifier: GPL-3.0-or-later
"""Look through one clip's camera, with its plate and its own motion."""

import bpy


class IMOCAP_OT_view_clip(bpy.types.Operator):
    """View through this clip's camera: its plate, frame rate, range and the motion fitted to it"""

    bl_idname = "imocap.view_clip"
    bl_label = "View Clip"
    bl_options = {"REGISTER", "UNDO"}

    collection: bpy.props.StringProperty(name="Capture", description="The capture's collection")
    index: bpy.props.IntProperty(name="Clip", min=0)

    @classmethod
    def poll(cls, context):
        from ..imocap_blender.scene.build import capture_collections

        if not capture_collections():
            cls.poll_message_set("Import or capture a result first")
            return False
        return True

    def execute(self, context):
        from ..imocap_blender.scene.build import view_clip

        coll = bpy.data.collections.get(self.collection)
        if coll is None or "imocap_armature" not in coll:
            self.report({"ERROR"}, f"no iMoCap capture named {self.collection!r}")
            return {"CANCELLED"}
        try:
            view_clip(coll, self.index)
        except (IndexError, KeyError) as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        for area in context.screen.areas if context.screen else ():
            if area.type == "VIEW_3D":
                area.spaces.active.region_3d.view_perspective = "CAMERA"
        return {"FINISHED"}


classes = (IMOCAP_OT_view_clip,)
