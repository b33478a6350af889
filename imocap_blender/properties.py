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


class IMOCAP_PG_settings(bpy.types.PropertyGroup):
    batch: bpy.props.CollectionProperty(type=IMOCAP_PG_batch_item)
    clips: bpy.props.CollectionProperty(type=IMOCAP_PG_clip)
    clip_index: bpy.props.IntProperty(name="Active clip", default=0)
    rank: bpy.props.IntProperty(
        name="Rank", description="Rank of the low-rank coupling between the clips' motions", default=1, min=1, max=4)
    iterations: bpy.props.IntProperty(
        name="Iterations", description="Outer rounds of synchronisation and bundle adjustment", default=5, min=1,
        max=20)
    reference: bpy.props.IntProperty(name="Reference clip", description="The clip whose timeline is the scene's",
                                     default=0, min=0)
    detector: bpy.props.StringProperty(name="Detector", description="YOLO-pose model name or weights file",
                                       default="yolo11n-pose")
    with_mesh: bpy.props.BoolProperty(name="Body mesh", default=True)
    result_path: bpy.props.StringProperty(name="Result", description="Last CaptureResult file", subtype="FILE_PATH")
    # a running capture (written by the operator, read by the panel)
    running: bpy.props.BoolProperty(default=False, options={"SKIP_SAVE"})
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR", options={"SKIP_SAVE"})
    stage_text: bpy.props.StringProperty(default="", options={"SKIP_SAVE"})


classes = (IMOCAP_PG_clip, IMOCAP_PG_batch_item, IMOCAP_PG_settings)
_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()
    bpy.types.Scene.imocap = bpy.props.PointerProperty(type=IMOCAP_PG_settings)


def unregister():
    del bpy.types.Scene.imocap
    _unregister()
