# SPDX-License-Identifier: GPL-3.0-or-later
"""A CaptureResult into the scene, in one step: one collection per capture holding the armature
(consensus action on the timeline, one action per clip on the clip's own time axis),
the skinned body mesh, and one camera per clip with its plate. On any failure everything created
so far is removed again: the scene is never left half-modified."""

from __future__ import annotations

import os

import bpy

from .armature import build_armature
from .cameras import build_camera, plate_start
from .mesh import build_mesh
from .motion import assign_action, write_action, write_contacts


class ImportReport:
    def __init__(self):
        self.collection = None
        self.warnings: list[str] = []


def import_capture(result, name: str | None = None, with_mesh: bool = True, source_path: str = "",
                   set_scene: bool = True) -> ImportReport:
    """Build ``result`` (a core.result.CaptureResult) into the current scene; ``set_scene``: also
    give the scene the reference clip's camera, frame rate, range and resolution."""
    scene = bpy.context.scene
    report = ImportReport()
    name = name or "iMoCap"
    created = []  # (collection of bpy.data, datablock) to remove on failure
    try:
        coll = bpy.data.collections.new(name)
        created.append((bpy.data.collections, coll))
        scene.collection.children.link(coll)
        body = result.body
        arm, bone_rest = build_armature(f"{coll.name} body", coll, body.joint_names, body.parents,
                                        body.rest_joints.astype("float64"))
        created += [(bpy.data.objects, arm), (bpy.data.armatures, arm.data)]
        consensus = write_action(f"{coll.name} consensus", arm, body.joint_names, result.motion,
                                 body.rest_joints.astype("float64"), bone_rest)
        created.append((bpy.data.actions, consensus))
        if result.contacts is not None:
            write_contacts(consensus, arm, result.contacts)
        clip_actions = []
        for j, c in enumerate(result.clips):
            a = write_action(f"{coll.name} clip {j}", arm, body.joint_names, c.motion,
                             body.rest_joints.astype("float64"), bone_rest)
            created.append((bpy.data.actions, a))
            clip_actions.append(a.name)
        assign_action(arm, consensus)
        if with_mesh:
            mesh = build_mesh(f"{coll.name} mesh", coll, body, arm)
            created += [(bpy.data.objects, mesh), (bpy.data.meshes, mesh.data)]
        cams = []
        for j, c in enumerate(result.clips):
            cam, warning = build_camera(f"{coll.name} cam {j}", coll, c,
                                        os.path.dirname(os.path.abspath(source_path)) if source_path else "",
                                        timeline_fps=result.motion.fps)
            created += [(bpy.data.objects, cam), (bpy.data.cameras, cam.data)]
            if cam.animation_data and cam.animation_data.action:  # a panning camera's rotation keys
                created.append((bpy.data.actions, cam.animation_data.action))
            cams.append(cam.name)
            if warning:
                report.warnings.append(warning)
        ref = result.clips[result.reference]
        coll["imocap_result"] = source_path
        coll["imocap_armature"] = arm.name
        coll["imocap_cameras"] = cams
        coll["imocap_clip_actions"] = clip_actions
        coll["imocap_consensus_action"] = consensus.name
        coll["imocap_reference"] = int(result.reference)
        coll["imocap_quality"] = [[float(c.reproj_px), float(c.sync_confidence)] for c in result.clips]
        if set_scene:
            _set_view(scene, bpy.data.objects[cams[result.reference]], result.motion.fps, result.motion.frames,
                      ref.size)
    except BaseException:
        for data, block in reversed(created):
            try:
                data.remove(block)
            except (ReferenceError, RuntimeError):
                pass
        raise
    report.collection = coll
    return report


def _fps(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a frame rate, exact for the NTSC rates."""
    for num, base in ((24, 1.001), (30, 1.001), (60, 1.001)):
        if abs(fps - num / base) < 1e-3:
            return num, base
    return max(1, int(round(fps))), max(1, int(round(fps))) / fps


def _set_view(scene, cam, fps: float, frames: int, size) -> None:
    scene.camera = cam
    scene.render.fps, scene.render.fps_base = _fps(fps)
    scene.frame_start, scene.frame_end = 1, max(1, int(frames))
    scene.render.resolution_x, scene.render.resolution_y = (int(v) for v in size)


def view_clip(coll, index: int, scene=None, consensus: bool = False) -> None:
    """Look through clip ``index``: its camera, plate, frame rate, range, resolution and action
    (``consensus``: the consensus action on the timeline instead, the plate moved to the clip's place
    on it)."""
    scene = scene or bpy.context.scene
    cams = list(coll["imocap_cameras"])
    if not 0 <= index < len(cams):
        raise IndexError(f"clip {index} out of range (the capture has {len(cams)} clips)")
    cam = bpy.data.objects[cams[index]]
    arm = bpy.data.objects[coll["imocap_armature"]]
    name = coll["imocap_consensus_action"] if consensus else list(coll["imocap_clip_actions"])[index]
    action = bpy.data.actions[name]
    fps = float(action["imocap_fps"] if consensus else cam["imocap_fps"])
    _set_view(scene, cam, fps, action.frame_range[1], cam["imocap_size"])
    for bg in cam.data.background_images:  # the plate in step with the action shown
        if bg.clip is not None:
            bg.clip.frame_start = plate_start(cam, consensus)
    assign_action(arm, action)


def remove_capture(coll) -> None:
    """Delete a capture's collection with its objects, their data and its actions."""
    actions = [coll.get("imocap_consensus_action", "")] + list(coll.get("imocap_clip_actions", []))
    actions += [o.animation_data.action.name for o in coll.objects
                if o.type == "CAMERA" and o.animation_data and o.animation_data.action]
    for obj in list(coll.objects):
        data = obj.data
        bpy.data.objects.remove(obj)
        if data is not None and data.users == 0:
            for blocks in (bpy.data.armatures, bpy.data.meshes, bpy.data.cameras):
                if data.name in blocks and blocks[data.name] == data:
                    blocks.remove(data)
                    break
    for name in actions:
        if name in bpy.data.actions:
            bpy.data.actions.remove(bpy.data.actions[name])
    bpy.data.collections.remove(coll)


def write_capture_blend(coll, path: str) -> str:
    """A .blend holding just this capture: a scene named after it with the capture's collection,
    seen through the reference clip's camera with the consensus motion."""
    import tempfile

    scene = bpy.data.scenes.new(coll.name)
    try:
        scene.collection.children.link(coll)
        view_clip(coll, int(coll["imocap_reference"]), scene, consensus=True)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".imocap-", suffix=".blend", dir=folder)
        os.close(fd)
        try:
            bpy.data.libraries.write(tmp, {scene}, fake_user=False, compress=True)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    finally:
        bpy.data.scenes.remove(scene)
    return path


def capture_collections() -> list:
    return [c for c in bpy.data.collections if "imocap_armature" in c]


def result_exists(path: str) -> bool:
    return bool(path) and os.path.isfile(bpy.path.abspath(path))
