"""``python -m bench run``: the multi-clip protocol on one motion capture file, scored.

``--stage sync`` scores synchronisation from the 2D keypoints (``--init 2d``, the engine's first
synchronisation), or, as the issue first prescribed, from each view's true 3D joints in its camera
frame with noise (``--init noisy-truth``). ``--stage full`` runs the whole engine from the 2D and
scores motion too, with the single-clip baseline, the oracle (true cameras and synchronisation
given to the same BA) and the ablations; ``--decompose`` adds the engine given only the true
synchronisation and only the true cameras.
"""

from __future__ import annotations

import resource
import time
import warnings
from dataclasses import replace

import numpy as np

from core.errors import UserError


def add_arguments(p) -> None:
    p.add_argument("--mocap", required=True, help="motion capture .npz (shared format)")
    p.add_argument("--views", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise-px", type=float, default=4.0, help="2D keypoint noise at 1080p (default 4)")
    p.add_argument("--outliers", type=float, default=0.05, help="fraction of displaced keypoints (default 0.05)")
    p.add_argument("--stage", choices=("sync", "full"), default="sync")
    p.add_argument("--init", choices=("2d", "noisy-truth"), default="2d", help="--stage sync: what it syncs on")
    p.add_argument("--noise-3d", type=float, default=0.02, help="noisy-truth 3D noise, metres (default 0.02)")
    p.add_argument("--iters", type=int, default=5, help="--stage full: outer rounds")
    p.add_argument("--use-views", type=int, default=0,
                   help="give the engine only the first K of the --views views (same cameras for every K: "
                        "the way to measure the trend over the number of views)")
    p.add_argument("--decompose", action="store_true",
                   help="--stage full: also run the engine with only the true synchronisation and with only the "
                        "true cameras (what each stage's errors cost, between the capture and the oracle)")
    p.add_argument("--vary", type=int, default=0, metavar="FRAMES",
                   help="cut each view from a different FRAMES-frame stretch of a capture that repeats its action "
                        "(different takes; bench.varied); 0 (default): every view shows the same performance")
    p.add_argument("--cut-first", type=float, default=1.0, metavar="F",
                   help="keep only the first F (0-1] of view 0's frames: the other views then show motion past "
                        "its end (clips that start and stop at different moments); default 1")
    p.add_argument("--reference", type=int, default=None, metavar="N",
                   help="--stage full: build the capture on view N's timeline (default: the engine's choice)")
    p.add_argument("--json", action="store_true", help="print only the JSON line (the default output)")


def _sync_stage(problem, args, out, seconds) -> None:
    from core.engine import CaptureSettings
    from core.sync import features_2d, synchronise

    from .evaluate import sync_error
    from .mocap import LIMB_SMPL

    if args.init == "2d":
        poses, valid = features_2d([v.tracks for v in problem.views])
        base, kind = CaptureSettings().sync_2d, "2d"
    else:
        rng = np.random.default_rng(10_000 + args.seed)
        poses = [v.joints_in_camera()[:, LIMB_SMPL] + rng.normal(0, args.noise_3d, (v.frames, 12, 3))
                 for v in problem.views]
        valid, kind = None, "3d"
        from core.sync import SyncSettings

        base = SyncSettings()
        out["noise_3d_m"] = args.noise_3d
    out["init"] = args.init
    for key, mode in (("sync_error_pct", "compose"), ("sync_error_pct_no_cycle", "none"),
                      ("sync_error_pct_svt", "svt")):
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            corr = synchronise(poses, valid=valid, settings=replace(base, cycle=mode), kind=kind)
        seconds["sync" if mode == "compose" else f"sync_{mode}"] = time.perf_counter() - t
        out[key] = round(sync_error(corr, problem), 4)
        if mode == "compose":
            out["sync_confidence"] = [round(float(c), 3) for c in corr.confidence]
            out["warnings"] = [str(w.message) for w in caught]


def _feet(res, tracks, body, view) -> dict:
    """The answer's consensus motion, as the capture writes it (core.export: Z up, feet planted),
    against the reference view's true joints: how far its feet slide and how they tilt where the
    truth's stand (bench.metrics.foot_slide_mm, foot_pitch_deg)."""
    from core.export import to_capture_result
    from core.remeasure import bodies

    from .metrics import foot_pitch_deg, foot_slide_mm

    result = to_capture_result(res, tracks, body, [f"view{j}" for j in range(len(tracks))])
    m = result.motion
    _, joints = bodies(body, m.pose, m.betas, m.transl)
    frame = np.arange(m.frames) - result.offset  # the reference view's frame at each timeline frame
    ok = (frame >= 0) & (frame < len(view.joints))
    pred, gt = joints[ok].astype(np.float64), view.joints[frame[ok]]
    slide, true_slide = foot_slide_mm(pred[:, [7, 8]], gt[:, [7, 8]], m.fps)
    return {"foot_slide_mm": round(slide, 2), "true_foot_slide_mm": round(true_slide, 2),
            "foot_pitch_deg": round(foot_pitch_deg(pred, gt, m.fps), 2)}


def _full_stage(problem, args, out, seconds) -> None:
    from core.body import BodyModel
    from core.engine import CaptureSettings, capture_from_tracks
    from core.timeline import pad, public_state

    from .evaluate import camera_errors, score_views, sync_error

    body = BodyModel(device="cpu")
    tracks = [v.tracks for v in problem.views]
    settings = CaptureSettings(iterations=args.iters, reference=args.reference)
    t = time.perf_counter()
    res = capture_from_tracks(tracks, body, settings)
    seconds["engine"] = time.perf_counter() - t
    # the process's peak so far: the engine is the first heavy step (the protocol before it is light)
    out["engine_peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    seconds.update({f"engine_{k}": v for k, v in res.seconds.items()})
    out.update(score_views(res.state, problem))
    out["sync_error_pct"] = round(sync_error(res.corr, problem), 4)
    out["no_iter_sync_error_pct"] = round(sync_error(res.first_corr, problem), 4)
    out["rounds"] = res.rounds
    out["reproj_px"] = [round(float(np.median(e)), 2) for e in res.state.reproj_px]
    out.update(camera_errors(res.state.cameras, problem))
    ref = res.corr.reference  # the clip the capture built its timeline on (core.reference)
    out["reference"] = ref
    t = time.perf_counter()
    out.update(_feet(res, tracks, body, problem.views[ref]))
    seconds["export"] = time.perf_counter() - t
    t = time.perf_counter()
    mono = capture_from_tracks(tracks[ref:ref + 1], body, settings)
    seconds["mono"] = time.perf_counter() - t
    out["mono_pa_mpjpe_mm"] = score_views(mono.state, replace(problem, views=problem.views[ref:ref + 1]))["pa_mpjpe_mm"]
    # the limit: true synchronisation, and true cameras for one performer (each view's performer is
    # scaled by 0.9-1.1; with the raw cameras the oracle was 34.1 mm on seed 0 against 28.8)
    # where other views run past the reference, on the timeline extended over them (core.timeline)
    cams, truth = problem.true_cameras(), problem.true_correspondence(ref)
    whole, ext = problem.true_extended(ref)
    padded = [pad(tr, ext.before, ext.after) if j == ref else tr for j, tr in enumerate(tracks)]
    t = time.perf_counter()
    oracle = capture_from_tracks(padded, body, settings, oracle=(cams, whole))
    seconds["oracle"] = time.perf_counter() - t
    out["oracle_pa_mpjpe_mm"] = score_views(public_state(oracle.state, ref, ext), problem)["pa_mpjpe_mm"]
    t = time.perf_counter()
    single = capture_from_tracks(tracks, body, replace(settings, single_model=True))
    seconds["single_model"] = time.perf_counter() - t
    out["single_model_pa_mpjpe_mm"] = score_views(single.state, problem)["pa_mpjpe_mm"]
    if args.decompose:
        for key, given in (("true_sync", (None, truth)), ("true_cameras", (cams, None))):
            t = time.perf_counter()
            part = capture_from_tracks(tracks, body, settings, oracle=given)
            seconds[key] = time.perf_counter() - t
            out[f"{key}_pa_mpjpe_mm"] = score_views(part.state, problem)["pa_mpjpe_mm"]
            out[f"{key}_sync_error_pct"] = round(sync_error(part.corr, problem), 4)
            out[f"{key}_camera_deg"] = camera_errors(part.state.cameras, problem)["camera_deg"]


def run(args) -> dict:
    from .mocap import load_mocap
    from .protocol import make_problem

    if not 1 <= args.views <= 16:
        raise UserError("--views must be 1..16")
    t0 = time.perf_counter()
    mocap = load_mocap(args.mocap)
    if args.vary:
        from .varied import make_varied_problem

        problem = make_varied_problem(mocap, args.views, args.seed, args.vary, args.noise_px, args.outliers)
    else:
        problem = make_problem(mocap, args.views, args.seed, args.noise_px, args.outliers)
    if args.use_views:
        if not 1 <= args.use_views <= args.views:
            raise UserError("--use-views must be 1..--views")
        problem = replace(problem, views=problem.views[: args.use_views])
    if args.reference is not None and not 0 <= args.reference < len(problem.views):
        raise UserError(f"--reference must be 0..{len(problem.views) - 1}")
    if not 0 < args.cut_first <= 1:
        raise UserError("--cut-first must be in (0, 1]")
    if args.cut_first < 1:
        from .protocol import cut_first_view

        problem = cut_first_view(problem, args.cut_first)
    seconds = {"protocol": time.perf_counter() - t0}
    out = {"mocap": mocap.name, "views": len(problem.views), "seed": args.seed, "stage": args.stage, "vary": args.vary,
           "cut_first": args.cut_first,
           "frames": [v.frames for v in problem.views], "reference_frames": problem.reference_frames}
    (_sync_stage if args.stage == "sync" else _full_stage)(problem, args, out, seconds)
    seconds["total"] = time.perf_counter() - t0
    out["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return out
