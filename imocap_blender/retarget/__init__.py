# SPDX-License-Identifier: GPL-3.0-or-later
"""Retargeting the captured motion onto the rigs animators use (Mixamo, Rigify, the Unreal
mannequins, any humanoid).

    retarget(source, target, preset="auto", frames=None, root_motion=True) -> bpy.types.Action

``mapping`` (which bone follows which; presets are JSON files in ``presets/``) and ``solve`` (the
maths) need no bpy; ``bake`` reads the rigs from Blender and writes the action."""

from .mapping import MappingError, load_presets  # noqa: F401  (bpy-free)


def retarget(source, target, preset: str = "auto", frames=None, root_motion: bool = True, **kwargs):
    """See :func:`bake.retarget`."""
    from .bake import retarget as _retarget

    return _retarget(source, target, preset=preset, frames=frames, root_motion=root_motion, **kwargs)
