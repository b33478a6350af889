"""``python -m core example``: the main job on the demo clips in ``examples/``.

detection -> camera-motion compensation -> synchronisation -> SMPL-BA (``core capture``), then a
.blend (armature, body mesh, cameras with their clips as plates; written with the bpy module by
``tools/result_to_blend.py``), a picture (the fitted body over a few frames of every clip, the
cameras and the trajectory from above) and a short report (per clip reprojection error and sync
confidence, seconds per stage). ``--synthetic`` writes the built-in demonstration capture instead
(no video involved)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def add_arguments(p) -> None:
    p.add_argument("--clips", default=str(ROOT / "examples"), help="folder of clips (default: examples/)")
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    p.add_argument("--iters", type=int, default=5, help="outer rounds of sync <-> BA (default 5)")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda")
    p.add_argument("--no-blend", action="store_true", help="skip the .blend (needs the bpy module)")
    p.add_argument("--body", default=None, help="body model file (default: the bundled open body)")


class _Shown:
    """Progress as JSON lines (stdout, for programs) and, once per stage and clip every 25%, a
    readable line on stderr (for people)."""

    def __init__(self, progress):
        self.inner, self.seen = progress, {}

    def progress(self, stage, done, total, message="", clip=""):
        self.inner.progress(stage, done, total, message=message, clip=clip)
        key = (stage, clip)
        quarter = int(4 * done / total) if total else 4
        if self.seen.get(key) != quarter:
            self.seen[key] = quarter
            print(f"[{stage}] {clip + ': ' if clip else ''}{done}/{total}{' ' + message if message else ''}",
                  file=sys.stderr, flush=True)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def report_text(summary: dict) -> str:
    lines = ["iMoCap demo capture", ""]
    for c in summary["clips"]:
        lines.append(f"{Path(c['clip']).name:28s} {c['frames']:4d} frames  reprojection {c['reproj_px']:6.2f} px  "
                     f"sync confidence {c['sync_confidence']:.2f}  camera {c.get('camera', 'still')}")
    secs = summary["seconds"]
    total = secs.get("total", sum(secs.values()))
    lines += ["", "seconds per stage:"]
    for k, v in secs.items():
        if k != "total":
            lines.append(f"  {k:12s} {v:7.1f} s  {100 * v / max(total, 1e-9):5.1f}%")
    lines.append(f"  {'total':12s} {total:7.1f} s")
    for w in summary.get("warnings", []):
        lines.append(f"warning: {w}")
    return "\n".join(lines) + "\n"


def capture_arguments(argv: list[str]):
    """``core capture``'s arguments parsed by its own parser (every option at its default)."""
    import argparse

    from .cmd_capture import add_arguments

    parser = argparse.ArgumentParser(prog="core capture")
    add_arguments(parser)
    return parser.parse_args(argv)


def run(args, progress) -> dict:
    from .body import BodyModel
    from .cmd_capture import VIDEO_SUFFIXES
    from .cmd_capture import run as capture
    from .errors import UserError
    from .fileio import atomic_write
    from .picture import clip_keypoints, draw_capture
    from .result import CaptureResult

    t0 = time.perf_counter()
    folder = Path(args.clips)
    clips = sorted(p for p in folder.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES) if folder.is_dir() else []
    if not clips:
        raise UserError(f"{folder}: no demo clips here; make them with `python -m bench render-demo --out {folder}`, "
                        "or run `python -m core demo` (synthetic, no clips)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shown = _Shown(progress)
    summary = capture(capture_arguments([*map(str, clips), "--out", str(out / "demo_result.npz"), "--rank", "1",
                                         "--iters", str(args.iters), "--model", "yolo11n-pose", "--device", args.device]
                                        + (["--body", args.body] if args.body else [])), shown)
    result = CaptureResult.load(summary["result"])
    t = time.perf_counter()
    shown.progress("picture", 0, 1)
    body = BodyModel(args.body, device="cpu")
    png = draw_capture(result, clip_keypoints(result, body), out / "demo_result.png")
    shown.progress("picture", 1, 1)
    summary["seconds"]["picture"] = round(time.perf_counter() - t, 2)
    blend = None
    if not args.no_blend:
        t = time.perf_counter()
        shown.progress("blend", 0, 1)
        r = subprocess.run([sys.executable, str(ROOT / "tools" / "result_to_blend.py"), summary["result"],
                            str(out / "demo.blend")], capture_output=True, text=True)
        if r.returncode != 0:
            raise UserError(f"writing the .blend failed (bpy module?): {r.stderr.strip()[-800:]}")
        blend = str(out / "demo.blend")
        shown.progress("blend", 1, 1)
        summary["seconds"]["blend"] = round(time.perf_counter() - t, 2)
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 2)
    text = report_text(summary).encode()
    atomic_write(out / "demo_report.txt", lambda f: f.write(text))
    print(text.decode(), file=sys.stderr)
    return {**summary, "picture": str(png), "blend": blend, "report": str(out / "demo_report.txt")}
