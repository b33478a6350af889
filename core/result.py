"""CaptureResult: everything the Blender side needs from a capture, readable without torch.

No bpy, no torch: numpy and the standard library only.

Files: ``NAME.npz`` holds every array and, as the JSON string ``meta``, every scalar; it alone is
the result. ``NAME.json`` beside it is a human-readable copy of ``meta`` (quality figures, settings,
versions) for quick looks; loading never needs it. Both are written atomically (temp file + rename).

Conventions
-----------
* World frame: metres, Z up, ground at z = 0 where it could be estimated.
* Motion: SMPL parameters, verbatim. ``pose`` (N, 24, 3) axis-angle per joint (joint 0 is the global
  orientation), ``betas`` (10,), ``transl`` (N, 3). The world-space body is exactly the body model's
  output for these parameters; the model frame is SMPL's (Y up, facing +Z), so a body standing
  upright in the Z-up world has a global orientation of about +90 degrees about X.
* Cameras: OpenCV pinhole. ``x_cam = R @ X_world + t``; pixel = ``K @ x_cam`` divided by depth; the
  camera looks along +z_cam with y_cam pointing down the image.
* Time: the reference clip defines the timeline, extended before and after it where other clips
  show more of the action (core.timeline): the reference clip's frame i is timeline frame
  ``i + offset`` (:attr:`CaptureResult.offset`, 0 where nothing was added). ``ref_time[i]`` is the
  (fractional) timeline frame shown at frame i of the clip; ``clip_time[r]`` is the (fractional)
  clip frame at timeline frame r; NaN where the clip does not show it. The consensus motion spans
  the timeline; each clip's own motion spans its frames.
* Contacts (optional): ``contacts`` (N, 2) bool, which of the consensus motion's ankles (left,
  right) stand planted at each timeline frame (core.contact held them in place and flat there);
  absent from files written before it, and where the capture left the feet as fitted.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .fileio import atomic_write

FORMAT_VERSION = 1
FORMAT_NAME = "imocap.capture_result"


class ResultFormatError(UserError, ValueError):
    """A CaptureResult file that cannot be read: missing, truncated, corrupted or too new."""


def _check_shape(name: str, array: np.ndarray, shape: tuple) -> None:
    """Check ``array`` against ``shape`` where None matches any length."""
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise ValueError(f"{name}: expected shape {want}, got {'x'.join(map(str, array.shape))}")


@dataclass(frozen=True, eq=False)
class Motion:
    """SMPL motion: pose (N,24,3) axis-angle, betas (10,), transl (N,3), at ``fps``."""

    pose: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    fps: float

    def __post_init__(self):
        _check_shape("pose", self.pose, (None, 24, 3))
        _check_shape("betas", self.betas, (None,))
        _check_shape("transl", self.transl, (self.pose.shape[0], 3))

    @property
    def frames(self) -> int:
        return int(self.pose.shape[0])


@dataclass(frozen=True, eq=False)
class ClipResult:
    """One input clip: where it is, its camera, its time mapping and its own motion.

    K (3,3), R (3,3), t (3,); ref_time (N,) for the clip's N frames; clip_time (N_ref,).
    ``rotations`` (N,3,3), present for a camera that pans or tilts about its centre: the rotation
    at each of the clip's frames (R is the first's; the centre -R^T t stays put).
    """

    path: str
    fps: float
    size: tuple[int, int]  # (width, height) in pixels
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    ref_time: np.ndarray
    clip_time: np.ndarray
    motion: Motion
    reproj_px: float = float("nan")
    sync_confidence: float = float("nan")
    first_frame: int = 0  # index in the video of the clip's frame 0
    rotations: np.ndarray | None = None
    # the video is a mirror image (flipped horizontally): K, R, t see it unflipped, so a pixel of the
    # video is at x = width - x of :meth:`project`'s
    mirrored: bool = False

    def __post_init__(self):
        if self.rotations is not None:
            _check_shape("rotations", self.rotations, (self.motion.frames, 3, 3))
        _check_shape("K", self.K, (3, 3))
        _check_shape("R", self.R, (3, 3))
        _check_shape("t", self.t, (3,))
        _check_shape("ref_time", self.ref_time, (self.motion.frames,))
        _check_shape("clip_time", self.clip_time, (None,))

    def timeline_start(self, timeline_fps: float | None = None) -> int:
        """The timeline frame (from 0) nearest the clip's frame 0: counted back from its first frame
        with a time at the frame rates' ratio (``timeline_fps``: the consensus motion's; None: the
        clip's own); 0 where no frame has one."""
        ok = np.where(np.isfinite(self.ref_time))[0]
        if not ok.size:
            return 0
        pace = (timeline_fps or self.fps) / self.fps
        return int(round(float(self.ref_time[ok[0]] - pace * ok[0])))

    def camera_at(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """(R, t) at one of the clip's frames (a panning camera turns; a still one does not)."""
        if self.rotations is None:
            return self.R, self.t
        r = self.rotations[frame]
        return r, r @ (self.R.T @ self.t)  # the same centre -R^T t

    def project(self, points: np.ndarray, frame: int | None = None) -> np.ndarray:
        """World points (..., 3) -> pixels (..., 2) through this clip's camera (at ``frame``)."""
        R, t = (self.R, self.t) if frame is None else self.camera_at(frame)
        cam = points @ R.T + t
        uv = cam @ self.K.T
        return uv[..., :2] / uv[..., 2:3]


@dataclass(frozen=True, eq=False)
class BodyRest:
    """The body model at the capture's shape, in the model frame (Y up).

    joint_names (24,), parents (24,) with -1 for the root, rest_joints (24,3), vertices (V,3),
    faces (F,3), weights (V,24) skinning weights.
    """

    joint_names: tuple[str, ...]
    parents: np.ndarray
    rest_joints: np.ndarray
    vertices: np.ndarray
    faces: np.ndarray
    weights: np.ndarray
    model: str = "open_body"

    def __post_init__(self):
        j = len(self.joint_names)
        _check_shape("parents", self.parents, (j,))
        _check_shape("rest_joints", self.rest_joints, (j, 3))
        _check_shape("vertices", self.vertices, (None, 3))
        _check_shape("faces", self.faces, (None, 3))
        _check_shape("weights", self.weights, (self.vertices.shape[0], j))


@dataclass(frozen=True, eq=False)
class CaptureResult:
    """A whole capture: clips with cameras and time maps, the consensus motion on the timeline (the
    reference clip's, extended where other clips show more), the body, quality figures, settings and
    versions."""

    clips: tuple[ClipResult, ...]
    reference: int
    motion: Motion
    body: BodyRest
    quality: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    contacts: np.ndarray | None = None  # (N,2) bool: the consensus motion's planted ankles (module docstring)

    def __post_init__(self):
        if self.contacts is not None:
            _check_shape("contacts", self.contacts, (self.motion.frames, 2))
            if self.contacts.dtype != bool:
                raise ValueError(f"contacts: expected bool, got {self.contacts.dtype}")
        if not self.clips:
            raise ValueError("a CaptureResult needs at least one clip")
        if not 0 <= self.reference < len(self.clips):
            raise ValueError(f"reference clip {self.reference} out of range 0..{len(self.clips) - 1}")
        for c in self.clips:
            if c.clip_time.shape[0] != self.motion.frames:
                raise ValueError("clip_time must have one entry per timeline frame "
                                 f"({self.motion.frames}), got {c.clip_time.shape[0]}")

    @property
    def offset(self) -> int:
        """The timeline frame of the reference clip's frame 0 (frames added before it)."""
        return self.clips[self.reference].timeline_start(self.motion.fps)

    # ---- comparison -----------------------------------------------------------------------------
    def equals(self, other: "CaptureResult") -> bool:
        """Bit-exact equality of every array (dtype, shape, bytes) and every scalar."""
        a, b = _flatten(self), _flatten(other)
        if json.dumps(a[1], sort_keys=True) != json.dumps(b[1], sort_keys=True) or a[0].keys() != b[0].keys():
            return False
        return all(_same_array(a[0][k], b[0][k]) for k in a[0])

    # ---- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` (.npz) and its ``.json`` sidecar atomically; returns the .npz path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays, meta = _flatten(self)
        meta_text = json.dumps(meta, indent=1, sort_keys=True)
        atomic_write(path, lambda f: np.savez_compressed(f, meta=np.array(meta_text), **arrays))
        atomic_write(path.with_suffix(".json"), lambda f: f.write(meta_text.encode()))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CaptureResult":
        """Read a result written by :meth:`save`. Raises ResultFormatError naming the file."""
        path = Path(path)
        if not path.is_file():
            raise ResultFormatError(f"{path}: no such CaptureResult file")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
            raise ResultFormatError(f"{path}: not a readable CaptureResult (truncated or corrupted?): {e}") from e
        if "meta" not in arrays:
            raise ResultFormatError(f"{path}: not a CaptureResult (no 'meta' record)")
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except json.JSONDecodeError as e:
            raise ResultFormatError(f"{path}: corrupted metadata: {e}") from e
        if meta.get("format") != FORMAT_NAME:
            raise ResultFormatError(f"{path}: not a CaptureResult (format {meta.get('format')!r})")
        version = meta.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
            raise ResultFormatError(
                f"{path}: CaptureResult format version {version!r} is not supported by this iMoCap "
                f"(it reads versions 1..{FORMAT_VERSION}); update iMoCap to open it")
        try:
            return _unflatten(arrays, meta)
        except (KeyError, ValueError, TypeError) as e:
            raise ResultFormatError(f"{path}: incomplete or inconsistent CaptureResult: {e}") from e


# ---- (un)flattening to arrays + JSON -----------------------------------------------------------

def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _json_float(x: float) -> float | None:
    """NaN/inf are not JSON: store them as null."""
    return float(x) if np.isfinite(x) else None


def _float(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _motion_arrays(prefix: str, m: Motion) -> dict[str, np.ndarray]:
    return {f"{prefix}pose": m.pose, f"{prefix}betas": m.betas, f"{prefix}transl": m.transl}


def _flatten(r: CaptureResult) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    arrays: dict[str, np.ndarray] = {}
    arrays.update(_motion_arrays("motion_", r.motion))
    if r.contacts is not None:
        arrays["contacts"] = r.contacts
    b = r.body
    arrays.update(body_parents=b.parents, body_rest_joints=b.rest_joints, body_vertices=b.vertices,
                  body_faces=b.faces, body_weights=b.weights)
    clips_meta = []
    for j, c in enumerate(r.clips):
        p = f"clip{j}_"
        arrays.update({p + "K": c.K, p + "R": c.R, p + "t": c.t, p + "ref_time": c.ref_time,
                       p + "clip_time": c.clip_time})
        arrays.update(_motion_arrays(p, c.motion))
        if c.rotations is not None:
            arrays[p + "rotations"] = c.rotations
        clips_meta.append({"path": c.path, "fps": c.fps, "size": list(c.size), "motion_fps": c.motion.fps,
                           "reproj_px": _json_float(c.reproj_px), "sync_confidence": _json_float(c.sync_confidence),
                           "first_frame": c.first_frame, "mirrored": bool(c.mirrored)})
    meta = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "reference": r.reference,
        "motion_fps": r.motion.fps, "clips": clips_meta,
        "body": {"joint_names": list(b.joint_names), "model": b.model},
        "quality": r.quality, "settings": r.settings, "versions": r.versions,
    }
    return arrays, json.loads(json.dumps(meta))  # normalise to what JSON gives back (lists, floats)


def _motion(arrays: dict[str, np.ndarray], prefix: str, fps: float) -> Motion:
    return Motion(arrays[prefix + "pose"], arrays[prefix + "betas"], arrays[prefix + "transl"], fps)


def _unflatten(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> CaptureResult:
    clips = []
    for j, cm in enumerate(meta["clips"]):
        p = f"clip{j}_"
        clips.append(ClipResult(
            path=cm["path"], fps=cm["fps"], size=tuple(cm["size"]), K=arrays[p + "K"], R=arrays[p + "R"],
            t=arrays[p + "t"], ref_time=arrays[p + "ref_time"], clip_time=arrays[p + "clip_time"],
            motion=_motion(arrays, p, cm["motion_fps"]), reproj_px=_float(cm["reproj_px"]),
            sync_confidence=_float(cm["sync_confidence"]), first_frame=cm["first_frame"],
            mirrored=bool(cm.get("mirrored", False)),
            rotations=arrays.get(p + "rotations")))
    body = BodyRest(tuple(meta["body"]["joint_names"]), arrays["body_parents"], arrays["body_rest_joints"],
                    arrays["body_vertices"], arrays["body_faces"], arrays["body_weights"], meta["body"]["model"])
    return CaptureResult(tuple(clips), meta["reference"], _motion(arrays, "motion_", meta["motion_fps"]), body,
                         meta["quality"], meta["settings"], meta["versions"], contacts=arrays.get("contacts"))
