"""``python -m bench e2e``: the whole job on the demo clips against their ground truth.

Runs ``python -m core capture`` on the clips (detection included, a fresh cache so it is timed),
then on the reference clip alone (the single-clip baseline), and scores both against
``demo_truth.npz`` (written by ``python -m bench render-demo``): synchronisation error, MPJPE
(paper protocol), PA-MPJPE and raw MPJPE of the consensus motion in the reference camera's frame,
the detection rate, and the seconds of every stage.

``--cut A:B`` keeps only frames A..B-1 of the truth's reference clip (a cut copy of its video),
captured as the reference (``--reference 0``): the other clips then show motion before or after it,
as internet clips that start and stop at different moments do. The consensus motion is scored over
its whole timeline (core.timeline), wherever the truth has the frame, and apart on the frames
outside the cut (``pa_outside_cut_mm``).

``--decompose`` also gives the capture's own detections (the capture's cache, the panning clip
warped as the capture warps it) to the same engine with the true cameras and synchronisation (the
limit, ``oracle_*``), with the true synchronisation only (``true_sync_*``) and with the true
cameras only (``true_cameras_*``): as ``bench run --decompose`` on the protocol, but on real
detections."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def add_arguments(p) -> None:
    p.add_argument("--clips", default=str(ROOT / "examples"), help="folder with the clips and demo_truth.npz")
    p.add_argument("--keep", default=None, help="keep the results in this folder (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="print only the JSON line (it is the last line anyway)")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--cut", type=_cut, default=None, metavar="A:B",
                   help="keep frames A..B-1 of the reference clip only (see the module docstring)")
    p.add_argument("--decompose", action="store_true",
                   help="also run the engine on the same detections with the true cameras and synchronisation, "
                        "and with each alone (see the module docstring; not with --cut)")


def _cut(value: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in value.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cut wants A:B (frame numbers), got {value!r}") from None
    if not 0 <= a < b - 1:
        raise argparse.ArgumentTypeError(f"--cut {value}: need 0 <= A < B - 1")
    return a, b


def _capture(clips: list[str], out: Path, iters: int, extra: tuple = ()) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "core", "capture", *clips, "--out", str(out), "--iters", str(iters),
                        *extra], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"capture failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(lines[-1])["summary"]


def _consensus(result, body):
    """The consensus motion's bodies (joints and keypoints in the result's Z-up world)."""
    import torch

    m = result.motion
    with torch.no_grad():
        return body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl))


def _joints_in_camera(result, body) -> np.ndarray:
    """The consensus motion's joints (N_ref,24,3) in the reference camera's frame."""
    return _in_reference_camera(result, _consensus(result, body).joints.numpy())


def _in_reference_camera(result, points: np.ndarray) -> np.ndarray:
    """World points (...,3) of ``result`` in its reference camera's frame."""
    c = result.clips[result.reference]
    return points.astype(np.float64) @ c.R.T + c.t


def _soles(result, truth, body, frame: np.ndarray, ok: np.ndarray) -> dict:
    """Where the mesh's lowest point stands above the answer's ground (z = 0) in the frames where
    the truth's feet stand (bench.metrics.foot_slide_mm's): the median and the 10th percentile,
    millimetres (below 0: through the floor); the truth's own median above its floor beside them."""
    from core.contact import lowest_points

    from .metrics import still_and_low

    ref = int(truth["reference"])
    still, low = still_and_low(truth[f"c{ref}_coco"][frame[ok]][:, [15, 16]], result.motion.fps)
    planted = np.r_[False, (still & low[1:]).any(1)]
    if not planted.any():
        return {}
    m = result.motion
    rows = np.flatnonzero(ok)[planted]
    soles = lowest_points(body, m.pose[rows], m.betas, m.transl[rows])
    true = lowest_points(body, truth[f"c{ref}_pose"][frame[rows]], truth["betas"],
                         truth[f"c{ref}_transl"][frame[rows]]) - float(truth["floor_z"])
    return {"sole_height_mm": float(1000 * np.median(soles)), "sole_p10_mm": float(1000 * np.percentile(soles, 10)),
            "true_sole_height_mm": float(1000 * np.median(true))}


