"""``python -m core detect CLIP... --out DIR``: the main performer's 2D keypoints per clip."""

from __future__ import annotations

from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("clips", nargs="+", help="video files")
    p.add_argument("--out", required=True, help="output folder: <clip name>.tracks.npz per clip, and .cache/")
    p.add_argument("--model", default="yolo11n-pose", help="YOLO-pose model name or .pt path (default yolo11n-pose)")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda")
    p.add_argument("--mode", choices=("crop", "full"), default="crop",
                   help="crop: find people at low resolution, pose on crops (fast); full: 640 px full frames")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the detection cache")


def run(args, progress) -> dict:
    import time

    from .detect import DetectSettings, PoseModel, detect_clip

    settings = DetectSettings(model=args.model, device=args.device, mode=args.mode)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model = PoseModel(settings)  # loads the network on first use: cached clips need none
    clips, frames, with_person, inference = [], 0, 0, 0.0
    for path in args.clips:
        name = Path(path).name

        def report(done, total, name=name):
            progress.progress("detect", done, total, clip=name)

        tracks, fig = detect_clip(path, settings, model=model, cache_dir=None if args.no_cache else out / ".cache",
                                  progress=report)
        dest = tracks.save(out / f"{Path(path).stem}.tracks.npz")
        clips.append({"clip": str(path), "tracks": str(dest), "frames": tracks.frames,
                      "frames_with_person": tracks.frames_with_person, "fps": tracks.fps, "size": list(tracks.size),
                      "cached": fig["cached"], "people_tracked": fig.get("people_tracked")})
        frames += tracks.frames
        with_person += tracks.frames_with_person
        inference += fig["inference_seconds"]
        if tracks.frames_with_person == 0:
            progress.progress("detect", 1, 1, message=f"nobody was detected in {name}", clip=name)
    seconds = time.perf_counter() - start
    return {"clips": clips, "frames": frames, "frames_with_person": with_person, "seconds": round(seconds, 3),
            "inference_seconds": round(inference, 3), "frames_per_second": round(frames / max(seconds, 1e-9), 2),
            "model": args.model, "mode": args.mode}

