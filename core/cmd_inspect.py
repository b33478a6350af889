"""``python -m core inspect RESULT.npz``: check a CaptureResult and print its summary."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("result", help="a CaptureResult .npz")


def run(args, progress) -> dict:
    from .result import CaptureResult

    r = CaptureResult.load(args.result)
    return {"result": args.result, "reference": r.reference, "frames": r.motion.frames, "fps": r.motion.fps,
            "reference_offset": r.offset,
            "clips": [{"path": c.path, "frames": c.motion.frames, "fps": c.fps, "size": list(c.size),
                       "reproj_px": c.reproj_px, "sync_confidence": c.sync_confidence, "mirrored": c.mirrored}
                      for c in r.clips],
            # frames each foot (left, right) stands planted in the consensus motion; None: not found
            "planted_frames": None if r.contacts is None else [int(n) for n in r.contacts.sum(0)],
            "body": r.body.model, "versions": r.versions}
