# SPDX-License-Identifier: GPL-3.0-or-later
"""Scene writers: the only place that turns a CaptureResult into Blender data (armature, actions,
body mesh, cameras and plates). ``build.import_capture`` creates everything in one step."""
