"""Command line of the capture engine. No torch at import: ``--help`` is instant.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args, progress) -> dict`` (the summary). stdout carries JSON lines only (progress, then one
summary line, see :mod:`core.progress`); human messages go to stderr. Exit codes: 0 success,
1 failure (an ``{"error": ...}`` line says why), 2 bad arguments, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from . import __version__
from .errors import UserError
from .progress import ProgressWriter

# name -> (module, one-line help). Later stages add their commands here.
COMMANDS = {
    "capture": ("core.cmd_capture", "the whole engine: clips (or 2D tracks) -> a CaptureResult"),
    "detect": ("core.cmd_detect", "detect the main performer's 2D keypoints (COCO-17) in each clip"),
    "example": ("core.cmd_example", "the main job on the demo clips (examples/): capture, .blend, picture, report"),
    "demo": ("core.cmd_demo", "write a demonstration CaptureResult (the body model, a built-in motion, "
                              "virtual cameras) and a picture of it"),
    "body": ("core.cmd_body", "describe the body model (joints, height, keypoints) as JSON"),
    "inspect": ("core.cmd_inspect", "check a CaptureResult file and print its summary"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="iMoCap capture engine: motion capture from several unsynchronised, uncalibrated clips.",
        epilog="stdout: JSON lines ({\"stage\", \"done\", \"total\"} progress, then {\"summary\": ...}); "
               "stderr: human-readable messages.")
    parser.add_argument("--version", action="version", version=f"iMoCap core {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    progress = ProgressWriter()
    start = time.perf_counter()
    try:
        summary = importlib.import_module(args._module).run(args, progress)
    except KeyboardInterrupt:
        progress.error("interrupted")
        print("interrupted", file=sys.stderr)
        return 130
    except UserError as e:
        progress.error(str(e))
        print(f"error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug: say so on both channels, with the traceback on stderr
        progress.error(f"internal error: {type(e).__name__}: {e}")
        traceback.print_exc()
        return 1
    summary.setdefault("seconds", round(time.perf_counter() - start, 3))
    progress.summary(summary)
    return 0
