# SPDX-License-Identifier: GPL-3.0-or-later
"""Facts about the installed add-on that need no bpy: its package name and folders."""

from pathlib import Path

# "bl_ext.<repo>.imocap" when installed as an extension; the checkout's folder name when linked.
ADDON_PACKAGE = __package__.rpartition(".")[0]
ADDON_ROOT = Path(__file__).resolve().parent.parent
