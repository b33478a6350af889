# SPDX-License-Identifier: GPL-3.0-or-later
"""Scene settings of a capture: one PropertyGroup behind ``Scene.imocap`` (clips, settings, and
the state of a running capture, which the modal operator updates)."""

import bpy


class IMOCAP_PG_clip(bpy.types.PropertyGroup):
    path: bpy.props.StringProperty(name="Clip", subtype="FILE_PATH")
    status: bpy.props.StringProperty(name="Status", default="")
    frames: bpy.props.IntProperty(name="Frames", default=0)
    fps: bpy.props.FloatProperty(name="Frame rate", default=0.0)
    width: bpy.props.IntProperty(name="Width", default=0)
    height: bpy.props.IntProperty(name="Height", default=0)


class IMOCAP_PG_batch_item(bpy.types.PropertyGroup):
    status: bpy.props.StringProperty(name="Status", default="waiting")
    message: bpy.props.StringProperty(name="Message", default="")


class IMOCAP_PG_bone_pair(bpy.types.PropertyGroup):
    source: bpy.props.StringProperty(name="iMoCap bone")
    target: bpy.props.StringProperty(name="Target bone", description="The target's bone that follows it (empty: none)")


_PRESET_ITEMS: list = []  # Blender needs the dynamic enum's strings kept alive


def _preset_items(self, context):
    from .retarget.mapping import MappingError
    from .retarget.presets_user import all_presets

    try:
        presets = all_presets()
    except MappingError:
        presets = {}
    _PRESET_ITEMS[:] = [("auto", "Auto-detect", "A preset that fits the target's bone names, else a map found from "
                         "bone-name aliases and the skeleton's structure")]
    _PRESET_ITEMS.extend((k, p.name, p.description) for k, p in presets.items())
    return _PRESET_ITEMS


def _is_armature(self, obj):
    return obj.type == "ARMATURE"


class IMOCAP_PG_retarget(bpy.types.PropertyGroup):
    source: bpy.props.PointerProperty(name="Source", type=bpy.types.Object, poll=_is_armature,
                                      description="The iMoCap armature whose action is retargeted")
    target: bpy.props.PointerProperty(name="Target", type=bpy.types.Object, poll=_is_armature,
                                      description="Your character's armature")
    preset: bpy.props.EnumProperty(name="Bone map", items=_preset_items)
    root_motion: bpy.props.BoolProperty(name="Root motion", default=True,
                                        description="Move the hips across the floor (off: in place, for game "
                                                    "engines; the hips still move up and down)")
    step: bpy.props.IntProperty(name="Key every", description="One key every this many frames", default=1, min=1,
                                max=100)
    bone_map: bpy.props.CollectionProperty(type=IMOCAP_PG_bone_pair)
    bone_map_index: bpy.props.IntProperty(default=0)
    map_target: bpy.props.StringProperty(description="The armature the bone map was made for")
    last_preset: bpy.props.StringProperty(name="Map used")
    unmapped: bpy.props.StringProperty(name="Unmapped", description="iMoCap bones with no target bone")
    preset_name: bpy.props.StringProperty(name="Preset name", default="My rig")


class IMOCAP_PG_settings(bpy.types.PropertyGroup):
    retarget: bpy.props.PointerProperty(type=IMOCAP_PG_retarget)
    batch: bpy.props.CollectionProperty(type=IMOCAP_PG_batch_item)
    clips: bpy.props.CollectionProperty(type=IMOCAP_PG_clip)
    clip_index: bpy.props.IntProperty(name="Active clip", default=0)
    rank: bpy.props.IntProperty(
        name="Rank", description="Rank of the low-rank coupling between the clips' motions", default=1, min=1, max=4)
    iterations: bpy.props.IntProperty(
        name="Iterations", description="Outer rounds of synchronisation and bundle adjustment", default=5, min=1,
        max=20)
    reference: bpy.props.IntProperty(
        name="Reference clip", description="The clip whose timeline is the scene's (its index in the list); "
        "-1: the capture picks the clip that spans most of the action", default=-1, min=-1)
    detector: bpy.props.StringProperty(name="Detector", description="YOLO-pose model name or weights file",
                                       default="yolo11n-pose")
    with_mesh: bpy.props.BoolProperty(name="Body mesh", default=True)
    unflip: bpy.props.BoolProperty(
        name="Unflip Mirrored Clips", default=True,
        description="A clip that looks like a mirror image of the others (a flipped video) is captured unflipped, "
                    "its plate shown flipped back")
    plant_feet: bpy.props.BoolProperty(
        name="Plant Feet", default=True,
        description="A foot that stands still in the clips is held in place and flat in the motion, so it does not "
                    "skate or dig into the floor; untick to keep the feet as fitted")
    result_path: bpy.props.StringProperty(name="Result", description="Last CaptureResult file", subtype="FILE_PATH")
    # a running capture (written by the operator, read by the panel)
    running: bpy.props.BoolProperty(default=False, options={"SKIP_SAVE"})
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR", options={"SKIP_SAVE"})
    stage_text: bpy.props.StringProperty(default="", options={"SKIP_SAVE"})


classes = (IMOCAP_PG_clip, IMOCAP_PG_batch_item, IMOCAP_PG_bone_pair, IMOCAP_PG_retarget, IMOCAP_PG_settings)
_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()
    bpy.types.Scene.imocap = bpy.props.PointerProperty(type=IMOCAP_PG_settings)


def unregister():
    del bpy.types.Scene.imocap
    _unregister()
