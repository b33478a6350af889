"""Detection stage: YOLO-pose over a clip -> the main performer's Tracks2D, cached.

Two passes over the clip, both batched:

1. **find**: every ``find_stride``-th frame, the whole frame at a low resolution (``find_size``):
   boxes and rough keypoints of everybody; people are tracked and the performer chosen by a
   whole-clip score (:mod:`core.performer`);
2. **pose**: every frame, a square crop around the performer's (interpolated) box, resized to
   ``crop_size``: the keypoints, at about the detail of full-frame 640 px inference for a fraction
   of its cost.

``mode="full"`` runs plain full-frame inference at ``full_size`` instead (the reference the crop
mode is measured against). Results are cached beside the outputs, keyed by the clip's content hash,
the model and the settings: a re-run does no inference.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import UserError
from .performer import Detections, fill_gaps, interpolate_boxes, iou, score_tracks, track
from .tracks import Tracks2D
from .video import iter_batches, probe

CACHE_VERSION = 1


@dataclass(frozen=True)
class DetectSettings:
    model: str = "yolo11n-pose"
    device: str = "auto"
    mode: str = "crop"  # "crop" (find + pose on crops) or "full" (full-frame at full_size)
    find_size: int = 320
    find_stride: int = 2
    crop_size: int = 256
    crop_margin: float = 1.3  # crop side = margin x the box's longer side
    full_size: int = 640
    batch: int = 16
    min_conf: float = 0.25
    max_gap_s: float = 0.5
    low_conf: float = 0.05  # confidence given to interpolated keypoints

    def cache_key(self) -> dict:
        d = asdict(self)
        for k in ("device", "batch"):  # do not change the result
            d.pop(k)
        return d


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class PoseModel:
    """The YOLO-pose model, loaded on first use, with the time spent inside it counted (``seconds``)."""

    def __init__(self, settings: DetectSettings):
        from .ultra import resolve_weights

        self.settings = settings
        self.path, self.model_id = resolve_weights(settings.model)  # fails early, naming where it looked
        self.yolo = None
        self.seconds = 0.0
        self.images = 0

    def _load(self):
        from .body import resolve_device
        from .ultra import load_pose_model

        self.yolo, _, _ = load_pose_model(str(self.path))
        dev = resolve_device(self.settings.device)
        self.device = "cpu" if dev.type == "cpu" else (dev.index or 0)

    def __call__(self, images: list[np.ndarray], size: int) -> list[Detections]:
        if self.yolo is None:
            self._load()
        t = time.perf_counter()
        results = self.yolo.predict(images, imgsz=size, conf=self.settings.min_conf, device=self.device, verbose=False)
        out = []
        for r in results:
            kp = r.keypoints.data.cpu().numpy() if r.keypoints is not None else np.zeros((0, 17, 3))
            out.append(Detections(-1, r.boxes.xyxy.cpu().numpy(), r.boxes.conf.cpu().numpy(), kp))
        self.seconds += time.perf_counter() - t
        self.images += len(images)
        return out


def cache_path(path: str | Path, settings: DetectSettings, cache_dir: str | Path, digest: str) -> Path:
    """Where the detections of the clip with content hash ``digest`` under ``settings`` are cached."""
    key = json.dumps([CACHE_VERSION, digest, settings.cache_key()], sort_keys=True).encode()
    return Path(cache_dir) / f"{Path(path).stem[:40]}-{hashlib.sha256(key).hexdigest()[:20]}.npz"


def _crop_transform(box: np.ndarray, margin: float, size: int) -> np.ndarray:
    """2x3 affine taking frame pixels to a size x size crop centred on ``box``."""
    c = 0.5 * (box[:2] + box[2:])
    side = margin * max(box[2] - box[0], box[3] - box[1], 8.0)
    s = size / side
    return np.array([[s, 0, size / 2 - s * c[0]], [0, s, size / 2 - s * c[1]]])


def detect_clip(path: str | Path, settings: DetectSettings = DetectSettings(), model: PoseModel | None = None,
                cache_dir: str | Path | None = None, progress=None) -> tuple[Tracks2D, dict]:
    """The performer's Tracks2D for one clip, and figures (frames, seconds, cached...).

    ``progress(done, total)`` is called as frames are processed (total counts both passes)."""
    path = Path(path)
    info = probe(path)
    digest = file_hash(path)
    cache = cache_path(path, settings, cache_dir, digest) if cache_dir else None
    if cache is not None and cache.is_file():
        try:
            tracks = Tracks2D.load(cache)
            return tracks, {"frames": tracks.frames, "cached": True, "inference_seconds": 0.0, "images": 0}
        except UserError:
            pass  # an unreadable cache entry is recomputed
    model = model or PoseModel(settings)
    t_model0, n_img0 = model.seconds, model.images
    passes = 1 if settings.mode == "full" else 2
    total = info.frames * passes
    done = 0
    n_frames = 0
    times_all = []

    def tick(k):
        nonlocal done
        done += k
        if progress:
            progress(min(done, total), total)

    # ---- pass 1: find people (or, in full mode, everything) ----
    found: list[Detections] = []
    size1 = settings.full_size if settings.mode == "full" else settings.find_size
    stride = 1 if settings.mode == "full" else max(1, settings.find_stride)
    for idx, frames, ts in iter_batches(path, settings.batch, stride=stride):
        n_frames = int(idx[-1]) + 1
        times_all.append(ts)
        sel = [i for i in range(len(idx)) if frames[i] is not None]
        if sel:
            for i, d in zip(sel, model([frames[i] for i in sel], size1)):
                d.frame = int(idx[i])
                found.append(d)
        tick(len(idx))
    if n_frames == 0:
        raise UserError(f"{path}: the clip has no frames")
    total = n_frames * passes
    times = np.concatenate(times_all)
    fps = info.fps
    gap = max(1, int(round(settings.max_gap_s * fps)))

    kp = np.zeros((n_frames, 17, 2), np.float32)
    conf = np.zeros((n_frames, 17), np.float32)
    bbox = np.full((n_frames, 4), np.nan, np.float32)
    tracks = track(found, max_gap=max(stride, gap))
    scores = score_tracks(found, tracks, (info.width, info.height), fps) if tracks else np.zeros(0)
    people = len(tracks)
    if tracks:
        best = tracks[int(np.argmax(scores))]
        by_frame = {d.frame: d for d in found}
        frames_b = np.array(sorted(best))
        boxes_b = np.stack([by_frame[f].boxes[best[f]] for f in frames_b])
        if settings.mode == "full":
            for f in frames_b:
                d = by_frame[f]
                kp[f], conf[f], bbox[f] = d.keypoints[best[f], :, :2], d.keypoints[best[f], :, 2], d.boxes[best[f]]
        else:
            expect = interpolate_boxes(frames_b, boxes_b, n_frames, max(stride, gap))
            _pose_pass(path, settings, model, expect, kp, conf, bbox, tick)
    kp, conf = fill_gaps(kp, conf, gap, settings.low_conf)
    filled_box = interpolate_boxes(np.where(np.isfinite(bbox[:, 0]))[0], bbox[np.isfinite(bbox[:, 0])], n_frames, gap)
    bbox = np.where(np.isfinite(bbox), bbox, filled_box).astype(np.float32)
    steps = np.diff(times) if len(times) == n_frames else np.zeros(0)
    vfr = len(steps) > 1 and bool(np.isfinite(steps).all()) and float(np.ptp(steps)) > 0.25 / fps
    tracks2d = Tracks2D(kp.astype(np.float32), conf.astype(np.float32), bbox, fps, (info.width, info.height),
                        source=str(path), source_hash=digest, model=model.model_id, settings=settings.cache_key(),
                        times=times.astype(np.float64) if vfr else None)
    if cache is not None:
        tracks2d.save(cache)
    figures = {"frames": n_frames, "cached": False, "people_tracked": people,
               "inference_seconds": model.seconds - t_model0, "images": model.images - n_img0}
    return tracks2d, figures


def _pose_pass(path, settings: DetectSettings, model: PoseModel, expect: np.ndarray, kp, conf, bbox, tick) -> None:
    """Pass 2: pose on square crops around the expected performer boxes (in place)."""
    import cv2

    s = settings.crop_size
    for idx, frames, _ in iter_batches(path, settings.batch):
        sel = [i for i in range(len(idx)) if np.isfinite(expect[idx[i]]).all()]
        if sel:
            mats = [_crop_transform(expect[idx[i]], settings.crop_margin, s) for i in sel]
            crops = [cv2.warpAffine(frames[i], a, (s, s), flags=cv2.INTER_LINEAR, borderValue=(114, 114, 114))
                     for i, a in zip(sel, mats)]
            for i, a, d in zip(sel, mats, model(crops, s)):
                if not len(d.boxes):
                    continue
                f = int(idx[i])
                # back to frame pixels; keep the person who overlaps the expected box most
                scale, off = a[0, 0], a[:, 2]
                boxes = (d.boxes.reshape(-1, 2, 2) - off) / scale
                boxes = boxes.reshape(-1, 4)
                ov = iou(boxes, expect[f][None])[:, 0]
                j = int(np.argmax(ov))
                if ov[j] < 0.3:
                    continue
                kp[f] = (d.keypoints[j, :, :2] - off) / scale
                conf[f] = d.keypoints[j, :, 2]
                bbox[f] = boxes[j]
        tick(len(idx))
