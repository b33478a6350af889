"""Benchmark command line: each subcommand prints one JSON object as its last stdout line."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys

COMMANDS = {
    "run": ("bench.run", "the multi-clip protocol on one motion capture file, scored (sync error, ...)"),
    "sync-scale": ("bench.bench_sync_scale", "how synchronisation time grows with the number of frames"),
    "detect": ("bench.bench_detect", "detection speed (stage vs bare predict) and keypoint accuracy vs 640 px"),
    "import": ("bench.bench_import", "seconds to import a long capture into Blender (bpy module)"),
    "retarget": ("bench.bench_retarget", "seconds to retarget a long capture onto a Mixamo-like rig (bpy module)"),
    "e2e": ("bench.e2e", "the whole job on the demo clips (detection included) against their ground truth"),
    "render-demo": ("bench.render_demo", "render the demo clips from real mocap (bpy) with their ground truth"),
    "body": ("bench.bench_body", "throughput of the body model (joints + COCO keypoints, and the full mesh)"),
}


def machine() -> dict:
    import torch

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    from core.errors import UserError

    try:
        out = importlib.import_module(args._module).run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        print(json.dumps({"error": str(e)}))
        return 1
    out["machine"] = machine()
    print(json.dumps(out))
    return 0
