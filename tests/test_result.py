"""CaptureResult: bit-exact round trip, atomic writes, clear errors for bad files."""

import json
import os
import zipfile

import numpy as np
import pytest

from core.demo import demo_capture
from core.result import FORMAT_VERSION, CaptureResult, ResultFormatError


@pytest.fixture(scope="module")
def result(body):
    return demo_capture(body, frames=40, clips=3)


def test_round_trip_is_bit_exact(result, tmp_path):
    path = result.save(tmp_path / "cap.npz")
    assert path == tmp_path / "cap.npz" and (tmp_path / "cap.json").is_file()
    back = CaptureResult.load(path)
    assert back.equals(result) and result.equals(back)
    for a, b in zip(result.clips, back.clips):
        for name in ("K", "R", "t", "ref_time", "clip_time"):
            x, y = getattr(a, name), getattr(b, name)
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
        assert a.path == b.path and a.size == b.size and a.fps == b.fps
    assert back.body.joint_names == result.body.joint_names
    assert back.motion.pose.tobytes() == result.motion.pose.tobytes()
    # NaN (not measured) survives the trip; the sidecar is valid JSON (null)
    assert np.isnan(back.clips[0].reproj_px)
    meta = json.loads((tmp_path / "cap.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["clips"][0]["reproj_px"] is None
    # a change anywhere breaks equality
    other = demo_capture_changed(result)
    assert not other.equals(result)
    assert sorted(os.listdir(tmp_path)) == ["cap.json", "cap.npz"]  # no temp files left
    mask = os.umask(0)
    os.umask(mask)
    assert (path.stat().st_mode & 0o777) == 0o666 & ~mask  # the usual mode, not mkstemp's 0600


def test_a_mirrored_clip_round_trips_and_older_files_read_as_unmirrored(result, tmp_path):
    from dataclasses import replace

    flagged = replace(result, clips=(result.clips[0], replace(result.clips[1], mirrored=True)) + result.clips[2:])
    back = CaptureResult.load(flagged.save(tmp_path / "m.npz"))
    assert [c.mirrored for c in back.clips] == [False, True, False] and back.equals(flagged)
    assert not flagged.equals(result)
    # a file written before the field existed: its clips' metadata has no "mirrored"
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    meta = json.loads(str(arrays.pop("meta")))
    for c in meta["clips"]:
        del c["mirrored"]
    np.savez(tmp_path / "old.npz", meta=np.array(json.dumps(meta)), **arrays)
    assert [c.mirrored for c in CaptureResult.load(tmp_path / "old.npz").clips] == [False] * 3


def test_contacts_round_trip_and_older_files_have_none(result, tmp_path):
    """The consensus motion's planted ankles (core.contact) survive a save and load, are part of
    equality, must be (frames, 2) booleans, and a file written before them reads as None."""
    from dataclasses import replace

    contacts = np.zeros((result.motion.frames, 2), bool)
    contacts[5:20, 0] = True
    contacts[12:30, 1] = True
    planted = replace(result, contacts=contacts)
    back = CaptureResult.load(planted.save(tmp_path / "c.npz"))
    assert back.equals(planted) and not back.equals(result)
    np.testing.assert_array_equal(back.contacts, contacts)
    assert CaptureResult.load(result.save(tmp_path / "none.npz")).contacts is None
    with pytest.raises(ValueError, match="contacts"):
        replace(result, contacts=contacts[:-1])
    with pytest.raises(ValueError, match="contacts"):
        replace(result, contacts=contacts.astype(np.uint8))


def demo_capture_changed(r):
    from dataclasses import replace

    pose = r.motion.pose.copy()
    pose[3, 5, 1] = np.nextafter(pose[3, 5, 1], np.float32(1))
    return replace(r, motion=replace(r.motion, pose=pose))


def test_time_maps_are_inverse(result):
    for c in result.clips:
        ok = ~np.isnan(c.clip_time)
        r = np.arange(len(c.clip_time))[ok]
        np.testing.assert_allclose(np.interp(c.clip_time[ok], np.arange(c.motion.frames), c.ref_time), r, atol=1e-9)


def test_truncated_file_is_a_clear_error(result, tmp_path):
    path = result.save(tmp_path / "cap.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultFormatError, match="cap.npz"):
        CaptureResult.load(path)


def test_corrupted_and_foreign_files(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(os.urandom(1000))
    with pytest.raises(ResultFormatError, match="junk.npz"):
        CaptureResult.load(junk)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ResultFormatError, match="foreign.npz.*not a CaptureResult"):
        CaptureResult.load(foreign)
    with pytest.raises(ResultFormatError, match="no such"):
        CaptureResult.load(tmp_path / "missing.npz")


def _rewrite_meta(path, change):
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_future_version_is_refused(result, tmp_path):
    path = result.save(tmp_path / "cap.npz")
    _rewrite_meta(path, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ResultFormatError, match=f"cap.npz.*version {FORMAT_VERSION + 1}.*update"):
        CaptureResult.load(path)


def test_missing_array_is_a_clear_error(result, tmp_path):
    path = result.save(tmp_path / "cap.npz")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert "clip1_K.npy" in names
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files if k != "clip1_K"}
    np.savez(path, **arrays)
    with pytest.raises(ResultFormatError, match="cap.npz.*clip1_K"):
        CaptureResult.load(path)


def test_failed_write_leaves_previous_file_intact(result, tmp_path, monkeypatch):
    path = result.save(tmp_path / "cap.npz")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="disk full"):
        result.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["cap.json", "cap.npz"]


def test_shape_checks(result):
    from dataclasses import replace

    with pytest.raises(ValueError, match="pose"):
        replace(result.motion, pose=np.zeros((5, 23, 3), np.float32))
    with pytest.raises(ValueError, match="K"):
        replace(result.clips[0], K=np.eye(4))
    with pytest.raises(ValueError, match="reference"):
        replace(result, reference=7)
