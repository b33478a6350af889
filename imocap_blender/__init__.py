# SPDX-License-Identifier: GPL-3.0-or-later
"""The Blender side of iMoCap that is not a button: preferences, scene properties, and (later)
the worker runner and the scene writers. Registers the add-on module by module and unregisters
in reverse order."""

from .. import operators, panels
from . import preferences, properties

_modules = (preferences, properties, operators, panels)


def register():
    for module in _modules:
        module.register()


def unregister():
    for module in reversed(_modules):
        module.unregister()
