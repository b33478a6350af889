"""``python -m core capture CLIP_OR_DIR... --out RESULT.npz``: the whole engine.

detect (cached) -> monocular initialisation -> synchronisation -> cameras -> (SMPL-BA <-> sync) x K
-> a CaptureResult. With ``--tracks`` the inputs are Tracks2D files (detection skipped)."""

from __future__ import annotations

import resource
import time

import numpy as np
from pathlib import Path

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


def add_arguments(p) -> None:
    p.add_argument("inputs", nargs="+", help="video clips or folders of clips (or Tracks2D files with --tracks)")
    p.add_argument("--out", required=True, help="the CaptureResult .npz to write (a .json sidecar goes beside)")
    p.add_argument("--tracks", action="store_true", help="inputs are Tracks2D .npz files")
    p.add_argument("--rank", type=int, default=1, help="rank of the low-rank coupling (default 1)")
    p.add_argument("--iters", type=int, default=5, help="outer rounds of sync <-> BA (default up to 5)")
    p.add_argument("--reference", type=_reference, default=None, metavar="auto|N",
                   help="the clip whose timeline the capture is built on: its index among the inputs, or auto "
                        "(default): the clip that spans most of the action")
    p.add_argument("--keep-mirrored", action="store_true",
                   help="take every clip as it is (by default a clip that looks like a mirror image of the others, "
                        "a flipped video, is captured unflipped)")
    p.add_argument("--no-plant-feet", dest="plant_feet", action="store_false",
                   help="keep the feet as fitted (by default a foot that stands still in the clips is held in place "
                        "and flat in the motion, so it does not skate or dig into the floor: core.contact)")
    p.add_argument("--model", default="yolo11n-pose", help="YOLO-pose model name or .pt path")
    p.add_argument("--body", default=None, help="body model file (default: the bundled open body)")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda")


def _reference(value: str) -> int | None:
    """--reference: None for auto, else a clip index."""
    import argparse

    if value == "auto":
        return None
    try:
        index = int(value)
    except ValueError:
        index = -1
    if index < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give auto or a clip index (0 for the first)")
    return index


def _expand(inputs: list[str], tracks: bool) -> list[Path]:
    from .errors import UserError

    out = []
    for x in inputs:
        p = Path(x)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in ({".npz"} if tracks else VIDEO_SUFFIXES))
            if not found:
                raise UserError(f"{p}: no {'tracks' if tracks else 'video'} files in this folder")
            out += found
        else:
            out.append(p)
    return out


def _frames_by_views(views) -> dict:
    """{"1": timeline frames one clip shows, "2": two clips, ...}."""
    counts = np.bincount(np.asarray(views, int))
    return {str(v): int(n) for v, n in enumerate(counts) if n}


def run(args, progress) -> dict:
    from .body import BodyModel, resolve_device
    from .engine import CaptureSettings, capture_from_tracks, check_tracks
    from .errors import UserError
    from .export import to_capture_result
    from .tracks import Tracks2D

    t0 = time.perf_counter()
    paths = _expand(args.inputs, args.tracks)
    reference = args.reference
    if reference is not None and reference >= len(paths):
        raise UserError(f"--reference {reference} out of range (clips: {len(paths)})")
    seconds = {}
    homographies = None
    if args.tracks:
        tracks = [Tracks2D.load(p) for p in paths]
        sources = [t.source or str(p) for t, p in zip(tracks, paths)]
    else:
        from .detect import DetectSettings, PoseModel, detect_clip

        ds = DetectSettings(model=args.model, device=args.device)
        model = PoseModel(ds)
        tracks, sources = [], []
        cache = Path(args.out).resolve().parent / ".cache" / "detect"
        t = time.perf_counter()
        for p in paths:
            tr, _ = detect_clip(p, ds, model=model, cache_dir=cache,
                                progress=lambda d, n, name=p.name: progress.progress("detect", d, n, clip=name))
            tracks.append(tr)
            sources.append(str(p.resolve()))
        seconds["detect"] = time.perf_counter() - t
        t = time.perf_counter()
        from .stabilise import follow_cameras

        tracks, homographies = follow_cameras(paths, tracks, progress.progress)
        seconds["stabilise"] = time.perf_counter() - t
    empty = set(check_tracks(tracks))
    notes = []
    if empty:
        keep = [i for i, t in enumerate(tracks) if (t.source or "a clip") not in empty]
        for name in sorted(empty):
            msg = f"nobody was detected in {name}: the clip is left out"
            notes.append(msg)
            progress.progress("capture", 0, 1, message=msg)
        tracks = [tracks[i] for i in keep]
        if reference is not None and reference not in keep:
            raise UserError(f"nobody was detected in the reference clip {sources[reference]}: give another with "
                            f"--reference, or --reference auto")
        reference = None if reference is None else keep.index(reference)
        sources = [sources[i] for i in keep]
        homographies = [homographies[i] for i in keep] if homographies else None
    if not tracks:
        raise UserError("no clip with a person in it: nothing to capture")
    body = BodyModel(args.body, device=resolve_device(args.device))
    settings = CaptureSettings(rank=args.rank, iterations=args.iters, reference=reference,
                               unflip=not args.keep_mirrored, device=str(resolve_device(args.device)))
    known_focal = None
    if homographies:
        from .stabilise import known_focals

        known_focal = known_focals(homographies, tracks)
    out = capture_from_tracks(tracks, body, settings, progress=lambda s, d, n: progress.progress(s, d, n),
                              known_focal=known_focal)
    t = time.perf_counter()
    result = to_capture_result(out, tracks, body, sources, settings={"rank": args.rank, "iters": args.iters,
                                                                      "reference": out.corr.reference,
                                                                      "plant_feet": args.plant_feet},
                               homographies=homographies, plant_feet=args.plant_feet)
    seconds.update(out.seconds)
    seconds["export"] = time.perf_counter() - t
    path = result.save(args.out)
    seconds["total"] = time.perf_counter() - t0
    return {"result": str(path), "clips": [{"clip": s, "frames": t.frames, "reproj_px": round(c.reproj_px, 2),
                                            "sync_confidence": round(c.sync_confidence, 3),
                                            "camera": "still" if c.rotations is None else "panning",
                                            "mirrored": c.mirrored}
                                           for s, t, c in zip(sources, tracks, result.clips)],
            "reference": {"index": out.corr.reference, "clip": sources[out.corr.reference],
                          "chosen": "auto" if reference is None else "given"},
            "timeline": {"frames": result.motion.frames, "reference_offset": result.offset,
                         "added": [out.extension.before, out.extension.after]},
            "rounds": out.rounds, "planted_frames": result.quality["planted_frames"],
            "frames_by_views": _frames_by_views(out.corr.views_per_frame()),
            "warnings": notes + list(out.warnings),
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
