"""Short video clips made from still photos (pan/zoom over the image, or people pasted onto a
background), for testing and benchmarking detection on real people without video files.

The photos are the ones shipped in the ultralytics wheel (``bus.jpg``, ``zidane.jpg``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def asset(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec("ultralytics")
    return Path(spec.origin).parent / "assets" / name


def write_clip(path: str | Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """Write BGR frames as an MP4 (mp4v) file."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not out.isOpened():
        raise RuntimeError(f"cannot write {path}")
    for f in frames:
        out.write(f)
    out.release()
    return path


def pan_zoom_frames(image: np.ndarray, n: int, size: tuple[int, int], zoom: tuple[float, float] = (1.0, 1.3),
                    pan: tuple[float, float] = (-0.1, 0.1)) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames (BGR, ``size`` = (w, h)) of a virtual camera panning/zooming over ``image``, and the
    2x3 affine of each frame (image pixels -> frame pixels)."""
    import cv2

    ih, iw = image.shape[:2]
    w, h = size
    frames, mats = [], []
    for i in range(n):
        a = i / max(1, n - 1)
        z = zoom[0] + (zoom[1] - zoom[0]) * a
        s = z * min(w / iw, h / ih)
        cx = iw / 2 + (pan[0] + (pan[1] - pan[0]) * a) * iw
        cy = ih / 2
        m = np.array([[s, 0, w / 2 - s * cx], [0, s, h / 2 - s * cy]])
        frames.append(cv2.warpAffine(image, m, (w, h), borderValue=(90, 90, 90)))
        mats.append(m)
    return frames, mats
