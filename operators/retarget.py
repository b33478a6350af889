# SPDX-License-Identifier: GPL-3.0-or-later
"""Retarget a capture onto the user's rig: detect/edit/save the bone map, bake the action."""

import bpy


def _source(context, name: str):
    """The named armature, else the panel's source, else the newest capture's armature."""
    from ..imocap_blender.scene.build import capture_collections

    if name:
        return bpy.data.objects.get(name)
    s = context.scene.imocap.retarget
    if s.source:
        return s.source
    caps = capture_collections()
    return bpy.data.objects.get(caps[-1]["imocap_armature"]) if caps else None


def _target(context, name: str):
    return bpy.data.objects.get(name) if name else context.scene.imocap.retarget.target


def _store_map(settings, target, bone_map: dict, used: str) -> None:
    from ..imocap_blender.retarget.mapping import SMPL_BONES

    settings.bone_map.clear()
    for k in SMPL_BONES:
        item = settings.bone_map.add()
        item.source, item.target = k, bone_map.get(k, "")
    settings.map_target, settings.last_preset = target.name, used
    settings.unmapped = ", ".join(k for k in SMPL_BONES if k not in bone_map)


def _panel_map(settings, target) -> dict | None:
    """The panel's (possibly edited) map when it was made for this target."""
    if settings.map_target != target.name or not len(settings.bone_map):
        return None
    return {item.source: item.target for item in settings.bone_map}


class IMOCAP_OT_retarget(bpy.types.Operator):
    """Retarget the captured motion onto the target armature as a new action (the source is left untouched)"""

    bl_idname = "imocap.retarget"
    bl_label = "Retarget"
    bl_options = {"REGISTER", "UNDO"}

    source: bpy.props.StringProperty(name="Source", description="iMoCap armature (default: the panel's)")
    target: bpy.props.StringProperty(name="Target", description="Target armature (default: the panel's)")
    preset: bpy.props.StringProperty(name="Bone map", default="", description="Preset key or 'auto' "
                                     "(default: the panel's choice, and its edited map)")
    root_motion: bpy.props.BoolProperty(name="Root motion", default=True)
    step: bpy.props.IntProperty(name="Key every", default=1, min=1)

    @classmethod
    def poll(cls, context):
        if context.scene.imocap.retarget.target is None and not _source(context, ""):
            cls.poll_message_set("Import a capture and pick a target armature")
            return False
        return True

    def execute(self, context):
        from ..imocap_blender.retarget.bake import RetargetError, retarget, source_frames

        settings = context.scene.imocap.retarget
        source, target = _source(context, self.source), _target(context, self.target)
        if source is None or target is None:
            missing = "source" if source is None else "target"
            self.report({"ERROR"}, f"no {missing} armature: pick one in the iMoCap panel (Retarget)")
            return {"CANCELLED"}
        preset = self.preset or settings.preset
        overrides = None if self.preset else _panel_map(settings, target)
        report = {}
        try:
            frames = None
            if self.step > 1 and source.type == "ARMATURE" and source.animation_data and source.animation_data.action:
                frames = source_frames(source)[::self.step]
            action = retarget(source, target, preset=preset, frames=frames, root_motion=self.root_motion,
                              overrides=overrides, report=report)
        except RetargetError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except ValueError as e:  # a bone map that does not fit (MappingError)
            self.report({"ERROR"}, f"{target.name}: {e}")
            return {"CANCELLED"}
        _store_map(settings, target, report["bone_map"], report["preset"])
        msg = f"retargeted {report['frames']} frames onto {target.name} as '{action.name}' (map: {report['preset']})"
        if report["source_unmapped"]:
            msg += f"; no target for {', '.join(report['source_unmapped'])}"
        self.report({"INFO"}, msg)
        return {"FINISHED"}


class IMOCAP_OT_retarget_detect(bpy.types.Operator):
    """Fill the bone map for the target armature from the chosen preset (or automatically)"""

    bl_idname = "imocap.retarget_detect"
    bl_label = "Detect Bone Map"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        t = context.scene.imocap.retarget.target
        if t is None or t.type != "ARMATURE":
            cls.poll_message_set("Pick a target armature first")
            return False
        return True

    def execute(self, context):
        from ..imocap_blender.retarget.bake import skeleton
        from ..imocap_blender.retarget.mapping import MappingError, resolve_map
        from ..imocap_blender.retarget.presets_user import all_presets

        s = context.scene.imocap.retarget
        try:
            bone_map, used = resolve_map(skeleton(s.target)[0], s.preset, all_presets())
        except MappingError as e:
            self.report({"ERROR"}, f"{s.target.name}: {e}")
            return {"CANCELLED"}
        _store_map(s, s.target, bone_map, used)
        self.report({"INFO"}, f"{len(bone_map)} bones mapped ({used})")
        return {"FINISHED"}


class IMOCAP_OT_retarget_save_preset(bpy.types.Operator):
    """Save the bone map as a preset (in your user folder) for rigs named like this one"""

    bl_idname = "imocap.retarget_save_preset"
    bl_label = "Save Bone Map Preset"

    name: bpy.props.StringProperty(name="Name", default="")

    @classmethod
    def poll(cls, context):
        if not len(context.scene.imocap.retarget.bone_map):
            cls.poll_message_set("Detect or retarget first: there is no bone map to save")
            return False
        return True

    def execute(self, context):
        from ..imocap_blender.retarget.presets_user import save_preset

        s = context.scene.imocap.retarget
        try:
            path = save_preset(self.name or s.preset_name, {i.source: i.target for i in s.bone_map if i.target})
        except (OSError, ValueError) as e:
            self.report({"ERROR"}, f"preset not saved: {e}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"saved {path}")
        return {"FINISHED"}


class IMOCAP_OT_export_animation(bpy.types.Operator):
    """Write an armature's animation to FBX or BVH with Blender's own exporters (game-engine axes:
    forward -Z, up Y, no leaf bones)"""

    bl_idname = "imocap.export_animation"
    bl_label = "Export Animation"

    filepath: bpy.props.StringProperty(subtype="FILE_PATH")
    armature: bpy.props.StringProperty(name="Armature", description="Default: the retarget target, else the source")
    format: bpy.props.EnumProperty(name="Format", items=[("FBX", "FBX", "Unreal, Unity, Godot"),
                                                         ("BVH", "BVH", "Motion only, any package")])

    def invoke(self, context, event):
        if not self.filepath:
            self.filepath = f"animation.{self.format.lower()}"
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        from ..imocap_blender.export import export_animation

        obj = bpy.data.objects.get(self.armature) if self.armature else (
            _target(context, "") or _source(context, ""))
        if obj is None or obj.type != "ARMATURE":
            self.report({"ERROR"}, f"no armature named {self.armature!r} to export")
            return {"CANCELLED"}
        if not self.filepath:
            self.report({"ERROR"}, "no file given")
            return {"CANCELLED"}
        try:
            path = export_animation(context, obj, bpy.path.abspath(self.filepath), self.format)
        except (OSError, RuntimeError, ValueError) as e:
            self.report({"ERROR"}, f"export of {obj.name} failed: {e}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"wrote {path}")
        return {"FINISHED"}


classes = (IMOCAP_OT_retarget, IMOCAP_OT_retarget_detect, IMOCAP_OT_retarget_save_preset, IMOCAP_OT_export_animation)
