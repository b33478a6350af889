"""The JSON-lines progress protocol between the worker and its callers."""

import io
import json

from core.progress import Progress, ProgressWriter, parse_line


def test_round_trip_and_throttle():
    buf = io.StringIO()
    w = ProgressWriter(buf, min_interval=3600)
    for i in range(101):
        w.progress("detect", i, 100, clip="a b.mp4")
    w.summary({"clips": 1, "reproj_px": float("nan")})
    w.error("boom")
    lines = buf.getvalue().splitlines()
    parsed = [parse_line(x) for x in lines]
    # throttled: the first and the last of the stage always go out, nothing in between within an hour
    assert [p.done for p in parsed if isinstance(p, Progress)] == [0, 100]
    assert parsed[0] == Progress("detect", 0, 100, "", "a b.mp4") and parsed[1].fraction == 1.0
    assert parsed[-2] == {"summary": {"clips": 1, "reproj_px": None}}  # NaN is not JSON: null
    assert parsed[-1] == {"error": "boom"}
    for x in lines:
        json.loads(x)  # strict JSON


def test_junk_is_ignored():
    for line in ("", "hello", "{not json", "[1,2]", '{"other": 1}', '{"stage": "x", "done": "a", "total": 3}'):
        assert parse_line(line) is None
    assert parse_line('  {"stage":"ba","done":3,"total":0}\n').fraction == 0.0
