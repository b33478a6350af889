# SPDX-License-Identifier: GPL-3.0-or-later
"""The torch-free parts of the capture engine the Blender side may use (reading results, the
progress format), imported from the bundled ``core`` package."""

from .core.fileio import atomic_write  # noqa: F401
from .core.progress import Progress, parse_line  # noqa: F401
from .core.result import CaptureResult, ResultFormatError  # noqa: F401


def load_result(path: str) -> CaptureResult:
    return CaptureResult.load(path)
