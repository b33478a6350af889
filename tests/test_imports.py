"""Import rules: core never imports bpy; the Blender side never imports torch; the torch-free
parts of core stay torch-free."""

import ast
import pkgutil

import core
from conftest import ROOT, run_python

TORCH_FREE = ("core", "core.result", "core.progress", "core.errors", "core.cli")
HEAVY = {"torch", "ultralytics", "smplx", "cv2", "scipy", "torchvision"}


def test_every_core_module_imports_with_bpy_unimportable():
    modules = ["core"] + [f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__) if not m.name.startswith("_")]
    code = ("import sys, importlib\nsys.modules['bpy'] = None\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "assert sys.modules['bpy'] is None\nprint('ok', len(" + repr(modules) + "))")
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")
    assert len(modules) >= 8


def test_torch_free_modules_import_no_heavy_package():
    code = ("import sys\nsys.modules['bpy'] = None\n"
            f"import {', '.join(TORCH_FREE)}\n"
            "core.cli.build_parser()\n"
            f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules))")
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def _imported_roots(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_blender_side_never_imports_heavy_packages():
    files = [ROOT / "__init__.py", ROOT / "_core.py"]
    for folder in ("imocap_blender", "operators", "panels"):
        files += sorted((ROOT / folder).rglob("*.py"))
    assert len(files) >= 5
    for f in files:
        bad = HEAVY & set(_imported_roots(f))
        assert not bad, f"{f.relative_to(ROOT)} imports {bad}"


def test_core_never_mentions_bpy_imports():
    for f in sorted((ROOT / "core").rglob("*.py")):
        assert "bpy" not in set(_imported_roots(f)), f
        assert "imocap_blender" not in set(_imported_roots(f)), f
