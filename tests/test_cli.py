"""The worker's command line: help, the demo job, inspect, errors as JSON lines."""

import json

import numpy as np

from conftest import ROOT, run_python
from core.progress import Progress, parse_line
from core.result import CaptureResult


def _lines(stdout):
    parsed = [parse_line(x) for x in stdout.splitlines()]
    assert all(p is not None for p in parsed), stdout  # stdout carries JSON lines only
    return parsed


def test_help_lists_subcommands():
    r = run_python(["-m", "core", "--help"])
    assert r.returncode == 0
    for name in ("demo", "body", "inspect"):
        assert name in r.stdout
    assert run_python(["-m", "core"]).returncode == 2


def test_demo_writes_a_result_and_a_picture(tmp_path, body):
    out = tmp_path / "demo dir é"
    r = run_python(["-m", "core", "demo", "--out", str(out), "--frames", "30", "--clips", "2"])
    assert r.returncode == 0, r.stderr
    parsed = _lines(r.stdout)
    assert isinstance(parsed[0], Progress) and parsed[0].stage == "demo"
    summary = parsed[-1]["summary"]
    assert summary["clips"] == 2 and summary["frames"] == 30 and summary["seconds"] > 0
    result = CaptureResult.load(summary["result"])
    assert len(result.clips) == 2 and result.motion.frames == 30
    png = (out / "demo_result.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # the demo's world is Z up with the body standing: head above the pelvis above the feet
    import torch

    m = result.motion
    with torch.no_grad():
        j = body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl)).joints.numpy()
    assert np.all(j[:, 15, 2] > j[:, 0, 2] + 0.4) and np.all(j[:, 0, 2] > j[:, 7, 2] + 0.6)
    assert abs(j[:, [7, 8], 2].min()) < 0.15  # feet near the ground


def test_body_and_inspect(tmp_path):
    r = run_python(["-m", "core", "body"])
    s = json.loads(r.stdout.splitlines()[-1])["summary"]
    assert s["joints"][0] == "pelvis" and len(s["joints"]) == 24 and 1.5 < s["height_m"] < 2.0
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"\0" * 100)
    r = run_python(["-m", "core", "inspect", str(bad)])
    assert r.returncode == 1
    assert "bad.npz" in json.loads(r.stdout.splitlines()[-1])["error"]
    assert "Traceback" not in r.stderr  # a user error, not a crash
    r = run_python(["-m", "core", "inspect", str(ROOT / "examples" / "demo_result.npz")])
    s = json.loads(r.stdout.splitlines()[-1])["summary"]
    assert r.returncode == 0 and s["frames"] == 240 and s["reference"] == 0 and s["reference_offset"] == 0
    assert [c["frames"] for c in s["clips"]] == [240, 125, 120, 120] and not any(c["mirrored"] for c in s["clips"])
    demo = CaptureResult.load(ROOT / "examples" / "demo_result.npz")
    assert s["planted_frames"] == [int(n) for n in demo.contacts.sum(0)] and min(s["planted_frames"]) > 60


def test_bad_arguments_exit_2():
    r = run_python(["-m", "core", "demo", "--frames", "many"])
    assert r.returncode == 2 and "invalid int" in r.stderr


def test_the_add_ons_capture_arguments_parse_as_the_worker_reads_them():
    """imocap_blender.worker.capture_args against core capture's own parser: an automatic
    reference (-1 in the panel), a given one, mirrored clips kept as they are and the feet left as
    fitted."""
    import argparse

    from core.cmd_capture import add_arguments
    from imocap_blender.worker import capture_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    auto = parser.parse_args(capture_args(["a.mp4", "b.mp4"], "r.npz", 1, 5, -1, "", "cpu")[1:])
    assert auto.reference is None and not auto.keep_mirrored and auto.inputs == ["a.mp4", "b.mp4"]
    assert auto.plant_feet
    given = parser.parse_args(capture_args(["a.mp4", "b.mp4"], "r.npz", 2, 3, 1, "m.pt", "", unflip=False,
                                           plant_feet=False)[1:])
    assert (given.reference, given.keep_mirrored, given.rank, given.iters, given.model) == (1, True, 2, 3, "m.pt")
    assert not given.plant_feet
    # core example hands the clips to the capture through the same parser (a hand-made namespace
    # missed --keep-mirrored once)
    from core.cmd_example import capture_arguments

    demo = capture_arguments(["a.mp4", "--out", "r.npz", "--iters", "2"])
    assert vars(demo) == {**vars(parser.parse_args(["a.mp4", "--out", "r.npz"])), "iters": 2}
