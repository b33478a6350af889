# SPDX-License-Identifier: GPL-3.0-or-later
"""Operators, one module per user action (capture, import_result, batch, retarget, view_clip,
setup_worker). Each module defines ``classes``; this package registers them in order."""

import bpy

from . import batch, capture, clips, import_result, retarget, setup_worker, view_clip

_modules = (clips, capture, batch, import_result, view_clip, setup_worker, retarget)

classes = tuple(cls for module in _modules for cls in module.classes)
register, unregister = bpy.utils.register_classes_factory(classes)
