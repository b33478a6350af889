"""Who the clip is about: people tracked across frames by box overlap, the performer chosen by a
whole-clip score, and short gaps filled. numpy/scipy only.

Score of a track = sum over its frames of  confidence x sqrt(box area / image area) x centrality,
times (1 + motion), where centrality falls from 1 at the image centre to 0.5 at the corners and
motion is the track's mean keypoint movement per second in box heights (capped at 1). So the
performer is the person who is there most of the time, large, central and moving: an audience
member who is briefly larger, or a static bystander, does not win.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class Detections:
    """People found in one frame: boxes (n,4) x0,y0,x1,y1; conf (n,); keypoints (n,17,3) x,y,conf."""

    frame: int
    boxes: np.ndarray
    conf: np.ndarray
    keypoints: np.ndarray


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,4),(m,4) -> (n,m) intersection over union of boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def track(dets: list[Detections], max_gap: int, min_iou: float = 0.2) -> list[dict[int, int]]:
    """Link detections across frames. Returns tracks as {frame: index into that frame's detections}.

    Each frame's people are matched to the tracks seen within ``max_gap`` frames by the Hungarian
    algorithm on box overlap (last box of each track)."""
    tracks: list[dict[int, int]] = []
    last_box: list[np.ndarray] = []
    last_frame: list[int] = []
    for d in dets:
        live = [t for t in range(len(tracks)) if d.frame - last_frame[t] <= max_gap]
        matched = set()
        if live and len(d.boxes):
            overlap = iou(d.boxes, np.stack([last_box[t] for t in live]))
            rows, cols = linear_sum_assignment(-overlap)
            for r, c in zip(rows, cols):
                if overlap[r, c] >= min_iou:
                    t = live[c]
                    tracks[t][d.frame] = int(r)
                    last_box[t], last_frame[t] = d.boxes[r], d.frame
                    matched.add(int(r))
        for r in range(len(d.boxes)):
            if r not in matched:
                tracks.append({d.frame: r})
                last_box.append(d.boxes[r])
                last_frame.append(d.frame)
    return tracks


def score_tracks(dets: list[Detections], tracks: list[dict[int, int]], size: tuple[int, int], fps: float) -> np.ndarray:
    """Whole-clip score of each track (see the module docstring)."""
    w, h = size
    by_frame = {d.frame: d for d in dets}
    centre = np.array([w / 2, h / 2])
    half_diag = np.hypot(w, h) / 2
    scores = np.zeros(len(tracks))
    for i, t in enumerate(tracks):
        frames = sorted(t)
        boxes = np.stack([by_frame[f].boxes[t[f]] for f in frames])
        conf = np.array([by_frame[f].conf[t[f]] for f in frames])
        area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1) / (w * h)
        c = 0.5 * (boxes[:, :2] + boxes[:, 2:])
        centrality = 1 - 0.5 * np.linalg.norm(c - centre, axis=1) / half_diag
        motion = 0.0
        if len(frames) > 1:
            kp = np.stack([by_frame[f].keypoints[t[f], :, :2] for f in frames])
            height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
            # body-relative keypoint motion (the box centre removed: a camera pan is not motion)
            rel = (kp - c[:, None]) / height[:, None, None]
            dt = np.diff(frames) / fps
            motion = float(np.mean(np.linalg.norm(np.diff(rel, axis=0), axis=2).mean(1) / dt))
        scores[i] = float(np.sum(conf * np.sqrt(area) * centrality)) * (1 + min(motion, 1.0))
    return scores


def interpolate_boxes(frames: np.ndarray, boxes: np.ndarray, n_frames: int, max_gap: int) -> np.ndarray:
    """Boxes (n_frames,4) from boxes at ``frames``: linear in between where the gap is at most
    ``max_gap`` frames, held for up to ``max_gap`` frames past the first and last, NaN elsewhere."""
    out = np.full((n_frames, 4), np.nan)
    if len(frames) == 0:
        return out
    out[max(0, frames[0] - max_gap):frames[0]] = boxes[0]
    out[frames[-1] + 1:frames[-1] + 1 + max_gap] = boxes[-1]
    out[frames] = boxes
    for a, b in zip(frames[:-1], frames[1:]):
        if 1 < b - a <= max_gap + 1:
            w = ((np.arange(a + 1, b) - a) / (b - a))[:, None]
            out[a + 1:b] = (1 - w) * boxes[frames == a][0] + w * boxes[frames == b][0]
    return out


def fill_gaps(keypoints: np.ndarray, conf: np.ndarray, max_gap: int, low: float = 0.05):
    """Fill missing keypoints (conf 0) by linear interpolation across gaps of at most ``max_gap``
    frames, each keypoint on its own; filled values get confidence ``low``. Longer gaps stay
    missing. keypoints (N,17,2), conf (N,17) -> new arrays."""
    kp, cf = keypoints.copy(), conf.copy()
    for k in range(kp.shape[1]):
        seen = np.where(cf[:, k] > low)[0]
        if len(seen) < 2:
            continue
        gaps = np.diff(seen)
        for a, b in zip(seen[:-1][(gaps > 1) & (gaps <= max_gap + 1)], seen[1:][(gaps > 1) & (gaps <= max_gap + 1)]):
            w = ((np.arange(a + 1, b) - a) / (b - a))[:, None]
            kp[a + 1:b, k] = (1 - w) * kp[a, k] + w * kp[b, k]
            cf[a + 1:b, k] = low
    return kp, cf
