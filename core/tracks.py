"""Tracks2D: the main performer's COCO-17 keypoints through one clip. numpy only.

Produced by detection (or by the benchmark protocol, which synthesises them from motion capture)
and consumed by initialisation, synchronisation and bundle adjustment.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .fileio import atomic_write

TRACKS_VERSION = 1


class TracksError(UserError, ValueError):
    """Tracks that cannot be used (bad file, NaN/inf values, wrong shapes)."""


@dataclass(frozen=True, eq=False)
class Tracks2D:
    """keypoints (N,17,2) pixels, confidence (N,17) in [0,1] (0: missing), bbox (N,4) x0,y0,x1,y1
    (NaN where nobody), fps, size (width, height), and where they came from. ``times`` (N,) holds
    each frame's timestamp in seconds where the clip has a variable frame rate (else None)."""

    keypoints: np.ndarray
    confidence: np.ndarray
    bbox: np.ndarray
    fps: float
    size: tuple[int, int]
    source: str = ""  # the clip's path
    source_hash: str = ""
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    times: np.ndarray | None = None

    def __post_init__(self):
        n = self.keypoints.shape[0] if self.keypoints.ndim == 3 else -1
        if self.keypoints.shape != (n, 17, 2) or self.confidence.shape != (n, 17) or self.bbox.shape != (n, 4):
            raise TracksError(f"{self.source or 'tracks'}: expected keypoints Nx17x2, confidence Nx17, bbox Nx4; "
                              f"got {self.keypoints.shape}, {self.confidence.shape}, {self.bbox.shape}")
        if self.times is not None and self.times.shape != (n,):
            raise TracksError(f"{self.source or 'tracks'}: times must have one entry per frame")
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise TracksError(f"{self.source or 'tracks'}: frame rate must be positive, got {self.fps}")

    @property
    def frames(self) -> int:
        return int(self.keypoints.shape[0])

    def frames_of(self, index) -> "Tracks2D":
        """The tracks of some frames: ``index`` a slice, or frame indices in order."""
        return replace(self, keypoints=self.keypoints[index], confidence=self.confidence[index],
                       bbox=self.bbox[index], times=None if self.times is None else self.times[index])

    def check_finite(self) -> None:
        """Refuse NaN/inf where a keypoint claims confidence (the engine's entry check)."""
        seen = self.confidence > 0
        if not np.isfinite(self.confidence).all() or not np.isfinite(self.keypoints[seen]).all():
            raise TracksError(f"{self.source or 'tracks'}: NaN or infinite keypoints/confidences; "
                              "re-run detection or fix the tracks file")

    @property
    def frames_with_person(self) -> int:
        return int((self.confidence > 0).any(1).sum())

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": "imocap.tracks2d", "version": TRACKS_VERSION, "fps": self.fps, "size": list(self.size),
                "source": self.source, "source_hash": self.source_hash, "model": self.model,
                "settings": self.settings}
        extra = {} if self.times is None else {"times": self.times}
        atomic_write(path, lambda f: np.savez_compressed(
            f, keypoints=self.keypoints, confidence=self.confidence, bbox=self.bbox, meta=np.array(json.dumps(meta)),
            **extra))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Tracks2D":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as d:
                meta = json.loads(str(d["meta"]))
                arrays = {k: d[k] for k in ("keypoints", "confidence", "bbox")}
                times = d["times"] if "times" in d.files else None
        except Exception as e:  # noqa: BLE001 - every way of failing to read is the same to the user
            raise TracksError(f"{path}: not a readable Tracks2D file: {e}") from e
        if meta.get("format") != "imocap.tracks2d" or meta.get("version", 0) > TRACKS_VERSION:
            raise TracksError(f"{path}: not a Tracks2D file of a supported version")
        return cls(arrays["keypoints"], arrays["confidence"], arrays["bbox"], meta["fps"], tuple(meta["size"]),
                   meta["source"], meta["source_hash"], meta["model"], meta["settings"], times)
