# SPDX-License-Identifier: GPL-3.0-or-later
"""Create the capture engine's environment (a venv with torch, ultralytics, smplx, OpenCV) for the
add-on, never touching Blender's own Python. No bpy module use.

:class:`SetupJob` runs ``<python> -m venv DIR`` then ``DIR/bin/python -m pip install -r
requirements.txt`` on a background thread, logging everything to ``DIR/setup.log``; ``poll()``
reports the state and the last log line, ``wait()`` blocks (background mode)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path


class SetupJob:
    """States: "running", "done", "failed"."""

    def __init__(self, venv_dir: str | Path, requirements: str | Path, python: str | None = None):
        self.venv = Path(venv_dir)
        self.requirements = Path(requirements)
        self.python = python or sys.executable
        self.log_path = self.venv.parent / "setup.log"
        self.state = "running"
        self.error: str | None = None
        self.last_line = "creating the environment..."
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def venv_python(self) -> Path:
        return self.venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")

    def start(self) -> "SetupJob":
        if not self.requirements.is_file():
            self.state, self.error = "failed", f"{self.requirements}: requirements file not found"
            return self
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def _step(self, cmd: list[str], log) -> bool:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                stdin=subprocess.DEVNULL)
        for line in proc.stdout:
            log.write(line)
            if line.strip():
                self.last_line = line.strip()[:200]
        code = proc.wait()
        log.flush()
        if code != 0:
            self.error = f"'{cmd[0]} {' '.join(cmd[1:3])}...' failed ({code}): {self.last_line}; see {self.log_path}"
        return code == 0

    def _run(self) -> None:
        try:
            with open(self.log_path, "w", encoding="utf-8") as log:
                ok = self.venv_python.is_file() or self._step([self.python, "-m", "venv", str(self.venv)], log)
                ok = ok and self._step([str(self.venv_python), "-m", "pip", "install", "--disable-pip-version-check",
                                        "-r", str(self.requirements)], log)
            self.state = "done" if ok else "failed"
        except OSError as e:
            self.state, self.error = "failed", f"setting up {self.venv} failed: {e}"

    def wait(self, timeout: float | None = None) -> str:
        end = None if timeout is None else time.monotonic() + timeout
        while self.state == "running" and (end is None or time.monotonic() < end):
            time.sleep(0.1)
        return self.state
