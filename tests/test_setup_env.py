"""The worker-environment set-up job (no bpy needed), with a small requirements file."""

from imocap_blender.setup_env import SetupJob


def test_creates_a_venv_and_installs(tmp_path):
    req = tmp_path / "req.txt"
    req.write_text("# nothing to install\n")
    job = SetupJob(tmp_path / "user" / "venv", req).start()
    assert job.wait(timeout=300) == "done", job.error
    assert job.venv_python.is_file()
    log = job.log_path.read_text()
    assert "-m venv" in log and "pip install" in log


def test_missing_requirements_and_failing_pip(tmp_path):
    job = SetupJob(tmp_path / "v", tmp_path / "missing.txt").start()
    assert job.state == "failed" and "missing.txt" in job.error
    bad = tmp_path / "bad.txt"
    bad.write_text("--no-such-pip-option\n")
    job = SetupJob(tmp_path / "v2" / "venv", bad).start()
    assert job.wait(timeout=300) == "failed" and "setup.log" in job.error
