"""Reading video clips with OpenCV: properties and frames in batches, never the whole clip in memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import UserError


class VideoError(UserError):
    """A clip that cannot be read."""


@dataclass(frozen=True)
class VideoInfo:
    """path, fps (nominal), frames (as the container reports; may be approximate), width and height of
    the decoded (upright) frames, rotation metadata in degrees (already applied by OpenCV)."""

    path: str
    fps: float
    frames: int
    width: int
    height: int
    rotation: int


def _capture(path: str | Path):
    import cv2

    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise VideoError(f"{path}: cannot be read ({e.strerror})") from e
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoError(f"{path}: not a video OpenCV can open (is it a video file?)")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def probe(path: str | Path) -> VideoInfo:
    """Properties of a clip; raises VideoError naming the file when it cannot be decoded."""
    import cv2

    cap = _capture(path)
    try:
        ok, frame = cap.read()
        if not ok or frame is None:
            raise VideoError(f"{path}: no frame could be decoded (empty or not a video)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        if not np.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 30.0
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360
        h, w = frame.shape[:2]
        return VideoInfo(str(path), float(fps), max(frames, 1), w, h, rotation)
    finally:
        cap.release()


def iter_batches(path: str | Path, batch: int = 16, stride: int = 1, prefetch: int = 2
                 ) -> Iterator[tuple[np.ndarray, list[np.ndarray | None], np.ndarray]]:
    """Yield (frame indices (B,), BGR frames, timestamps in seconds (B,)) through the clip.

    Only every ``stride``-th frame is converted to an image (the others are None: decoded but not
    retrieved, which is cheaper). Decoding runs ``prefetch`` batches ahead in a background thread
    (OpenCV releases the GIL), overlapping the caller's work. Timestamps come from the container,
    so variable-frame-rate clips keep their real timing."""
    import queue
    import threading

    import cv2

    cap = _capture(path)
    q: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
    stop = threading.Event()

    def reader():
        try:
            i = 0
            while not stop.is_set():
                frames, times = [], []
                while len(frames) < batch:
                    keep = (i + len(frames)) % stride == 0
                    ok = cap.grab()
                    if not ok:
                        break
                    frame = cap.retrieve()[1] if keep else None
                    frames.append(frame)
                    times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
                if not frames:
                    break
                q.put((np.arange(i, i + len(frames)), frames, np.asarray(times)))
                i += len(frames)
                if len(frames) < batch:
                    break
        except BaseException as e:  # handed to the consumer
            q.put(e)
        finally:
            q.put(None)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            thread.join(timeout=0.05)
        cap.release()
