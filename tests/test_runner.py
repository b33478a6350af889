"""The add-on's worker runner against real subprocesses (no Blender needed)."""

import sys
import time

from conftest import ROOT
from imocap_blender.runner import WorkerRunner

SLOW_WORKER = r'''
import json, sys, time
for i in range(1000):
    print(json.dumps({"stage": "work", "done": i, "total": 1000}), flush=True)
    time.sleep(0.05)
'''


def test_progress_and_summary_from_the_real_worker(tmp_path):
    seen = []
    r = WorkerRunner(["demo", "--out", str(tmp_path / "demo"), "--frames", "20", "--clips", "2"]).start()
    assert r.wait(timeout=120, on_progress=seen.append) == "done", r.error
    assert seen and seen[0].stage == "demo" and r.fraction == 1.0
    assert r.summary["clips"] == 2 and (tmp_path / "demo" / "demo_result.npz").is_file()
    assert r.returncode == 0 and r.error is None


def test_cancel_stops_the_worker_within_two_seconds(tmp_path):
    script = tmp_path / "core"  # a stand-in package "core" whose __main__ works forever
    script.mkdir()
    (script / "__init__.py").write_text("")
    (script / "__main__.py").write_text(SLOW_WORKER)
    r = WorkerRunner(["anything"], cwd=tmp_path).start()
    deadline = time.monotonic() + 30
    while r.progress is None and time.monotonic() < deadline:
        r.poll()
        time.sleep(0.02)
    assert r.progress is not None and r.state == "running"
    t = time.monotonic()
    r.cancel()
    assert time.monotonic() - t < 2.5
    assert r.state == "cancelled" and r._proc.poll() is not None


def test_cancel_interrupts_the_real_worker_cleanly(tmp_path):
    r = WorkerRunner(["demo", "--out", str(tmp_path / "d"), "--frames", "20000", "--clips", "4"]).start()
    deadline = time.monotonic() + 60
    while r.progress is None and time.monotonic() < deadline:
        r.poll()
        time.sleep(0.02)
    t = time.monotonic()
    r.cancel()
    assert time.monotonic() - t < 2.5 and r.state == "cancelled"
    assert not (tmp_path / "d" / "demo_result.npz").exists()  # nothing half-written


def test_a_crash_surfaces_its_message(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    r = WorkerRunner(["inspect", str(bad)]).start()
    assert r.wait(timeout=60) == "failed"
    assert "bad.npz" in r.error
    pkg = tmp_path / "core"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("import sys\nprint('partial', file=sys.stderr)\nraise SystemExit(3)\n")
    r = WorkerRunner(["x"], cwd=tmp_path).start()
    assert r.wait(timeout=30) == "failed" and r.returncode == 3 and "partial" in r.error


def test_a_missing_interpreter_is_reported():
    r = WorkerRunner(["demo"], python="/nonexistent/python").start()
    assert r.state == "failed" and "worker Python" in r.error
    assert ROOT.is_dir() and sys.executable
