# SPDX-License-Identifier: GPL-3.0-or-later
"""The Blender side of iMoCap that is not a button: preferences, scene properties, the worker
runner and the scene writers. Registers the add-on module by module and unregisters in reverse
order. Modules named in their docstrings as bpy-free (runner, rotations) import without Blender."""


def _modules():
    from .. import operators, panels
    from . import preferences, properties

    return (preferences, properties, operators, panels)


def register():
    for module in _modules():
        module.register()


def unregister():
    for module in reversed(_modules()):
        module.unregister()
