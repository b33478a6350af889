"""Batch capture over a folder (bpy-free job, real worker subprocesses)."""

import numpy as np
import pytest

from bench.mocap import load_mocap
from bench.protocol import make_problem
from conftest import SHARED
from core.result import CaptureResult
from imocap_blender.batch import BatchJob, find_captures


def test_find_captures(tmp_path):
    (tmp_path / "serve").mkdir()
    (tmp_path / "empty").mkdir()
    for name in ("serve/a.mp4", "serve/b.MOV", "serve/notes.txt", "loose.mp4"):
        (tmp_path / name).write_bytes(b"x")
    caps = find_captures(tmp_path)
    assert [n for n, _ in caps] == ["serve", tmp_path.name]
    assert [len(c) for _, c in caps] == [2, 1]


@pytest.mark.skipif(not (SHARED / "deepmimic_jump.npz").is_file(), reason="shared/mocap missing")
def test_a_failing_capture_does_not_stop_the_others(tmp_path):
    # capture "good" from 2D tracks (the worker's --tracks path keeps the test fast), "bad" fails
    prob = make_problem(load_mocap(SHARED / "deepmimic_jump.npz"), 2, 0)
    good = tmp_path / "good"
    for j, v in enumerate(prob.views):
        v.tracks.save(good / f"view{j}.mp4")  # named like clips: the batch looks for video names
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mp4").write_bytes(b"not tracks")

    def args(clips, result):
        return ["capture", *clips, "--tracks", "--out", result, "--iters", "1"]

    job = BatchJob.for_folder(tmp_path, args)
    assert [i.name for i in job.items] == ["bad", "good"]
    job.wait()
    bad, ok = job.items
    assert bad.status == "failed" and "x.mp4" in bad.message
    assert ok.status == "done", ok.message
    r = CaptureResult.load(ok.result)
    assert len(r.clips) == 2 and np.isfinite(r.clips[1].sync_confidence)
