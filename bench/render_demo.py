"""``python -m bench render-demo``: the demo clips, rendered from real motion capture, with their
ground truth.

The open body is fitted to a stretch of a shared-format mocap file (``bench.fit_mocap``), dressed
(shirt, trousers, shoes, skin: by the skinning weights' dominant bone) and rendered with the bpy
module (Workbench, headless; ``bench/render_scene.py``) in a textured room from four cameras: each
clip covers a different part of the motion, starts at a different time and has its own frame rate
(30, 25, 24, 30 fps), image shape, floor/wall textures and background colour; the last camera pans
and tilts about its centre to follow the performer. Clips are written as MP4; ``demo_truth.npz``
beside them holds, per clip, the cameras per frame (OpenCV K, R, t), the time of every frame in the
motion, the reference clip's (fractional) frame it shows, the body's 24 joints and 17 COCO keypoints
in the world and projected, and the fitted body parameters.

``--check`` runs the engine's detector on the written clips and reports the detection rate and
keypoint error against the projected truth."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIT_FPS = 60.0
# clothing parts by dominant bone: 0 skin, 1 shirt, 2 trousers, 3 shoes
BONE_PART = np.array([2, 2, 2, 1, 2, 2, 1, 3, 3, 1, 3, 3, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0])
PART_COLOURS = np.array([[0.80, 0.58, 0.45, 1], [0.60, 0.10, 0.10, 1], [0.10, 0.16, 0.38, 1], [0.05, 0.05, 0.05, 1]])


@dataclass(frozen=True)
class ClipSpec:
    fps: float
    start: float  # seconds into the stretch of motion
    duration: float
    size: tuple[int, int]
    azimuth: float  # degrees, about the path's middle
    distance: float  # metres from the path's middle (or, panning, from the path's line)
    elevation: float  # degrees
    focal: float  # pixels
    world: tuple[float, float, float]
    texture_seed: int
    pan: bool = False


CLIPS = (
    ClipSpec(30.0, 0.0, 8.0, (640, 360), 190, 5.0, 10, 600, (0.45, 0.55, 0.65), 1),
    ClipSpec(25.0, 1.2, 5.0, (640, 360), 300, 6.0, 20, 600, (0.70, 0.65, 0.55), 11),
    ClipSpec(24.0, 2.5, 5.0, (360, 640), 270, 5.0, 12, 700, (0.55, 0.60, 0.50), 21),
    ClipSpec(30.0, 0.6, 4.0, (640, 360), 20, 4.0, 8, 600, (0.35, 0.35, 0.45), 31, pan=True),
)


def add_arguments(p) -> None:
    p.add_argument("--mocap", default=str(ROOT.parent / "shared" / "mocap" / "cmu_01_jumps.npz"))
    p.add_argument("--start", type=float, default=1.5, help="seconds into the mocap where the stretch begins")
    p.add_argument("--length", type=float, default=8.0, help="seconds of motion")
    p.add_argument("--out", default=str(ROOT / "examples"), help="folder for the clips and demo_truth.npz")
    p.add_argument("--seed", type=int, default=0, help="jitters the cameras and start times (0: as designed)")
    p.add_argument("--frames", type=int, default=0, help="render only this many frames per clip (a quick look)")
    p.add_argument("--check", action="store_true", help="run the detector on the clips against the truth")
    p.add_argument("--truth-only", action="store_true", help="write demo_truth.npz only (no rendering)")


def _jitter(specs, seed: int):
    if seed == 0:
        return specs
    import dataclasses

    rng = np.random.default_rng(seed)
    return tuple(dataclasses.replace(s, azimuth=s.azimuth + rng.uniform(-20, 20), start=max(0.0, s.start
                                     + rng.uniform(-0.3, 0.3)), elevation=s.elevation + rng.uniform(-4, 4))
                 for s in specs)


def _camera_path(spec: ClipSpec, pelvis: np.ndarray, centre: np.ndarray):
    """OpenCV K and per-frame R, t for one clip; ``pelvis`` (N,3) the performer's at its frames."""
    from core.geometry import intrinsics, look_at_camera

    az, el = np.deg2rad(spec.azimuth), np.deg2rad(spec.elevation)
    look = np.array([centre[0], centre[1], 0.9])
    pos = look + spec.distance * np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])
    if spec.pan:  # follows the performer, smoothly: a rotation about the camera's centre only
        from scipy.ndimage import gaussian_filter1d

        aim = gaussian_filter1d(pelvis, sigma=spec.fps * 0.4, axis=0, mode="nearest")
        aim[:, 2] = 0.9
        rt = [look_at_camera(pos, a) for a in aim]
    else:
        rt = [look_at_camera(pos, look)] * len(pelvis)
    K = intrinsics(spec.focal, *spec.size)
    return K, np.array([r for r, _ in rt]), np.array([t for _, t in rt])


