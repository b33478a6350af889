"""Errors a user can act on. No torch, no bpy.

The worker reports these as one ``{"error": ...}`` line without a traceback; anything else is a
bug and also gets its traceback on stderr.
"""


class UserError(Exception):
    """A failure the user can fix (bad input, missing file); the message names the file and the fix."""
