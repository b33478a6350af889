"""``python -m bench body``: bodies per second through the body model on the chosen device."""

from __future__ import annotations

import time


def add_arguments(p) -> None:
    p.add_argument("--batch", type=int, default=2800, help="bodies per call (default 2800: 4 clips x 700 frames)")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--device", default="auto", help="auto|cpu|cuda")


def _rate(fn, repeats: int, batch: int, sync) -> float:
    fn()
    sync()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return batch * repeats / (time.perf_counter() - t)


def run(args) -> dict:
    import torch

    from core.body import BodyModel, resolve_device

    device = resolve_device(args.device)
    body = BodyModel(device=device)
    g = torch.Generator().manual_seed(0)
    pose = (torch.randn(args.batch, 24, 3, generator=g) * 0.3).to(device)
    betas = torch.zeros(10, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    out = {"benchmark": "body", "device": str(device), "batch": args.batch}
    with torch.no_grad():
        out["keypoints_per_s"] = round(_rate(lambda: body(pose, betas), args.repeats, args.batch, sync))
        small = pose[:256]
        out["mesh_per_s"] = round(_rate(lambda: body(small, betas, vertices=True), max(1, args.repeats // 2), 256, sync))
    pose.requires_grad_(True)

    def fwd_bwd():
        body(pose, betas).keypoints.square().sum().backward()

    out["keypoints_fwd_bwd_per_s"] = round(_rate(fwd_bwd, args.repeats, args.batch, sync))
    return out