def score(result, truth, body, cut: tuple[int, int] | None = None) -> dict:
    """The consensus motion on every timeline frame the truth has (the capture's reference clip's
    frame i, at timeline frame i + offset, is the truth's reference frame i + A for ``cut`` (A, B)),
    and the clips' times, against the truth."""
    from core.body import SMPL_PARENTS

    from .metrics import (accel_error_mm, foot_slide_mm, mpjpe_mm, mpjpe_raw_mm, orientation_deg, pa_mpjpe_mm,
                          sync_error_pct)

    ref = int(truth["reference"])
    if result.reference != ref and len(result.clips) > 1:
        from core.errors import UserError

        raise UserError(f"the capture built on clip {result.reference}'s timeline; the truth is on clip {ref}'s, "
                        f"which this score assumes")
    gt = truth[f"c{ref}_joints"].astype(np.float64)
    gt = np.einsum("nij,nkj->nki", truth[f"c{ref}_R"], gt) + truth[f"c{ref}_t"][:, None]
    consensus = _consensus(result, body)
    pred = _in_reference_camera(result, consensus.joints.numpy())
    start = cut[0] if cut else 0
    frame = np.arange(len(pred)) - result.offset + start  # the truth's reference frame at each timeline frame
    ok = (frame >= 0) & (frame < len(gt))
    pred, gt_on = pred[ok], gt[frame[ok]]
    out = {"mpjpe_mm": mpjpe_mm(pred, gt_on), "pa_mpjpe_mm": pa_mpjpe_mm(pred, gt_on),
           "mpjpe_raw_mm": mpjpe_raw_mm(pred, gt_on), "timeline_frames_scored": int(ok.sum()),
           "accel_err_mm": accel_error_mm(pred, gt_on)}
    if f"c{ref}_pose" in truth:  # the head, feet and hands: turns the joints' positions do not show
        turns = orientation_deg(result.motion.pose[ok], truth[f"c{ref}_pose"][frame[ok]], SMPL_PARENTS)
        out.update({f"{name}_deg": v for name, v in turns.items()})
    # how high the lower ankle keypoint stands above the ground, against the truth's above its floor
    # (a ground that slopes under the motion lifts the feet at one end and sinks them at the other)
    if f"c{ref}_coco" in truth and "floor_z" in truth:
        ankles = consensus.keypoints.numpy()[:, [15, 16], 2].min(1)
        true_ankles = truth[f"c{ref}_coco"][:, [15, 16], 2].min(1) - float(truth["floor_z"])
        out["feet_height_mm"] = float(1000 * np.median(np.abs(ankles[ok] - true_ankles[frame[ok]])))
    # how far the feet skate where the truth's stand still (and how little the truth's own do), and
    # where the soles stand there
    if f"c{ref}_coco" in truth and f"c{ref}_pose" in truth and "floor_z" in truth:
        pred_ankles = consensus.keypoints.numpy()[ok][:, [15, 16]].astype(np.float64)
        slide = foot_slide_mm(pred_ankles, truth[f"c{ref}_coco"][frame[ok]][:, [15, 16]], result.motion.fps)
        out["foot_slide_mm"], out["true_foot_slide_mm"] = slide
        out.update(_soles(result, truth, body, frame, ok))
    if cut:
        outside = (frame[ok] < cut[0]) | (frame[ok] >= cut[1])
        out["pa_outside_cut_mm"] = pa_mpjpe_mm(pred[outside], gt_on[outside]) if outside.sum() > 2 else float("nan")
    if len(result.clips) > 1:
        clips = len(result.clips)
        times = [result.clips[j].ref_time - result.offset + start for j in range(1, clips)]  # the truth's frames
        out["sync_error_pct"] = sync_error_pct(times, [truth[f"c{j}_ref_frame"] for j in range(1, clips)], len(gt))
    return {k: v if isinstance(v, int) else round(float(v), 3) for k, v in out.items()}


def cut_video(path: str, a: int, b: int, folder: Path) -> Path:
    """Frames a..b-1 of the clip at ``path``, written into ``folder`` (its name marks the cut)."""
    from core.errors import UserError
    from core.video import iter_batches, probe

    from .photo_clips import write_clip

    frames = []
    for _, batch, _ in iter_batches(path):
        frames += batch
        if len(frames) >= b:
            break
    if len(frames) < b:
        raise UserError(f"--cut {a}:{b}: {path} has {len(frames)} frames")
    return write_clip(folder / f"{Path(path).stem}_{a}-{b}{Path(path).suffix}", frames[a:b], fps=probe(path).fps)


