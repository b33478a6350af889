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
        s = context.scene.imocap
        row = layout.row()
        row.template_list("IMOCAP_UL_clips", "", s, "clips", s, "clip_index", rows=3)
        col = row.column(align=True)
        col.operator("imocap.add_clips", text="", icon="ADD")
        col.operator("imocap.remove_clip", text="", icon="REMOVE")
        col = layout.column()
        col.prop(s, "reference")
        col.prop(s, "rank")
        col.prop(s, "iterations")
        col.prop(s, "detector")
        col.prop(s, "with_mesh")
        col.prop(s, "unflip")
        col.prop(s, "plant_feet")
        if s.running:
            layout.progress(factor=s.progress, type="BAR", text=s.stage_text)
            layout.operator("imocap.cancel", icon="CANCEL")
        else:
            layout.operator("imocap.capture", icon="REC")
            layout.operator("imocap.batch", icon="FILE_FOLDER")
        layout.operator("imocap.import_result", icon="IMPORT")
        for row in s.batch:
            layout.label(text=f"{row.name}: {row.status} {row.message}"[:80],
                         icon="CHECKMARK" if row.status == "done" else "ERROR" if row.status == "failed" else "TIME")


class IMOCAP_UL_clips(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        import os

        text = os.path.basename(bpy.path.abspath(item.path)) or "(no file)"
        ref = " (reference)" if index == data.reference else ""
        row = layout.row()
        row.label(text=text + ref, icon="FILE_MOVIE")
        if item.frames:
            row.label(text=f"{item.frames} fr, {item.fps:g} fps, {item.width}x{item.height}")
        elif item.status:
            row.label(text=item.status, icon="ERROR")


class IMOCAP_PT_results(bpy.types.Panel):
    bl_idname = "IMOCAP_PT_results"
    bl_label = "Captures"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "iMoCap"
    bl_parent_id = "IMOCAP_PT_main"

    def draw(self, context):
        from ..imocap_blender.scene.build import capture_collections

        layout = self.layout
        captures = capture_collections()
        if not captures:
            layout.label(text="No capture yet: import a result")
            return
        for coll in captures:
            box = layout.box()
            box.label(text=coll.name, icon="ARMATURE_DATA")
            quality = list(coll.get("imocap_quality", []))
            for j, _cam in enumerate(coll["imocap_cameras"]):
                row = box.row(align=True)
                reproj, conf = (list(quality[j]) + [float("nan")] * 2)[:2] if j < len(quality) else (float("nan"),) * 2
                text = f"Clip {j}" + (" (ref)" if j == coll.get("imocap_reference", 0) else "")
                row.label(text=text)
                row.label(text="-" if reproj != reproj else f"{reproj:.1f} px")
                row.label(text="-" if conf != conf else f"sync {conf:.2f}")
                op = row.operator("imocap.view_clip", text="", icon="VIEW_CAMERA")
                op.collection, op.index = coll.name, j


class IMOCAP_UL_bone_map(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        target = context.scene.imocap.retarget.target
        row = layout.row(align=True)
        row.label(text=item.source)
        if target is not None and target.type == "ARMATURE":
            row.prop_search(item, "target", target.data, "bones", text="")
        else:
            row.prop(item, "target", text="")


class IMOCAP_PT_retarget(bpy.types.Panel):
    bl_idname = "IMOCAP_PT_retarget"
    bl_label = "Retarget"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "iMoCap"
    bl_parent_id = "IMOCAP_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        s = context.scene.imocap.retarget
        col = layout.column()
        col.prop(s, "source")
        col.prop(s, "target")
        row = col.row(align=True)
        row.prop(s, "preset")
        row.operator("imocap.retarget_detect", text="", icon="VIEWZOOM")
        col.prop(s, "root_motion")
        col.prop(s, "step")
        if len(s.bone_map) and s.target is not None and s.map_target == s.target.name:
            layout.label(text=f"Bone map ({s.last_preset})")
            layout.template_list("IMOCAP_UL_bone_map", "", s, "bone_map", s, "bone_map_index", rows=6)
            if s.unmapped:
                layout.label(text=f"Unmapped: {s.unmapped}"[:90], icon="INFO")
            row = layout.row(align=True)
            row.prop(s, "preset_name", text="")
            row.operator("imocap.retarget_save_preset", text="Save Preset", icon="PRESET_NEW")
        op = layout.operator("imocap.retarget", icon="ARMATURE_DATA")
        op.root_motion, op.step = s.root_motion, s.step
        row = layout.row(align=True)
        for fmt in ("FBX", "BVH"):
            row.operator("imocap.export_animation", text=f"Export {fmt}", icon="EXPORT").format = fmt


classes = (IMOCAP_UL_clips, IMOCAP_PT_main, IMOCAP_PT_results, IMOCAP_UL_bone_map, IMOCAP_PT_retarget)
