"""Detection on real photos of people turned into clips (ultralytics' bus.jpg and zidane.jpg)."""

import json

import cv2
import numpy as np
import pytest

from bench.photo_clips import asset, pan_zoom_frames, write_clip
from conftest import run_python
from core.detect import DetectSettings, PoseModel, detect_clip
from core.errors import UserError


@pytest.fixture(scope="module")
def model():
    return PoseModel(DetectSettings())


@pytest.fixture(scope="module")
def bus_clip(tmp_path_factory):
    img = cv2.imread(str(asset("bus.jpg")))
    frames, mats = pan_zoom_frames(img, 40, (640, 480))
    return write_clip(tmp_path_factory.mktemp("clips") / "bus pan é.mp4", frames), mats


def _to_photo(points, mats):
    """Frame pixels (N,2) -> photo pixels, frame by frame."""
    out = []
    for p, m in zip(points, mats):
        a, t = m[:, :2], m[:, 2]
        out.append(np.linalg.solve(a, p - t))
    return np.array(out)


def test_pan_zoom_over_a_photo_keeps_one_person(bus_clip, model, tmp_path):
    path, mats = bus_clip
    tracks, fig = detect_clip(path, DetectSettings(), model=model, cache_dir=tmp_path)
    assert tracks.frames == 40 and tracks.frames_with_person == 40
    assert fig["people_tracked"] >= 3  # bus.jpg shows four people
    centres = _to_photo(0.5 * (tracks.bbox[:, :2] + tracks.bbox[:, 2:]), mats)
    # the same person in every frame: the box centre stays put on the photo (810 px wide)
    assert np.ptp(centres[:, 0]) < 40 and np.ptp(centres[:, 1]) < 40
    # keypoints lie inside the box, shoulders above hips
    seen = tracks.confidence > 0.5
    assert seen.mean() > 0.6
    assert np.all(tracks.keypoints[:, 5:7, 1].mean(1) < tracks.keypoints[:, 11:13, 1].mean(1))
    # the cache: a second run does no inference and gives the same tracks
    images = model.images
    again, fig2 = detect_clip(path, DetectSettings(), model=model, cache_dir=tmp_path)
    assert fig2["cached"] and model.images == images
    np.testing.assert_array_equal(again.keypoints, tracks.keypoints)


def test_crop_mode_matches_full_frame_keypoints(bus_clip, model):
    path, _ = bus_clip
    fast, _ = detect_clip(path, DetectSettings(), model=model)
    full, _ = detect_clip(path, DetectSettings(mode="full"), model=model)
    both = (fast.confidence > 0.5) & (full.confidence > 0.5)
    err = np.linalg.norm(fast.keypoints - full.keypoints, axis=-1)[both]
    height = np.nanmedian(full.bbox[:, 3] - full.bbox[:, 1])
    assert both.sum() > 300
    assert np.median(err) < 0.03 * height and np.percentile(err, 90) < 0.08 * height


def _person(img, box, height):
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = img[y0:y1, x0:x1]
    s = height / crop.shape[0]
    return cv2.resize(crop, (max(1, int(crop.shape[1] * s)), height))


def _paste(canvas, patch, x, y):
    h, w = patch.shape[:2]
    canvas[y:y + h, x:x + w] = patch


def test_performer_kept_when_a_bystander_is_larger(model, tmp_path):
    """The performer (centre, there throughout, moving) vs a bystander at the edge who is larger
    while present."""
    bus, zid = cv2.imread(str(asset("bus.jpg"))), cv2.imread(str(asset("zidane.jpg")))
    people = {}
    for name, img in (("bus", bus), ("zid", zid)):
        det = model([img], 640)[0]
        people[name] = det.boxes[np.argmax(det.conf)]
    frames, truth = [], []
    for f in range(40):
        canvas = np.full((360, 640, 3), 200, np.uint8)
        x = int(250 + 40 * np.sin(f / 6))
        perf = _person(bus, people["bus"], 220)
        _paste(canvas, perf, x, 100)
        truth.append(x + perf.shape[1] / 2)
        if 10 <= f < 30:
            side = _person(zid, people["zid"], 340)
            _paste(canvas, side[:, : min(side.shape[1], 150)], 490, 10)
        frames.append(canvas)
    path = write_clip(tmp_path / "two people.mp4", frames)
    tracks, _ = detect_clip(path, DetectSettings(), model=model)
    cx = 0.5 * (tracks.bbox[:, 0] + tracks.bbox[:, 2])
    assert tracks.frames_with_person == 40
    assert np.all(np.abs(cx - np.array(truth)) < 40)  # the performer in every frame


def test_portrait_clip_and_nobody(model, tmp_path):
    img = cv2.imread(str(asset("zidane.jpg")))
    frames, _ = pan_zoom_frames(img, 12, (360, 640), zoom=(1.5, 1.6))
    tracks, _ = detect_clip(write_clip(tmp_path / "portrait.mp4", frames), DetectSettings(), model=model)
    assert tracks.size == (360, 640) and tracks.frames_with_person == 12
    empty = [np.full((240, 320, 3), 128, np.uint8)] * 10
    none, _ = detect_clip(write_clip(tmp_path / "empty.mp4", empty), DetectSettings(), model=model)
    assert none.frames == 10 and none.frames_with_person == 0 and np.all(none.confidence == 0)


def test_bad_inputs(tmp_path, model):
    junk = tmp_path / "not a video.mp4"
    junk.write_bytes(b"hello")
    with pytest.raises(UserError, match="not a video.mp4"):
        detect_clip(junk, model=model)
    with pytest.raises(UserError, match="no such file"):
        detect_clip(tmp_path / "missing.mp4", model=model)
    with pytest.raises(UserError, match="not a file"):
        detect_clip(tmp_path, model=model)
    import cv2 as _cv2

    w = _cv2.VideoWriter(str(tmp_path / "zero.mp4"), _cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    w.release()
    with pytest.raises(UserError, match="zero.mp4"):
        detect_clip(tmp_path / "zero.mp4", model=model)
    with pytest.raises(UserError, match="looked in"):
        PoseModel(DetectSettings(model="no-such-model"))


def test_cli_detect_offline(bus_clip, tmp_path):
    path, _ = bus_clip
    empty = write_clip(tmp_path / "empty clip.mp4", [np.full((120, 160, 3), 90, np.uint8)] * 5)
    # no network: any connection attempt raises (ultralytics must not try)
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(
        "import socket\n"
        "def _no(self, *a, **k):\n    raise OSError('network disabled by the test')\n"
        "socket.socket.connect = _no\nsocket.socket.connect_ex = _no\n"
        "socket.create_connection = lambda *a, **k: _no(None)\n")
    from conftest import ROOT

    r = run_python(["-m", "core", "detect", str(path), str(empty), "--out", str(tmp_path / "out")],
                   PYTHONPATH=f"{guard}:{ROOT}", YOLO_CONFIG_DIR=str(tmp_path / "settings"))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert any(x.get("stage") == "detect" for x in lines[:-1])
    s = lines[-1]["summary"]
    assert s["clips"][0]["frames"] == 40 and s["clips"][0]["frames_with_person"] == 40
    assert s["clips"][1]["frames_with_person"] == 0
    assert s["frames"] == 45 and s["frames_with_person"] == 40
    assert s["frames_per_second"] > 0 and s["seconds"] > 0
    assert any("nobody" in x.get("message", "") for x in lines[:-1])
    bad = run_python(["-m", "core", "detect", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o")])
    assert bad.returncode == 1 and "nope.mp4" in json.loads(bad.stdout.splitlines()[-1])["error"]
