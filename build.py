"""Build and validate the extension zip with Blender's own extension command line.

    python build.py [--out-dir dist]

Blender's extension CLI (``blender_ext.py``) ships inside the bpy module; this runs its ``build``
then ``validate`` on the result, and prints the zip's path. Exit status non-zero on any failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def blender_ext_cli() -> Path:
    """Path of Blender's ``blender_ext.py`` inside the installed bpy module (bpy is not imported)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("build.py: the bpy module is not installed here; run it with .venv/bin/python "
                         "(tools/setup_env.sh creates .venv)")
    for base in spec.submodule_search_locations:
        found = sorted(Path(base).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return found[-1]
    raise SystemExit("build.py: Blender's extension CLI (blender_ext.py) not found in the bpy module")


def build(out_dir: Path) -> Path:
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    cli = blender_ext_cli()
    run = [sys.executable, str(cli)]
    subprocess.run(run + ["build", "--source-dir", str(ROOT), "--output-filepath", str(zip_path)], check=True)
    subprocess.run(run + ["validate", str(zip_path)], check=True)
    return zip_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=ROOT / "dist")
    args = ap.parse_args(argv)
    try:
        path = build(args.out_dir)
    except subprocess.CalledProcessError as e:
        print(f"build.py: Blender's extension CLI failed ({e.returncode})", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
