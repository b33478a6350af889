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


def draw_capture(result: CaptureResult, keypoints: list[np.ndarray], path: str | Path, samples: int = 4) -> Path:
    """Write a PNG: one panel per clip (skeletons at ``samples`` frames) and a top view."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(result.clips)
    fig, axes = plt.subplots(1, n + 1, figsize=(4 * (n + 1), 4))
    colors = plt.cm.viridis(np.linspace(0, 1, samples))
    for j, (c, kp) in enumerate(zip(result.clips, keypoints)):
        ax = axes[j]
        uv = c.project(kp)
        for s, f in enumerate(np.linspace(0, len(kp) - 1, samples).astype(int)):
            for a, b in COCO_EDGES:
                ax.plot(uv[f, [a, b], 0], uv[f, [a, b], 1], color=colors[s], lw=1.5)
        w, h = c.size
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_aspect("equal")
        ax.set_title(f"clip {j}: {Path(c.path).name}\n{w}x{h} @ {c.fps:g} fps", fontsize=8)
    top = axes[n]
    top.plot(result.motion.transl[:, 0], result.motion.transl[:, 1], "k-", lw=1, label="root")
    for j, c in enumerate(result.clips):
        centre = -c.R.T @ c.t
        look = c.R[2]
        top.plot(centre[0], centre[1], "o")
        top.arrow(centre[0], centre[1], 0.8 * look[0], 0.8 * look[1], head_width=0.15)
        top.annotate(f"cam {j}", centre[:2], fontsize=8)
    top.set_aspect("equal")
    top.set_title("from above (metres)", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
    return path