def true_givens(truth) -> tuple[list, object]:
    """The demo clips' true cameras (a panning clip's first frame's: its keypoints are warped to
    that view) and synchronisation (on clip ``truth["reference"]``'s frames), as the engine takes
    them (core.engine.capture_from_tracks' ``oracle``)."""
    from core.cameras import Camera
    from core.sync import Correspondence, invert_time_map

    clips = len(truth["clips"])
    ref = int(truth["reference"])
    cams = [Camera(truth[f"c{j}_R"][0].astype(np.float64), truth[f"c{j}_t"][0].astype(np.float64),
                   float(truth[f"c{j}_K"][0, 0]), truth[f"c{j}_K"][:2, 2].astype(np.float64)) for j in range(clips)]
    own = truth[f"c{ref}_ref_frame"].astype(np.float64)
    times = [np.interp(truth[f"c{j}_ref_frame"].astype(np.float64), own, np.arange(len(own), dtype=float),
                       left=np.nan, right=np.nan) for j in range(clips)]
    corr = Correspondence(ref, tuple(times), tuple(invert_time_map(t, len(own)) for t in times), np.ones(clips))
    return cams, corr


def decompose(clips: list[str], cache: Path, truth, body, iters: int) -> dict:
    """PA-MPJPE and sync error of the engine on the capture's cached detections given the true
    cameras and synchronisation, and each alone (module docstring)."""
    from core.detect import DetectSettings, detect_clip
    from core.engine import CaptureSettings, capture_from_tracks
    from core.export import to_capture_result
    from core.stabilise import follow_cameras, known_focals

    tracks = [detect_clip(c, DetectSettings(), cache_dir=cache)[0] for c in clips]  # the capture's, cached
    tracks, hs = follow_cameras(clips, tracks)
    known = known_focals(hs, tracks)
    cams, corr = true_givens(truth)
    settings = CaptureSettings(iterations=iters, reference=corr.reference)
    out = {}
    for key, given in (("oracle", (cams, corr)), ("true_sync", (None, corr)), ("true_cameras", (cams, None))):
        part = capture_from_tracks(tracks, body, settings, oracle=given, known_focal=known)
        got = score(to_capture_result(part, tracks, body, clips, homographies=hs), truth, body)
        out.update({f"{key}_pa_mpjpe_mm": got["pa_mpjpe_mm"], f"{key}_mpjpe_mm": got["mpjpe_mm"]})
        if given[1] is None:
            out[f"{key}_sync_error_pct"] = got["sync_error_pct"]
    return out


def detection_rate(cache: Path) -> float:
    from core.tracks import Tracks2D

    found, total = 0, 0
    for p in sorted(cache.glob("*.npz")):
        t = Tracks2D.load(p)
        found += int((t.confidence.max(axis=1) > 0.3).sum())
        total += t.frames
    return found / max(total, 1)


def run(args) -> dict:
    from core.body import BodyModel
    from core.result import CaptureResult

    if args.decompose and args.cut:
        from core.errors import UserError

        raise UserError("--decompose gives the engine the true times of the whole clips: leave out --cut")
    folder = Path(args.clips)
    truth = np.load(folder / "demo_truth.npz")
    clips = [str(folder / str(c)) for c in truth["clips"]]
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(args.keep) if args.keep else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        cache = out_dir / ".cache" / "detect"
        if cache.is_dir():  # detection must be timed: no earlier cache
            for p in cache.glob("*.npz"):
                p.unlink()
        extra = ()
        if args.cut:
            clips[0] = str(cut_video(clips[0], *args.cut, out_dir))
            extra = ("--reference", "0")
        summary = _capture(clips, out_dir / "demo_result.npz", args.iters, extra)
        mono_summary = _capture(clips[:1], out_dir / "mono_result.npz", args.iters)
        body = BodyModel(device="cpu")
        multi = score(CaptureResult.load(out_dir / "demo_result.npz"), truth, body, args.cut)
        mono = score(CaptureResult.load(out_dir / "mono_result.npz"), truth, body, args.cut)
        rate = detection_rate(cache)
        parts = decompose(clips, cache, truth, body, args.iters) if args.decompose else {}
    return {"benchmark": "e2e", "clips": [Path(c).name for c in clips], "cut": list(args.cut or []), **multi,
            "timeline": summary.get("timeline"),
            "mono_pa_mpjpe_mm": mono["pa_mpjpe_mm"], "mono_mpjpe_mm": mono["mpjpe_mm"],
            "pa_vs_mono": round(multi["pa_mpjpe_mm"] / mono["pa_mpjpe_mm"], 3), "detection_rate": round(rate, 4),
            "seconds": summary["seconds"], "mono_seconds": mono_summary["seconds"].get("total"),
            "per_clip": summary["clips"], "warnings": summary["warnings"],
            "peak_memory_mb": summary.get("peak_memory_mb"), **parts}
