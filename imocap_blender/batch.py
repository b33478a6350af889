# SPDX-License-Identifier: GPL-3.0-or-later
"""Batch capture over a folder, one worker run after another. No bpy module use.

A folder's sub-folders holding clips are one capture each; clips lying loose in the folder are one
more capture. Each capture writes ``imocap_result.npz`` beside its clips; one that fails does not
stop the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .runner import WorkerRunner

VIDEO = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
RESULT_NAME = "imocap_result.npz"


def _clips(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO)


def find_captures(folder: str | Path) -> list[tuple[str, list[str]]]:
    """(name, clips) for every capture in ``folder`` (see the module docstring)."""
    folder = Path(folder)
    out = [(sub.name, _clips(sub)) for sub in sorted(folder.iterdir()) if sub.is_dir()]
    out = [(n, c) for n, c in out if c]
    loose = _clips(folder)
    if loose:
        out.append((folder.name, loose))
    return out


@dataclass
class BatchItem:
    name: str
    clips: list[str]
    result: str
    status: str = "waiting"  # waiting, running, done, failed
    message: str = ""


@dataclass
class BatchJob:
    """Runs ``make_args(clips, result_path)`` through the worker for each capture in turn."""

    items: list[BatchItem]
    make_args: object
    python: str | None = None
    _runner: WorkerRunner | None = field(default=None, repr=False)
    _index: int = -1

    @classmethod
    def for_folder(cls, folder: str | Path, make_args, python: str | None = None) -> "BatchJob":
        items = [BatchItem(n, c, str(Path(c[0]).parent / RESULT_NAME)) for n, c in find_captures(folder)]
        return cls(items, make_args, python)

    @property
    def finished(self) -> bool:
        return all(i.status in ("done", "failed") for i in self.items)

    def poll(self) -> None:
        """Advance: follow the running capture, start the next one when it ends."""
        if self._runner is not None:
            self._runner.poll()
            item = self.items[self._index]
            if self._runner.state == "running":
                item.message = self._runner.stage_text
                return
            item.status = "done" if self._runner.state == "done" else "failed"
            item.message = "" if item.status == "done" else (self._runner.error or self._runner.state)
            self._runner = None
        while self._index + 1 < len(self.items):
            self._index += 1
            item = self.items[self._index]
            item.status = "running"
            self._runner = WorkerRunner(self.make_args(item.clips, item.result), python=self.python).start()
            if self._runner.state == "failed":
                item.status, item.message = "failed", self._runner.error
                self._runner = None
                continue
            return

    def cancel(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            self.items[self._index].status, self.items[self._index].message = "failed", "cancelled"
            self._runner = None
        for item in self.items:
            if item.status == "waiting":
                item.status, item.message = "failed", "cancelled"

    def wait(self, interval: float = 0.1) -> None:
        import time

        while not self.finished:
            self.poll()
            time.sleep(interval)
