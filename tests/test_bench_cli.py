"""The benchmark command line prints one JSON object as its last line."""

import json

from conftest import run_python


def test_bench_body_prints_json():
    r = run_python(["-m", "bench", "body", "--batch", "64", "--repeats", "1", "--device", "cpu"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["benchmark"] == "body" and out["device"] == "cpu" and out["keypoints_per_s"] > 0
    assert out["machine"]["cpu_count"] >= 1
