"""A CaptureResult as a .blend, with the bpy module (no Blender UI, no add-on installation):

    .venv/bin/python tools/result_to_blend.py RESULT.npz OUT.blend [--no-mesh]

An empty scene receives what the add-on's importer builds (armature with the consensus action and
one action per clip, body mesh, one camera per clip with its clip as plate, scene frame rate and
range); the file is written beside OUT.blend and renamed over it."""

import os
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv: list[str]) -> int:
    import bpy

    from core.result import CaptureResult, ResultFormatError
    from imocap_blender.scene.build import import_capture

    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = (os.path.abspath(a) for a in args)
    try:
        result = CaptureResult.load(src)
    except ResultFormatError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    bpy.ops.wm.read_factory_settings(use_empty=True)
    name = "iMoCap " + os.path.splitext(os.path.basename(src))[0]
    rep = import_capture(result, name=name, with_mesh="--no-mesh" not in argv, source_path=src)
    for w in rep.warnings:
        print(f"warning: {w}", file=sys.stderr)
    # a name not yet taken (saving over an existing file would leave Blender's .blend1 backup)
    tmp = os.path.join(os.path.dirname(dst), f".imocap-{uuid.uuid4().hex}.blend")
    try:
        bpy.ops.wm.save_as_mainfile(filepath=tmp, check_existing=False, compress=True)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
