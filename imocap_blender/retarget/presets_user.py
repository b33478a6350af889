# SPDX-License-Identifier: GPL-3.0-or-later
"""Bone-map presets the user saves: a folder in the extension's user directory (Blender's),
read together with the bundled ones."""

from __future__ import annotations

import os
import re
from pathlib import Path

import bpy

from ..._core import atomic_write
from ..addon import ADDON_PACKAGE
from .mapping import Preset, load_presets, preset_json


def user_preset_dir(create: bool = False) -> Path:
    try:
        return Path(bpy.utils.extension_path_user(ADDON_PACKAGE, path="retarget_presets", create=create))
    except (ValueError, KeyError):  # not installed as an extension (a linked checkout)
        return Path(bpy.utils.user_resource("CONFIG", path=os.path.join("imocap", "retarget_presets"), create=create))


def all_presets() -> dict[str, Preset]:
    return load_presets(user_preset_dir())


def save_preset(name: str, bones: dict[str, str]) -> Path:
    """Write ``bones`` as a preset called ``name``; returns its file (replaced if it existed)."""
    key = re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip()).strip("_").lower()
    if not key:
        raise ValueError("give the preset a name with at least one letter or digit")
    path = user_preset_dir(create=True) / f"{key}.json"
    text = preset_json(name.strip(), bones, "saved from the iMoCap panel").encode("utf-8")
    atomic_write(path, lambda f: f.write(text))
    return path
