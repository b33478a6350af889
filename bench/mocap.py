"""Real motion capture in the shared plain format (see shared/mocap/README.md), resampled.

Any file of that format works: ``joints`` (T,J,3) metres Z up, ``fps``, ``smpl24`` (24,) indices
into ``joints`` (-1 where the source has no such joint).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.cameras import sample
from core.errors import UserError

# COCO-17 keypoint -> SMPL joint that stands for it (the nose stands in by the head)
COCO_FROM_SMPL = {0: 15, 5: 16, 6: 17, 7: 18, 8: 19, 9: 20, 10: 21, 11: 1, 12: 2, 13: 4, 14: 5, 15: 7, 16: 8}
LIMB_COCO = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)  # shoulders, elbows, wrists, hips, knees, ankles
LIMB_SMPL = tuple(COCO_FROM_SMPL[k] for k in LIMB_COCO)


@dataclass(frozen=True)
class Mocap:
    """joints (T,24,3) in SMPL order, NaN where the source has no such joint; fps; name."""

    joints: np.ndarray
    fps: float
    name: str

    @property
    def frames(self) -> int:
        return int(self.joints.shape[0])

    def at(self, times: np.ndarray) -> np.ndarray:
        """Joints (N,24,3) at fractional frame indices ``times`` (N,), linearly interpolated."""
        return sample(self.joints, np.asarray(times, float))


def load_mocap(path: str | Path, fps: float = 30.0) -> Mocap:
    """Read a shared-format mocap file and resample it to ``fps``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as d:
            joints, src_fps, smpl24 = d["joints"].astype(np.float64), float(d["fps"]), d["smpl24"].astype(int)
    except Exception as e:  # noqa: BLE001
        raise UserError(f"{path}: not a readable mocap file (joints, fps, smpl24 expected): {e}") from e
    if joints.ndim != 3 or joints.shape[2] != 3 or smpl24.shape != (24,) or joints.shape[0] < 2:
        raise UserError(f"{path}: joints must be T x J x 3 with T >= 2 and smpl24 of length 24")
    missing = [COCO_FROM_SMPL[k] for k in LIMB_COCO if smpl24[COCO_FROM_SMPL[k]] < 0]
    if missing:
        raise UserError(f"{path}: the file maps no joint for SMPL joints {missing} (limb joints are required)")
    out = np.full((joints.shape[0], 24, 3), np.nan)
    ok = smpl24 >= 0
    out[:, ok] = joints[:, smpl24[ok]]
    src = Mocap(out, src_fps, path.stem)
    n = int(np.floor((src.frames - 1) * fps / src_fps)) + 1
    return Mocap(src.at(np.arange(n) * src_fps / fps), fps, path.stem)
