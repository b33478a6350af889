# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the capture engine as a worker subprocess and follow it. No bpy module use.

The worker (``<python> -m core COMMAND ...``) prints JSON lines on stdout (see ``core.progress``)
and human messages on stderr. :class:`WorkerRunner` reads both on background threads, so
:meth:`WorkerRunner.poll` never blocks: a modal operator calls it from a timer, the blocking path
(background mode) calls :meth:`WorkerRunner.wait`. :meth:`WorkerRunner.cancel` sends SIGINT (the
worker stops cleanly) and kills it if it has not ended within the grace period.
"""

from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .addon import ADDON_ROOT

try:
    from ..core.progress import Progress, parse_line
except ImportError:  # imported as a top-level package (tests, scripts): core sits beside it
    from core.progress import Progress, parse_line


class WorkerRunner:
    """One worker run. States: "idle", "running", "done", "failed", "cancelled"."""

    def __init__(self, args: list[str], python: str | None = None, cwd: str | Path | None = None,
                 env: dict[str, str] | None = None, stderr_lines: int = 40):
        self.args = list(args)
        self.python = python or sys.executable
        self.cwd = str(cwd or ADDON_ROOT)
        self.env = env
        self.state = "idle"
        self.progress: Progress | None = None
        self.summary: dict | None = None
        self.error: str | None = None
        self.returncode: int | None = None
        self._messages: queue.Queue = queue.Queue()
        self._stderr = collections.deque(maxlen=stderr_lines)
        self._proc: subprocess.Popen | None = None
        self._threads: list[threading.Thread] = []
        self._cancelled = False

    # ---- starting ---------------------------------------------------------------------------------
    def start(self) -> "WorkerRunner":
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("YOLO_OFFLINE", "1")
        env["PYTHONPATH"] = self.cwd + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            self._proc = subprocess.Popen([self.python, "-m", "core", *self.args], cwd=self.cwd, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                          text=True, encoding="utf-8", errors="replace", bufsize=1)
        except OSError as e:
            self.state = "failed"
            self.error = f"cannot start the worker ({self.python}): {e.strerror or e}; check the worker Python " \
                         f"in the add-on preferences"
            return self
        self.state = "running"
        for target, stream in ((self._read_stdout, self._proc.stdout), (self._read_stderr, self._proc.stderr)):
            t = threading.Thread(target=target, args=(stream,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _read_stdout(self, stream) -> None:
        for line in stream:
            msg = parse_line(line)
            if msg is not None:
                self._messages.put(msg)

    def _read_stderr(self, stream) -> None:
        for line in stream:
            self._stderr.append(line.rstrip("\n"))

    # ---- following --------------------------------------------------------------------------------
    def poll(self) -> list:
        """New messages since the last call (progress, summary, error); updates the state."""
        out = []
        while True:
            try:
                msg = self._messages.get_nowait()
            except queue.Empty:
                break
            out.append(msg)
            if isinstance(msg, Progress):
                self.progress = msg
            elif "summary" in msg:
                self.summary = msg["summary"]
            elif "error" in msg:
                self.error = str(msg["error"])
        if self.state == "running" and self._proc is not None and self._proc.poll() is not None:
            for t in self._threads:
                t.join(timeout=2)
            out += self.poll() if not self._messages.empty() else []
            self._finish(self._proc.returncode)
        return out

    def _finish(self, code: int) -> None:
        self.returncode = code
        if self._cancelled:
            self.state = "cancelled"
        elif code == 0 and self.summary is not None:
            self.state = "done"
        else:
            self.state = "failed"
            if not self.error:
                tail = "\n".join(self.stderr_tail(8))
                self.error = f"the worker stopped with exit status {code}" + (f":\n{tail}" if tail else "")

    def wait(self, timeout: float | None = None, on_progress=None, interval: float = 0.05) -> str:
        """Block until the worker ends (or ``timeout`` s, then cancel); returns the final state."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.state == "running":
            for msg in self.poll():
                if on_progress and isinstance(msg, Progress):
                    on_progress(msg)
            if self.state != "running":
                break
            if end is not None and time.monotonic() > end:
                self.cancel()
                break
            time.sleep(interval)
        return self.state

    def cancel(self, grace: float = 2.0) -> None:
        """SIGINT, then kill if the worker is still there after ``grace`` seconds."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._cancelled = True
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self.poll()

    def stderr_tail(self, n: int = 10) -> list[str]:
        return list(self._stderr)[-n:]

    @property
    def fraction(self) -> float:
        return self.progress.fraction if self.progress else 0.0

    @property
    def stage_text(self) -> str:
        p = self.progress
        if p is None:
            return "starting..."
        what = f"{p.stage} {p.done}/{p.total}"
        return f"{what} ({p.clip})" if p.clip else what
