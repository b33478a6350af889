"""``python -m core body``: describe the body model as JSON."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--body", default=None, help="body model file (default: the bundled open body)")


def run(args, progress) -> dict:
    import numpy as np

    from .body import COCO_NAMES, BodyModel

    body = BodyModel(args.body, device="cpu")
    rest = body.rest()
    v = rest.vertices
    return {"model": body.name, "path": body.path, "joints": list(rest.joint_names),
            "parents": rest.parents.tolist(), "vertices": int(v.shape[0]), "faces": int(rest.faces.shape[0]),
            "height_m": round(float(np.ptp(v[:, 1])), 4), "keypoints": list(COCO_NAMES),
            "betas": body.num_betas}
