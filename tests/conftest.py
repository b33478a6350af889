"""Shared fixtures. The repository root is on sys.path (pytest.ini: pythonpath = .)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "mocap"  # the benchmarks' real motion capture (../shared/mocap)


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses of the engine: offline ultralytics, project-owned settings."""
    env = dict(os.environ)
    env.update(YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(ROOT / ".cache" / "ultralytics"), PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def run_python(code_or_args: list[str] | str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -c CODE`` (str) or ``python ARGS...`` (list) in a fresh interpreter at the repo root."""
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=worker_env(**env), capture_output=True,
                          text=True, timeout=timeout)


def coco_keypoints(joints):
    """(N,17,3) COCO keypoints of motion-capture joints (N,24,3) (the protocol's mapping; zero
    where the capture maps none)."""
    import numpy as np

    from bench.mocap import COCO_FROM_SMPL

    kp = np.zeros(joints.shape[:1] + (17, 3))
    for k, sj in COCO_FROM_SMPL.items():
        kp[:, k] = joints[:, sj]
    return kp


@pytest.fixture(scope="session")
def body():
    from core.body import BodyModel

    return BodyModel(device="cpu")


@pytest.fixture(scope="session")
def example_detections():
    """The detector's tracks of the demo clips in examples/ (in demo_truth.npz's clip order)."""
    import numpy as np

    from core.detect import detect_clip

    truth = np.load(ROOT / "examples" / "demo_truth.npz")
    return [detect_clip(ROOT / "examples" / str(name))[0] for name in truth["clips"]]
