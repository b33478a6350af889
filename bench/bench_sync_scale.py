"""``python -m bench sync-scale``: how synchronisation time grows with the stacked size N_a.

The protocol's problem on one motion capture, resampled so the reference has L frames, for several
L; reports seconds per mode against N_a (all frames of all views) and the fitted exponent of
seconds ~ N_a^p.
"""

from __future__ import annotations

import time
import warnings

import numpy as np


def add_arguments(p) -> None:
    p.add_argument("--mocap", required=True)
    p.add_argument("--views", type=int, default=4)
    p.add_argument("--lengths", default="175,350,700,1400", help="reference frames to try (comma-separated)")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> dict:
    from core.sync import SyncSettings, synchronise

    from .mocap import LIMB_SMPL, Mocap, load_mocap
    from .protocol import make_problem

    base = load_mocap(args.mocap)
    rows = []
    for length in (int(x) for x in args.lengths.split(",")):
        m = Mocap(base.at(np.linspace(0, base.frames - 1, length)), base.fps * (length - 1) / (base.frames - 1),
                  base.name)
        prob = make_problem(m, args.views, args.seed)
        rng = np.random.default_rng(args.seed)
        poses = [v.joints_in_camera()[:, LIMB_SMPL] + rng.normal(0, 0.02, (v.frames, 12, 3)) for v in prob.views]
        row = {"reference_frames": length, "n_a": int(sum(v.frames for v in prob.views))}
        for mode in ("compose", "none", "svt"):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                synchronise(poses, settings=SyncSettings(cycle=mode))
            row[f"seconds_{mode}"] = round(time.perf_counter() - t, 3)
        rows.append(row)
    n = np.log([r["n_a"] for r in rows])
    out = {"benchmark": "sync-scale", "mocap": base.name, "views": args.views, "rows": rows}
    if len(rows) >= 2:
        for mode in ("compose", "none", "svt"):
            out[f"exponent_{mode}"] = round(float(np.polyfit(n, np.log([r[f"seconds_{mode}"] for r in rows]), 1)[0]), 2)
    return out
