# SPDX-License-Identifier: GPL-3.0-or-later
"""Sidebar panels: 3D View > Sidebar > iMoCap."""

import bpy

from . import main

_modules = (main,)

classes = tuple(cls for module in _modules for cls in module.classes)
register, unregister = bpy.utils.register_classes_factory(classes)
