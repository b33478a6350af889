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


def build_camera(name: str, collection, clip_result):
    """A camera object for one clip, its plate attached when the clip file exists.
    Returns (object, warning or None)."""
    data = bpy.data.cameras.new(name)
    camera_intrinsics(data, clip_result.K, clip_result.size)
    obj = bpy.data.objects.new(name, data)
    obj.matrix_world = camera_matrix_world(clip_result.R, clip_result.t)
    collection.objects.link(obj)
    obj["imocap_size"] = list(clip_result.size)
    obj["imocap_fps"] = float(clip_result.fps)
    warning = None
    if os.path.isfile(clip_result.path):
        clip = bpy.data.movieclips.load(clip_result.path, check_existing=True)
        clip.frame_start = 1 - int(clip_result.first_frame)
        data.show_background_images = True
        bg = data.background_images.new()
        bg.source = "MOVIE_CLIP"
        bg.clip = clip
        bg.alpha = 1.0
        bg.frame_method = "FIT"
    else:
        warning = f"clip {clip_result.path} not found: camera {name} has no plate"
    return obj, warning
