# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Python runs the capture engine, and the arguments of a capture. No bpy module use."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def worker_python(preference: str, user_dir: str | None) -> str | None:
    """The interpreter for the worker: the preference, else $IMOCAP_WORKER_PYTHON, else the venv
    the add-on sets up in its user folder; None when there is none."""
    for candidate in (preference, os.environ.get("IMOCAP_WORKER_PYTHON", "")):
        if candidate:
            return candidate
    if user_dir:
        bindir = "Scripts" if sys.platform == "win32" else "bin"
        exe = Path(user_dir) / "venv" / bindir / ("python.exe" if sys.platform == "win32" else "python")
        if exe.is_file():
            return str(exe)
    return None


def capture_args(clips: list[str], out: str, rank: int, iterations: int, reference: int, detector: str,
                 device: str, body: str = "", unflip: bool = True, plant_feet: bool = True) -> list[str]:
    """The worker's ``core capture`` arguments; ``reference`` < 0: chosen by the capture; ``unflip``:
    clips that look like mirror images are captured unflipped; ``plant_feet``: feet that stand still
    are held in place."""
    args = ["capture", *clips, "--out", out, "--rank", str(rank), "--iters", str(iterations),
            "--reference", "auto" if reference < 0 else str(reference), "--model", detector or "yolo11n-pose",
            "--device", device or "auto"]
    if body:
        args += ["--body", body]
    if not unflip:
        args.append("--keep-mirrored")
    if not plant_feet:
        args.append("--no-plant-feet")
    return args


def timeline_note(summary: dict) -> str | None:
    """A line for the user where the capture's timeline grew past the reference clip (the
    summary's ``timeline``, core.timeline); None where it did not."""
    t = summary.get("timeline") or {}
    before, after = (t.get("added") or [0, 0])[:2]
    if not (before or after):
        return None
    ref = (summary.get("reference") or {}).get("clip", "the reference clip")
    first = int(t.get("reference_offset", before)) + 1
    last = int(t["frames"]) - after
    return (f"other clips show more of the action than {os.path.basename(str(ref))}: the timeline runs {t['frames']} "
            f"frames ({before} added before it, {after} after), its own frames at scene frames {first}-{last}")
