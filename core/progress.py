"""JSON-lines progress messages between the worker (``python -m core ...``) and its callers.

No bpy, no torch: the Blender side imports this to parse the worker's stdout.

Every stdout line the worker prints is one JSON object:

* progress: ``{"stage": "detect", "done": 12, "total": 300}`` (optionally ``"clip"``, ``"message"``)
* the last line of a command: ``{"summary": {...}}`` with the command's figures
* failure: ``{"error": "human readable message"}`` (the worker also exits non-zero)

Human-readable messages go to stderr.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from typing import IO, Any


@dataclass(frozen=True)
class Progress:
    """One parsed progress message."""

    stage: str
    done: int
    total: int
    message: str = ""
    clip: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


class ProgressWriter:
    """Writes progress lines to a stream, at most one per ``min_interval`` seconds per stage
    (the first and the last of a stage always go out)."""

    def __init__(self, stream: IO[str] | None = None, min_interval: float = 0.1):
        self.stream = stream if stream is not None else sys.stdout
        self.min_interval = min_interval
        self._last: dict[str, float] = {}

    def _write(self, obj: dict[str, Any]) -> None:
        self.stream.write(json.dumps(_finite(obj), separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()

    def progress(self, stage: str, done: int, total: int, message: str = "", clip: str = "") -> None:
        now = time.monotonic()
        last = self._last.get(stage)
        if done not in (0, total) and last is not None and now - last < self.min_interval:
            return
        self._last[stage] = now
        obj: dict[str, Any] = {"stage": stage, "done": int(done), "total": int(total)}
        if message:
            obj["message"] = message
        if clip:
            obj["clip"] = clip
        self._write(obj)

    def summary(self, summary: dict[str, Any]) -> None:
        self._write({"summary": summary})

    def error(self, message: str) -> None:
        self._write({"error": message})


def _finite(obj: Any) -> Any:
    """Replace NaN/inf (not valid JSON) by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def parse_line(line: str) -> Progress | dict[str, Any] | None:
    """Parse one worker stdout line.

    Returns a :class:`Progress` for progress lines, the dict for summary/error lines, and None for
    anything that is not a JSON object (stray prints from libraries are ignored, not fatal).
    """
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    if "stage" in obj and "done" in obj and "total" in obj:
        try:
            return Progress(str(obj["stage"]), int(obj["done"]), int(obj["total"]),
                            str(obj.get("message", "")), str(obj.get("clip", "")))
        except (TypeError, ValueError):
            return None
    if "summary" in obj or "error" in obj:
        return obj
    return None