def build(args) -> dict:
    import torch

    from core.body import BodyModel
    from core.demo import resample_motion

    from .fit_mocap import fit_body
    from .mocap import Mocap, load_mocap

    t0 = time.perf_counter()
    body = BodyModel(device="cpu")
    mocap = load_mocap(args.mocap, fps=FIT_FPS)
    a, n = int(round(args.start * FIT_FPS)), int(round(args.length * FIT_FPS)) + 1
    if a + n > mocap.frames:
        raise SystemExit(f"{args.mocap}: {mocap.frames / FIT_FPS:.1f} s of motion, fewer than --start + --length")
    stretch = Mocap(mocap.joints[a:a + n], FIT_FPS, mocap.name)
    motion, fit = fit_body(stretch, body)
    t_fit = time.perf_counter() - t0
    specs = _jitter(CLIPS, args.seed)
    rest = body.rest(motion.betas)
    part = clothing_parts(rest.weights)
    faces = body.faces
    face_part = np.max(part[faces], axis=1)  # a face on a border takes the later part (sleeves, cuffs)
    centre = np.nanmean(stretch.joints[:, 0, :2], axis=0)
    scene, truth, clips = {}, {}, []
    tmp = Path(tempfile.mkdtemp(prefix="imocap-render-"))
    floor = np.inf
    for j, spec in enumerate(specs):
        count = int(round(spec.duration * spec.fps))
        if args.frames:
            count = min(count, args.frames)
        times = spec.start + np.arange(count) / spec.fps  # seconds into the stretch
        m = resample_motion(motion, times * FIT_FPS, spec.fps)
        with torch.no_grad():
            out = body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl), vertices=True)
        verts = out.vertices.numpy().astype(np.float32)
        floor = min(floor, float(np.percentile(verts[..., 2].min(axis=1), 2)))
        K, R, t = _camera_path(spec, out.joints[:, 0].numpy(), centre)
        scene[f"c{j}_verts"], scene[f"c{j}_K"], scene[f"c{j}_R"], scene[f"c{j}_t"] = verts, K, R, t
        scene[f"c{j}_size"] = np.array(spec.size)
        scene[f"c{j}_style"] = np.array([*spec.world, spec.texture_seed], np.float64)
        scene[f"c{j}_dir"] = np.array(str(tmp / f"clip{j}"))
        coco = out.keypoints.numpy()
        cam = np.einsum("nij,nkj->nki", R, coco) + t[:, None]
        uv = (cam @ K.T)[..., :2] / cam[..., 2:3]
        truth.update({f"c{j}_K": K, f"c{j}_R": R, f"c{j}_t": t, f"c{j}_size": np.array(spec.size),
                      f"c{j}_fps": np.array(spec.fps), f"c{j}_time": times,
                      f"c{j}_ref_frame": (times - specs[0].start) * specs[0].fps,
                      f"c{j}_joints": out.joints.numpy(), f"c{j}_coco": coco, f"c{j}_coco_px": uv,
                      f"c{j}_pose": m.pose, f"c{j}_transl": m.transl, f"c{j}_pan": np.array(spec.pan)})
        clips.append(f"clip{j}_{int(spec.fps)}fps{'_pan' if spec.pan else ''}.mp4")
    scene.update(faces=faces, face_part=face_part, part_colours=PART_COLOURS, floor_z=np.array(floor))
    t1 = time.perf_counter()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = []
    if not args.truth_only:
        np.savez(tmp / "scene.npz", **scene)
        sizes = _render(tmp, specs, clips, out_dir)
    t_render = time.perf_counter() - t1
    truth.update(clips=np.array(clips), betas=motion.betas, floor_z=np.array(floor), fit_fps=np.array(FIT_FPS),
                 mocap=np.array(Path(args.mocap).name), stretch_start=np.array(args.start),
                 reference=np.array(0))
    from core.fileio import atomic_write

    atomic_write(out_dir / "demo_truth.npz", lambda f: np.savez_compressed(f, **truth))
    shutil.rmtree(tmp, ignore_errors=True)
    return {"benchmark": "render-demo", "clips": clips, "frames": [int(len(truth[f"c{j}_time"]))
                                                                    for j in range(len(specs))],
            "bytes": sizes, "total_mb": round(sum(sizes) / 2**20, 2), "seconds_fit": round(t_fit, 1),
            "seconds_render": round(t_render, 1), **{k: round(v, 1) for k, v in fit.items()}}


