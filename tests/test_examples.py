"""The committed demo clips (``python -m bench render-demo``): small enough, with their ground
truth; the detector finds the rendered person in them where the truth says; the panning clip's
camera motion is recovered from its background."""

import numpy as np
import pytest

from conftest import ROOT

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def truth():
    return np.load(EXAMPLES / "demo_truth.npz")


@pytest.fixture(scope="module")
def detections(example_detections):
    return example_detections


def test_clips_are_small_and_described(truth):
    names = [str(n) for n in truth["clips"]]
    assert len(names) == 4
    total = sum((EXAMPLES / n).stat().st_size for n in names)
    assert total < 8 * 2**20, total
    fps = [float(truth[f"c{j}_fps"]) for j in range(4)]
    assert sorted(set(fps)) == [24.0, 25.0, 30.0]
    assert [bool(truth[f"c{j}_pan"]) for j in range(4)].count(True) == 1
    starts = [float(truth[f"c{j}_time"][0]) for j in range(4)]
    assert len(set(starts)) == 4  # each clip starts at a different moment


def test_the_detector_sees_the_rendered_person(truth, detections):
    for j, tracks in enumerate(detections):
        gt = truth[f"c{j}_coco_px"]
        assert tracks.frames == len(gt)
        found = tracks.confidence.max(axis=1) > 0.3
        assert found.mean() >= 0.95, (j, found.mean())
        limbs = list(range(5, 17))
        err = np.linalg.norm(tracks.keypoints[found][:, limbs] - gt[found][:, limbs], axis=-1)
        assert np.median(err) < 8.0, (j, np.median(err))


def test_the_panning_camera_is_followed(truth, detections):
    from core.stabilise import STILL_PX, corner_travel, frame_homographies, warp_points

    moving = []
    for j, name in enumerate(truth["clips"]):
        h, info = frame_homographies(EXAMPLES / str(name), detections[j].bbox)
        size = tuple(int(v) for v in truth[f"c{j}_size"])
        moving.append(corner_travel(h, size) > STILL_PX)
        if truth[f"c{j}_pan"]:
            K, R = truth[f"c{j}_K"], truth[f"c{j}_R"]
            true_h = np.einsum("ij,jk,nlk,lm->nim", K, R[0], R, np.linalg.inv(K))  # K R0 Rk^T K^-1
            w, hh = size
            grid = np.stack(np.meshgrid(np.linspace(0, w, 9), np.linspace(0, hh, 5)), -1).reshape(-1, 2)
            pts = np.repeat(grid[None], len(h), 0)
            err = np.linalg.norm(warp_points(h, pts) - warp_points(true_h, pts), axis=-1)
            assert np.median(err) < 3.0 and np.percentile(err, 95) < 10.0, (np.median(err), np.percentile(err, 95))
    assert moving == [bool(truth[f"c{j}_pan"]) for j in range(4)]
