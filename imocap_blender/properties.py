# SPDX-License-Identifier: GPL-3.0-or-later
"""Scene settings of a capture: one PropertyGroup behind ``Scene.imocap``."""

import bpy


class IMOCAP_PG_settings(bpy.types.PropertyGroup):
    rank: bpy.props.IntProperty(
        name="Rank", description="Rank of the low-rank coupling between the clips' motions", default=1, min=1, max=4)
    iterations: bpy.props.IntProperty(
        name="Iterations", description="Outer rounds of synchronisation and bundle adjustment", default=5, min=1,
        max=20)
    result_path: bpy.props.StringProperty(name="Result", description="Last CaptureResult file", subtype="FILE_PATH")


classes = (IMOCAP_PG_settings,)
_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()
    bpy.types.Scene.imocap = bpy.props.PointerProperty(type=IMOCAP_PG_settings)


def unregister():
    del bpy.types.Scene.imocap
    _unregister()
