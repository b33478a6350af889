"""The add-on as Blender sees it: build.py's zip passes Blender's validator, installs into a
sandboxed user folder in the bpy module, and registers/unregisters cleanly, twice."""

import json
import zipfile

import pytest

from conftest import run_python

pytestmark = pytest.mark.bpy

INSTALL = r'''
import json, sys, bpy, addon_utils
zip_path = sys.argv[1]
out = {}
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
mod = "bl_ext.user_default.imocap"
def classes():
    pkg = sys.modules[mod]
    return [c for m in (pkg.imocap_blender.preferences, pkg.imocap_blender.properties, pkg.operators,
                        pkg.panels) for c in m.classes]
def state():
    return {"enabled": mod in bpy.context.preferences.addons,
            "types": sorted(n for n in dir(bpy.types) if n.startswith("IMOCAP_")),
            "registered": sorted(c.__name__ for c in classes() if c.is_registered),
            "scene_prop": hasattr(bpy.types.Scene, "imocap")}
out["install"] = sorted(res)
out["after_install"] = state()
out["cycles"] = []
for _ in range(2):
    addon_utils.disable(mod, default_set=True)
    off = state()
    addon_utils.enable(mod, default_set=True)
    out["cycles"].append([off, state()])
prefs = bpy.context.preferences.addons[mod].preferences
out["prefs"] = {"device": prefs.device, "worker_python": prefs.worker_python}
bpy.context.scene.imocap.rank = 2
out["rank"] = bpy.context.scene.imocap.rank
import os
out["files"] = sorted(os.listdir(os.path.join(bpy.utils.user_resource("EXTENSIONS"), "user_default", "imocap")))
print("RESULT " + json.dumps(out))
'''


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = run_python(["build.py", "--out-dir", str(out)])
    assert r.returncode == 0, r.stdout + r.stderr
    path = r.stdout.strip().splitlines()[-1]
    assert path.endswith("imocap-0.1.0.zip")
    return path


def test_zip_contents(built_zip):
    names = set(zipfile.ZipFile(built_zip).namelist())
    for need in ("blender_manifest.toml", "__init__.py", "imocap_blender/__init__.py", "panels/main.py",
                 "core/result.py", "core/body.py", "core/assets/open_body.npz", "requirements.txt"):
        assert need in names
    assert not any(n.startswith((".venv/", "tests/", "tools/", ".git/", "dist/")) or "__pycache__" in n
                   for n in names)
    assert not any(n.endswith(".whl") for n in names)  # never numpy/torch inside


def test_validator_rejects_a_broken_manifest(tmp_path):
    from build import blender_ext_cli

    bad = tmp_path / "src"
    bad.mkdir()
    (bad / "__init__.py").write_text("")
    (bad / "blender_manifest.toml").write_text('schema_version = "1.0.0"\nid = "x"\n')
    r = run_python([str(blender_ext_cli()), "build", "--source-dir", str(bad), "--output-dir", str(tmp_path)])
    assert r.returncode != 0


def test_install_enable_and_register_twice(built_zip, tmp_path):
    r = run_python(["-c", INSTALL, built_zip], BLENDER_USER_RESOURCES=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, r.stdout[-3000:] + r.stderr[-3000:]
    out = json.loads(line[0][7:])
    assert out["install"] == ["FINISHED"]
    on = out["after_install"]
    assert on["enabled"] and on["scene_prop"]
    assert "IMOCAP_PT_main" in on["types"]
    assert set(on["registered"]) >= {"IMOCAP_PT_main", "IMOCAP_PG_settings", "IMOCAP_AP_preferences"}
    for off, again in out["cycles"]:
        assert off == {"enabled": False, "types": [], "registered": [], "scene_prop": False}  # nothing leaked
        assert again == on
    assert out["prefs"] == {"device": "auto", "worker_python": ""}
    assert out["rank"] == 2
    assert "core" in out["files"] and "imocap_blender" in out["files"]
