"""``python -m bench e2e``: the whole job on the demo clips against their ground truth.

Runs ``python -m core capture`` on the clips (detection included, a fresh cache so it is timed),
then on the reference clip alone (the single-clip baseline), and scores both against
``demo_truth.npz`` (written by ``python -m bench render-demo``): synchronisation error, MPJPE
(paper protocol), PA-MPJPE and raw MPJPE of the consensus motion in the reference camera's frame,
the detection rate, and the seconds of every stage."""

from __future__ import annotations

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


def _capture(clips: list[str], out: Path, iters: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "core", "capture", *clips, "--out", str(out), "--iters", str(iters)],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"capture failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(lines[-1])["summary"]


def _joints_in_camera(result, body) -> np.ndarray:
    """The consensus motion's joints (N_ref,24,3) in the reference camera's frame."""
    import torch

    c = result.clips[result.reference]
    m = result.motion
    with torch.no_grad():
        j = body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl)).joints.numpy()
    return j.astype(np.float64) @ c.R.T + c.t


def score(result, truth, body) -> dict:
    from .metrics import mpjpe_mm, mpjpe_raw_mm, pa_mpjpe_mm, sync_error_pct

    ref = int(truth["reference"])
    if result.reference != ref and len(result.clips) > 1:
        from core.errors import UserError

        raise UserError(f"the capture built on clip {result.reference}'s timeline; the truth is on clip {ref}'s, "
                        f"which this score assumes")
    gt = truth[f"c{ref}_joints"].astype(np.float64)
    gt = np.einsum("nij,nkj->nki", truth[f"c{ref}_R"], gt) + truth[f"c{ref}_t"][:, None]
    pred = _joints_in_camera(result, body)[result.offset:]  # the timeline from the reference clip's first frame
    n = min(len(gt), len(pred))
    out = {"mpjpe_mm": mpjpe_mm(pred[:n], gt[:n]), "pa_mpjpe_mm": pa_mpjpe_mm(pred[:n], gt[:n]),
           "mpjpe_raw_mm": mpjpe_raw_mm(pred[:n], gt[:n])}
    if len(result.clips) > 1:
        clips = len(result.clips)
        out["sync_error_pct"] = sync_error_pct([result.clips[j].ref_time - result.offset for j in range(1, clips)],
                                               [truth[f"c{j}_ref_frame"] for j in range(1, clips)], len(gt))
    return {k: round(float(v), 3) for k, v in out.items()}


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
        summary = _capture(clips, out_dir / "demo_result.npz", args.iters)
        mono_summary = _capture(clips[:1], out_dir / "mono_result.npz", args.iters)
        body = BodyModel(device="cpu")
        multi = score(CaptureResult.load(out_dir / "demo_result.npz"), truth, body)
        mono = score(CaptureResult.load(out_dir / "mono_result.npz"), truth, body)
        rate = detection_rate(cache)
    return {"benchmark": "e2e", "clips": [Path(c).name for c in clips], **multi,
            "mono_pa_mpjpe_mm": mono["pa_mpjpe_mm"], "mono_mpjpe_mm": mono["mpjpe_mm"],
            "pa_vs_mono": round(multi["pa_mpjpe_mm"] / mono["pa_mpjpe_mm"], 3), "detection_rate": round(rate, 4),
            "seconds": summary["seconds"], "mono_seconds": mono_summary["seconds"].get("total"),
            "per_clip": summary["clips"], "warnings": summary["warnings"],
            "peak_memory_mb": summary.get("peak_memory_mb")}
