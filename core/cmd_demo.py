"""``python -m core demo``: write the demonstration CaptureResult and its picture."""

from __future__ import annotations

from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    p.add_argument("--frames", type=int, default=90, help="reference frames (default 90)")
    p.add_argument("--clips", type=int, default=3, help="virtual cameras, 1..4 (default 3)")
    p.add_argument("--body", default=None, help="body model file (default: the bundled open body)")


def run(args, progress) -> dict:
    from .body import BodyModel
    from .demo import demo_capture
    from .errors import UserError
    from .picture import clip_keypoints, draw_capture

    if not 1 <= args.clips <= 4 or args.frames < 2:
        raise UserError("--clips must be 1..4 and --frames at least 2")
    out = Path(args.out)
    progress.progress("demo", 0, 3, "loading the body model")
    body = BodyModel(args.body, device="cpu")
    progress.progress("demo", 1, 3, "building the capture")
    result = demo_capture(body, frames=args.frames, clips=args.clips)
    path = result.save(out / "demo_result.npz")
    progress.progress("demo", 2, 3, "drawing")
    png = draw_capture(result, clip_keypoints(result, body), out / "demo_result.png")
    progress.progress("demo", 3, 3, "done")
    return {"result": str(path), "picture": str(png), "clips": len(result.clips), "frames": result.motion.frames}
