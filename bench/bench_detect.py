"""``python -m bench detect``: detection speed and accuracy on this machine.

On a clip (default: a 1280x720 pan/zoom over the ultralytics bus photo, 4 people), reports
* the stage (crop mode, no cache) in frames/s, the time inside the network, and the stage's
  overhead over that network time;
* bare ``predict`` of the same model at 640 px on every full frame (frames/s), which is also the
  accuracy reference: keypoint error of the stage against it (pixels, and fraction of box height).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def add_arguments(p) -> None:
    p.add_argument("--clip", default=None, help="a video (default: a clip made from bus.jpg)")
    p.add_argument("--frames", type=int, default=150, help="frames of the default clip")
    p.add_argument("--device", default="auto")


def run(args) -> dict:
    import cv2

    from core.detect import DetectSettings, PoseModel, detect_clip

    from .photo_clips import asset, pan_zoom_frames, write_clip

    tmp = tempfile.TemporaryDirectory()
    clip = args.clip
    if clip is None:
        frames, _ = pan_zoom_frames(cv2.imread(str(asset("bus.jpg"))), args.frames, (1280, 720), zoom=(1.0, 1.6))
        clip = write_clip(Path(tmp.name) / "bus.mp4", frames)
    fast = DetectSettings(device=args.device)
    model = PoseModel(fast)
    model([np.zeros((320, 320, 3), np.uint8)] * 2, 320)  # load + warm up outside the timings
    model.seconds = 0.0
    t = time.perf_counter()
    tracks, fig = detect_clip(clip, fast, model=model)
    stage = time.perf_counter() - t
    n = tracks.frames
    full = DetectSettings(device=args.device, mode="full")
    ref, _ = detect_clip(clip, full, model=model)
    # bare predict: every full frame at 640, one call per frame
    from core.video import iter_batches

    bare = 0.0
    for _, batch, _ in iter_batches(clip, 16):
        for f in batch:
            t = time.perf_counter()
            model.yolo.predict(f, imgsz=640, verbose=False, device=model.device)
            bare += time.perf_counter() - t
    both = (tracks.confidence > 0.5) & (ref.confidence > 0.5)
    err = np.linalg.norm(tracks.keypoints - ref.keypoints, axis=-1)
    height = (ref.bbox[:, 3] - ref.bbox[:, 1])[:, None].repeat(17, 1)
    rel = err[both] / height[both]
    return {"benchmark": "detect", "clip": str(args.clip or "bus.jpg pan/zoom 1280x720"), "frames": n,
            "device": str(model.device), "stage_fps": round(n / stage, 2),
            "stage_seconds": round(stage, 3), "network_seconds": round(fig["inference_seconds"], 3),
            "overhead_pct": round(100 * (stage - fig["inference_seconds"]) / fig["inference_seconds"], 1),
            "network_images": fig["images"], "bare_predict_640_fps": round(n / bare, 2),
            "frames_with_person": tracks.frames_with_person, "reference_frames_with_person": ref.frames_with_person,
            "keypoints_compared": int(both.sum()),
            "error_vs_640_px_median": round(float(np.median(err[both])), 2),
            "error_vs_640_px_p90": round(float(np.percentile(err[both], 90)), 2),
            "error_vs_640_box_fraction_median": round(float(np.median(rel)), 4),
            "pck_0.05_vs_640": round(float(np.mean(rel < 0.05)), 3)}
