"""bench e2e --decompose: the demo's truth as the engine's givens (true cameras and times)."""

from pathlib import Path

import numpy as np

from conftest import run_python

TRUTH = Path(__file__).resolve().parent.parent / "examples" / "demo_truth.npz"


def test_true_givens_project_the_truth_onto_its_pixels_and_keep_its_times():
    """Each clip's given camera puts the truth's world keypoints on its pixels (every frame of a
    still clip; the panning clip's first frame, the view its keypoints are warped to), and the
    given times are the truth's reference frames, inverted consistently."""
    from bench.e2e import true_givens
    from core.geometry import project

    truth = np.load(TRUTH)
    cams, corr = true_givens(truth)
    ref = int(truth["reference"])
    assert corr.reference == ref and len(cams) == len(truth["clips"])
    panning = 0
    for j, cam in enumerate(cams):
        world, px = truth[f"c{j}_coco"].astype(np.float64), truth[f"c{j}_coco_px"].astype(np.float64)
        err = np.linalg.norm(project(world, cam.K, cam.R, cam.t)[0] - px, axis=-1)
        assert err[0].max() < 0.05, (j, err[0].max())
        if bool(truth[f"c{j}_pan"]):
            panning += 1
            assert err[-1].max() > 20  # the camera turned: later frames are not its first frame's view
        else:
            assert err.max() < 0.05, (j, err.max())
        rt = corr.ref_time[j]
        np.testing.assert_allclose(rt, truth[f"c{j}_ref_frame"] - truth[f"c{ref}_ref_frame"][0], atol=1e-9)
        inside = np.isfinite(corr.clip_time[j])
        back = np.interp(np.arange(len(corr.clip_time[j]))[inside], rt, np.arange(len(rt)))
        np.testing.assert_allclose(corr.clip_time[j][inside], back, atol=1e-6)
    assert panning == 1


def test_e2e_refuses_decompose_with_a_cut():
    r = run_python(["-m", "bench", "e2e", "--decompose", "--cut", "0:120"])
    assert r.returncode != 0
    assert "--decompose" in r.stderr and "--cut" in r.stderr
