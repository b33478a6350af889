# SPDX-License-Identifier: GPL-3.0-or-later
"""An armature's animation to FBX or BVH through Blender's bundled exporters, with the axes game
engines expect; written to a temporary file beside the destination and renamed over it, with the
user's selection restored afterwards."""

from __future__ import annotations

import os
import tempfile

import bpy


EXPORTERS = {"FBX": "io_scene_fbx", "BVH": "io_anim_bvh"}  # Blender's bundled add-ons


def _ensure_exporter(fmt: str) -> None:
    import addon_utils

    module = EXPORTERS[fmt]
    if not addon_utils.check(module)[1]:
        if addon_utils.enable(module, default_set=False) is None:
            raise RuntimeError(f"Blender's {fmt} exporter ({module}) could not be enabled")


def export_animation(context, obj, path: str, fmt: str = "FBX") -> str:
    fmt = fmt.upper()
    if fmt not in EXPORTERS:
        raise ValueError(f"unknown format {fmt!r} (FBX or BVH)")
    _ensure_exporter(fmt)
    ext = "." + fmt.lower()
    if not path.lower().endswith(ext):
        path += ext
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(f"folder {folder} does not exist")
    action = obj.animation_data.action if obj.animation_data else None
    if action is None:
        raise ValueError(f"{obj.name} has no action to export")
    start, end = (int(round(v)) for v in action.frame_range)
    view_layer = context.view_layer
    selected = [o for o in view_layer.objects if o.select_get()]
    active = view_layer.objects.active
    fd, tmp = tempfile.mkstemp(prefix=".imocap-export-", suffix=ext, dir=folder)
    os.close(fd)
    try:
        for o in selected:
            o.select_set(False)
        obj.select_set(True)
        for child in obj.children:
            if child.type == "MESH":
                child.select_set(True)
        view_layer.objects.active = obj
        if fmt == "FBX":
            r = bpy.ops.export_scene.fbx(
                filepath=tmp, use_selection=True, object_types={"ARMATURE", "MESH"}, add_leaf_bones=False,
                bake_anim=True, bake_anim_use_all_actions=False, bake_anim_use_nla_strips=False,
                bake_anim_force_startend_keying=True, axis_forward="-Z", axis_up="Y", primary_bone_axis="Y",
                secondary_bone_axis="X")
        else:
            r = bpy.ops.export_anim.bvh(filepath=tmp, frame_start=start, frame_end=end, root_transform_only=True)
        if r != {"FINISHED"} or os.path.getsize(tmp) == 0:
            raise RuntimeError(f"Blender's {fmt} exporter did not finish ({sorted(r)})")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        for o in view_layer.objects:
            o.select_set(o in selected)
        view_layer.objects.active = active
    return path
