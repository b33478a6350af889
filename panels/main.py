# SPDX-License-Identifier: GPL-3.0-or-later
"""The main iMoCap panel in the 3D View sidebar."""

import bpy


class IMOCAP_PT_main(bpy.types.Panel):
    bl_idname = "IMOCAP_PT_main"
    bl_label = "iMoCap"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "iMoCap"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.imocap
        col = layout.column()
        col.prop(settings, "rank")
        col.prop(settings, "iterations")
        col.prop(settings, "result_path")


classes = (IMOCAP_PT_main,)
