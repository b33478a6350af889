"""iMoCap capture engine: motion capture from several unsynchronised, uncalibrated video clips.

This package never imports bpy. Importing ``core`` itself (and ``core.result``, ``core.progress``)
needs numpy and the standard library only, so the Blender side can read results without torch;
the stage modules import torch, OpenCV, ultralytics and smplx where they need them.
Run the worker with ``python -m core --help``.
"""

__version__ = "0.1.0"
