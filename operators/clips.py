# SPDX-License-Identifier: GPL-3.0-or-later
"""Managing the list of clips to capture from."""

import os

import bpy
from bpy_extras.io_utils import ImportHelper

VIDEO = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


def _describe(item) -> None:
    """Frames, frame rate and size of the clip (Blender's own movie reader), or why not."""
    try:
        clip = bpy.data.movieclips.load(item.path, check_existing=True)
    except RuntimeError as e:
        item.status = f"unreadable: {e}"
        return
    item.frames, item.fps = clip.frame_duration, clip.fps
    item.width, item.height = clip.size[0], clip.size[1]
    item.status = "ready" if item.frames > 0 else "no frames"


class IMOCAP_OT_add_clips(bpy.types.Operator, ImportHelper):
    """Add video clips (or every clip of a folder) of the same action"""

    bl_idname = "imocap.add_clips"
    bl_label = "Add Clips"
    bl_options = {"REGISTER", "UNDO"}

    files: bpy.props.CollectionProperty(type=bpy.types.OperatorFileListElement, options={"HIDDEN", "SKIP_SAVE"})
    directory: bpy.props.StringProperty(subtype="DIR_PATH", options={"HIDDEN", "SKIP_SAVE"})
    filter_glob: bpy.props.StringProperty(default="*" + ";*".join(VIDEO), options={"HIDDEN"})

    def execute(self, context):
        settings = context.scene.imocap
        folder = bpy.path.abspath(self.directory or os.path.dirname(self.filepath))
        names = [f.name for f in self.files if f.name] or sorted(
            n for n in os.listdir(folder) if n.lower().endswith(VIDEO))
        have = {c.path for c in settings.clips}
        added = 0
        for n in names:
            path = os.path.join(folder, n)
            if not os.path.isfile(path) or not n.lower().endswith(VIDEO) or path in have:
                continue
            item = settings.clips.add()
            item.path = path
            _describe(item)
            added += 1
        if not added:
            self.report({"WARNING"}, f"no new video clips in {folder}")
            return {"CANCELLED"}
        return {"FINISHED"}


class IMOCAP_OT_remove_clip(bpy.types.Operator):
    """Remove the selected clip from the list"""

    bl_idname = "imocap.remove_clip"
    bl_label = "Remove Clip"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not len(context.scene.imocap.clips):
            cls.poll_message_set("The clip list is empty")
            return False
        return True

    def execute(self, context):
        s = context.scene.imocap
        s.clips.remove(min(s.clip_index, len(s.clips) - 1))
        s.clip_index = max(0, min(s.clip_index, len(s.clips) - 1))
        return {"FINISHED"}


classes = (IMOCAP_OT_add_clips, IMOCAP_OT_remove_clip)
