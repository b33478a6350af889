# SPDX-License-Identifier: GPL-3.0-or-later
"""Cameras from the CaptureResult's OpenCV pinhole cameras, with the clip as background plate."""

from __future__ import annotations

import os

import bpy
import numpy as np
from mathutils import Matrix

SENSOR = 36.0  # mm, along the image's longer side
CV_TO_BLENDER_CAMERA = np.diag([1.0, -1.0, -1.0])  # OpenCV camera axes (y down, z forward) -> Blender's


def camera_intrinsics(cam_data, K: np.ndarray, size: tuple[int, int]) -> None:
    """Lens, sensor and shift reproducing K for an image of ``size`` (w, h) pixels."""
    w, h = size
    longer = max(w, h)
    cam_data.sensor_fit = "HORIZONTAL" if w >= h else "VERTICAL"
    cam_data.sensor_width = cam_data.sensor_height = SENSOR
    cam_data.lens = float(K[0, 0]) * SENSOR / longer
    cam_data.shift_x = float(w / 2 - K[0, 2]) / longer
    cam_data.shift_y = float(K[1, 2] - h / 2) / longer


def camera_matrix_world(R: np.ndarray, t: np.ndarray) -> Matrix:
    """Blender object matrix of the OpenCV camera x_cam = R X + t."""
    m = np.eye(4)
    m[:3, :3] = R.T @ CV_TO_BLENDER_CAMERA
    m[:3, 3] = -R.T @ t
    return Matrix(m.tolist())


def _animate_rotation(obj, name: str, clip_result) -> None:
    """A panning camera: one rotation key per clip frame (frame i at i + 1, the clip's own time
    axis); the centre stays where the first frame puts it."""
    from bpy_extras.anim_utils import action_ensure_channelbag_for_slot

    from ..rotations import continuous, matrix_to_quaternion
    from .motion import write_curve

    rot = np.einsum("nji,jk->nik", clip_result.rotations, CV_TO_BLENDER_CAMERA)  # R_k^T C, as in camera_matrix_world
    quat = continuous(matrix_to_quaternion(rot))
    obj.rotation_mode = "QUATERNION"
    action = bpy.data.actions.new(f"{name} pan")
    slot = action.slots.new(id_type="OBJECT", name=obj.name)
    bag = action_ensure_channelbag_for_slot(action, slot)
    frames = 1.0 + np.arange(len(quat))
    for i in range(4):
        write_curve(bag, "rotation_quaternion", i, "Object Transforms", frames, quat[:, i])
    obj.animation_data_create()
    obj.animation_data.action = action
    obj.animation_data.action_slot = slot


def find_clip(path: str, result_dir: str = "") -> str:
    """The clip's file: where the result says (a relative path: from the result's folder), else
    beside the result file (a capture folder moved or copied to another machine keeps its plates)."""
    if result_dir and not os.path.isabs(path):
        path = os.path.join(result_dir, path)
    if os.path.isfile(path) or not result_dir:
        return path
    beside = os.path.join(result_dir, os.path.basename(path))
    return beside if os.path.isfile(beside) else path


def plate_start(obj, consensus: bool) -> int:
    """The scene frame at which camera ``obj``'s plate shows the clip's frame 0: on the consensus
    motion's timeline (the clip's first frame where it falls there), or on the clip's own action
    (scene frame 1)."""
    return 1 + (int(obj.get("imocap_offset", 0)) if consensus else 0) - int(obj.get("imocap_first_frame", 0))


def build_camera(name: str, collection, clip_result, result_dir: str = "", timeline_fps: float | None = None):
    """A camera object for one clip, its plate attached when the clip file exists (looked for
    beside the result too), starting at the clip's place on the timeline (at ``timeline_fps``; the
    clip's own rate where None). Returns (object, warning or None)."""
    data = bpy.data.cameras.new(name)
    camera_intrinsics(data, clip_result.K, clip_result.size)
    obj = bpy.data.objects.new(name, data)
    obj.matrix_world = camera_matrix_world(clip_result.R, clip_result.t)
    collection.objects.link(obj)
    if clip_result.rotations is not None:
        _animate_rotation(obj, name, clip_result)
    obj["imocap_size"] = list(clip_result.size)
    obj["imocap_fps"] = float(clip_result.fps)
    obj["imocap_first_frame"] = int(clip_result.first_frame)
    obj["imocap_offset"] = clip_result.timeline_start(timeline_fps)
    warning = None
    path = find_clip(clip_result.path, result_dir)
    if os.path.isfile(path):
        clip = bpy.data.movieclips.load(path, check_existing=True)
        clip.frame_start = plate_start(obj, consensus=True)
        data.show_background_images = True
        bg = data.background_images.new()
        bg.source = "MOVIE_CLIP"
        bg.clip = clip
        bg.alpha = 1.0
        bg.frame_method = "FIT"
        bg.use_flip_x = bool(clip_result.mirrored)  # a flipped video, captured unflipped: shown as its camera sees it
    else:
        warning = f"clip {clip_result.path} not found: camera {name} has no plate"
    return obj, warning