def _render(tmp: Path, specs, clips, out_dir: Path) -> list[int]:
    """Render every clip's frames (bpy subprocess) and encode them into ``out_dir``; sizes."""
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "render_scene.py"), str(tmp / "scene.npz")],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"rendering failed:\n{r.stderr[-3000:]}")
    return [_encode(tmp / f"clip{j}", out_dir / name, spec.fps) for j, (spec, name) in enumerate(zip(specs, clips))]


def clothing_parts(weights: np.ndarray) -> np.ndarray:
    """Clothing part (V,) of each vertex: its dominant bone's."""
    return BONE_PART[np.argmax(weights, axis=1)]


def _encode(frames_dir: Path, path: Path, fps: float) -> int:
    """PNG frames -> H.264 MP4 (Blender's FFmpeg), written beside ``path`` then renamed over it."""
    tmp = path.with_name(f".{path.stem}.tmp.mp4")
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "render_scene.py"), "--encode", str(frames_dir), str(tmp),
                        repr(fps)], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0 or not tmp.is_file():
        raise RuntimeError(f"encoding {path.name} failed:\n{r.stderr[-2000:]}")
    os.replace(tmp, path)
    return path.stat().st_size


def check(out_dir: Path) -> dict:
    """Detection rate and keypoint error (px) of the engine's detector against the projected truth."""
    from core.detect import detect_clip

    truth = np.load(out_dir / "demo_truth.npz")
    per_clip = []
    for j, name in enumerate(truth["clips"]):
        tracks, _ = detect_clip(out_dir / str(name))
        gt = truth[f"c{j}_coco_px"]
        n = min(len(gt), tracks.frames)
        found = tracks.confidence[:n].max(axis=1) > 0.3
        limbs = list(range(5, 17))
        err = np.linalg.norm(tracks.keypoints[:n, limbs] - gt[:n, limbs], axis=-1)[found]
        height = np.ptp(gt[:n, :, 1], axis=1)[found]
        per_clip.append({"clip": str(name), "frames": int(n), "detection_rate": float(found.mean()),
                         "median_px": float(np.median(err)), "p90_px": float(np.percentile(err, 90)),
                         "median_pct_height": float(np.median(err / height[:, None]) * 100)})
    return {"detection": per_clip, "detection_rate": min(c["detection_rate"] for c in per_clip)}


def run(args) -> dict:
    out = build(args)
    if args.check:
        out.update(check(Path(args.out)))
    return out
