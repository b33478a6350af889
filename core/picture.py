"""A picture of a capture: each clip's view with the body's COCO skeleton drawn at a few frames,
and the cameras and the root trajectory seen from above. matplotlib, headless."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .result import CaptureResult

COCO_EDGES = ((5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (11, 12), (5, 11), (6, 12), (11, 13), (13, 15),
              (12, 14), (14, 16), (0, 1), (0, 2), (1, 3), (2, 4))


def clip_keypoints(result: CaptureResult, body) -> list[np.ndarray]:
    """Per clip (N_j,17,3) world keypoints of the clip's own motion. ``body``: a BodyModel."""
    import torch

    out = []
    for c in result.clips:
        m = c.motion
        with torch.no_grad():
            kp = body(torch.as_tensor(m.pose, device=body.device), torch.as_tensor(m.betas, device=body.device),
                      torch.as_tensor(m.transl, device=body.device)).keypoints
        out.append(kp.cpu().numpy())
    return out


def _plate(path: str, frame: int):
    """The clip's frame (RGB) or None when the clip cannot be read."""
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, img = cap.read()
    finally:
        cap.release()
    return img[:, :, ::-1] if ok else None


def draw_capture(result: CaptureResult, keypoints: list[np.ndarray], path: str | Path, samples: int = 4) -> Path:
    """Write a PNG: per clip, ``samples`` frames with the body's skeleton drawn over the clip's
    frame (its plate, where the clip can be read), and the cameras and trajectory from above."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(result.clips)
    fig = plt.figure(figsize=(2.6 * samples + 4, 2.2 * n + 0.5))
    grid = fig.add_gridspec(n, samples + 2)
    for j, (c, kp) in enumerate(zip(result.clips, keypoints)):
        w, h = c.size
        for s, f in enumerate(np.linspace(0, len(kp) - 1, samples).astype(int)):
            ax = fig.add_subplot(grid[j, s])
            plate = _plate(c.path, int(f) + c.first_frame) if Path(c.path).is_file() else None
            if plate is not None:
                ax.imshow(plate[:, ::-1] if c.mirrored else plate, extent=(0, w, h, 0))  # as its camera sees it
            uv = c.project(kp[f], frame=int(f))
            for a, b in COCO_EDGES:
                ax.plot(uv[[a, b], 0], uv[[a, b], 1], color="lime", lw=1.2)
            ax.set_xlim(0, w)
            ax.set_ylim(h, 0)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            title = f"clip {j} frame {f}" if s else f"clip {j}: {Path(c.path).name}\n{w}x{h} @ {c.fps:g} fps, frame {f}"
            ax.set_title(title, fontsize=7)
    top = fig.add_subplot(grid[:, samples:])
    top.plot(result.motion.transl[:, 0], result.motion.transl[:, 1], "k-", lw=1, label="root")
    for j, c in enumerate(result.clips):
        centre = -c.R.T @ c.t
        look = c.R[2]
        top.plot(centre[0], centre[1], "o")
        top.arrow(centre[0], centre[1], 0.8 * look[0], 0.8 * look[1], head_width=0.15)
        top.annotate(f"cam {j}" + (" (pans)" if c.rotations is not None else ""), centre[:2], fontsize=8)
    top.set_aspect("equal")
    top.set_title("cameras and trajectory from above (metres)", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
    return path
