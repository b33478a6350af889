"""``python -m bench run``: the multi-clip protocol on one motion capture file, scored.

``--stage sync`` scores synchronisation. Until the monocular initialisation exists, the
synchroniser is fed each view's true 3D joints in that view's camera frame with Gaussian noise
(``"init": "noisy-truth"`` in the JSON), as the issue prescribes.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from core.errors import UserError


def add_arguments(p) -> None:
    p.add_argument("--mocap", required=True, help="motion capture .npz (shared format)")
    p.add_argument("--views", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise-px", type=float, default=4.0, help="2D keypoint noise at 1080p (default 4)")
    p.add_argument("--outliers", type=float, default=0.05, help="fraction of displaced keypoints (default 0.05)")
    p.add_argument("--noise-3d", type=float, default=0.02, help="noisy-truth 3D noise, metres (default 0.02)")
    p.add_argument("--stage", choices=("sync", "full"), default="sync")
    p.add_argument("--json", action="store_true", help="print only the JSON line")


def run(args) -> dict:
    from core.sync import SyncSettings, synchronise

    from .metrics import sync_error_pct
    from .mocap import LIMB_SMPL, load_mocap
    from .protocol import make_problem

    if args.stage == "full":
        raise UserError("--stage full needs the motion-recovery engine (initialisation + SMPL-BA), "
                        "which is not built yet; use --stage sync")
    if not 1 <= args.views <= 16:
        raise UserError("--views must be 1..16")
    t0 = time.perf_counter()
    mocap = load_mocap(args.mocap)
    problem = make_problem(mocap, args.views, args.seed, args.noise_px, args.outliers)
    rng = np.random.default_rng(10_000 + args.seed)
    poses = [v.joints_in_camera()[:, LIMB_SMPL] + rng.normal(0, args.noise_3d, (v.frames, 12, 3))
             for v in problem.views]
    seconds = {"protocol": time.perf_counter() - t0}
    truth = [v.ref_time for v in problem.views[1:]]
    out = {"mocap": mocap.name, "views": args.views, "seed": args.seed, "stage": args.stage,
           "init": "noisy-truth", "noise_3d_m": args.noise_3d,
           "frames": [v.frames for v in problem.views], "reference_frames": problem.reference_frames}
    for key, mode in (("sync_error_pct", "compose"), ("sync_error_pct_no_cycle", "none"),
                      ("sync_error_pct_svt", "svt")):
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            corr = synchronise(poses, settings=SyncSettings(cycle=mode))
        seconds["sync" if mode == "compose" else f"sync_{mode}"] = time.perf_counter() - t
        out[key] = round(sync_error_pct(corr.ref_time[1:], truth, problem.reference_frames), 4)
        if mode == "compose":
            out["sync_confidence"] = [round(float(c), 3) for c in corr.confidence]
            out["warnings"] = [str(w.message) for w in caught]
    seconds["total"] = time.perf_counter() - t0
    out["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return out
