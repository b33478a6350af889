# SPDX-License-Identifier: GPL-3.0-or-later
"""iMoCap for Blender: motion capture from several unsynchronised, uncalibrated video clips.

Thin entry point: everything lives in ``imocap_blender`` (the Blender side), ``operators``,
``panels`` and ``core`` (the capture engine, run as a worker subprocess, never imported with torch
into Blender).
"""


def register():
    from . import imocap_blender

    imocap_blender.register()


def unregister():
    from . import imocap_blender

    imocap_blender.unregister()
