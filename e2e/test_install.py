"""Proofmark installs like any other Python package: a wheel built from the checkout serves the
site from a fresh virtualenv, and a second checkout with its own virtualenv runs its own code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from e2e.conftest import ROOT, free_port

pytestmark = pytest.mark.e2e


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 600)
    return subprocess.run([str(a) for a in args], **kwargs)


def source_copy(dest: Path) -> Path:
    """The committed tree plus working-tree edits, without .venv or node_modules."""
    files = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).stdout
    for name in filter(None, files.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return dest


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_a_wheel_installs_into_a_fresh_virtualenv_and_serves_the_site(tmp_path):
    source = source_copy(tmp_path / "source")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", source, "-w", tmp_path / "dist")
    (wheel,) = (tmp_path / "dist").glob("proofmark-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "-r", ROOT / "requirements" / "run.lock")
    run(python, "-m", "pip", "install", "-q", "--no-deps", wheel)

    # Started far from any checkout: only what the wheel carries (templates, static files,
    # migrations, catalogs) is there. The npm packages come from the asset root.
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PYTHON"))}
    env.update(INSTANCE_PATH=str(deploy / "instance"), PROOFMARK_ASSET_ROOT=str(ROOT))
    init = run(venv / "bin" / "proofmark", "init-instance", cwd=deploy, env=env)
    assert "wrote a new SECRET_KEY" in init.stdout
    assert "at migration" in run(venv / "bin" / "proofmark", "init-db", cwd=deploy, env=env).stdout

    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [venv / "bin" / "gunicorn", "--bind", f"127.0.0.1:{port}", "proofmark:create_app()"],
        cwd=deploy,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and health is None:
            try:
                health = get_json(f"{url}/healthz")
            except OSError:
                time.sleep(0.2)
        assert health is not None, (tmp_path / "gunicorn.log").read_text()
        assert health["status"] == "ok"
        assert health["database"]["migration"] == health["database"]["latest"] > 0
        assert health["fonts"] == {"loaded": 15, "problems": []}
        with urllib.request.urlopen(f"{url}/p/mug", timeout=10) as response:
            page = response.read().decode()
        assert response.status == 200 and "/static/" in page and "/vendor/htmx.min.js" in page
        # The translations were compiled into the wheel (setup.py); no .mo is committed.
        with urllib.request.urlopen(f"{url}/p/mug?lang=de", timeout=10) as response:
            german = response.read().decode()
        assert '<html lang="de">' in german and "Ihr Text" in german
        with urllib.request.urlopen(f"{url}/vendor/htmx.min.js", timeout=5) as response:
            assert response.status == 200 and b"htmx" in response.read(2000)
        imported = run(
            python, "-c", "import proofmark, proofmark_renderer; print(proofmark.__file__)", cwd=deploy
        )
        assert str(venv) in imported.stdout and str(ROOT) not in imported.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_two_checkouts_each_run_their_own_code(tmp_path):
    """The second checkout's virtualenv imports the second checkout, whatever the first one has."""
    other = source_copy(tmp_path / "other")
    marker = "# second checkout\n"
    (other / "site" / "__init__.py").write_text(marker + (other / "site" / "__init__.py").read_text())

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    # The dependencies from this checkout's virtualenv, by path only: its .pth files (and so
    # its editable Proofmark) are not processed for a directory named in a .pth line.
    purelib = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps = run(
        sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).stdout.strip()
    Path(purelib.stdout.strip(), "deps.pth").write_text(deps + "\n")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "-q",
        "--no-deps",
        "-e",
        other,
    )

    code = "import json, site, proofmark; print(proofmark.__file__); print(site.__file__)"
    theirs = run(venv / "bin" / "python", "-c", code, cwd=tmp_path).stdout.splitlines()
    ours = run(sys.executable, "-c", code, cwd=tmp_path).stdout.splitlines()
    assert theirs[0] == str(other / "site" / "__init__.py")
    assert ours[0] == str(ROOT / "site" / "__init__.py")
    # Neither virtualenv shadows the standard library's `site`.
    assert theirs[1].endswith("/lib/python3.11/site.py") and ours[1].endswith("/lib/python3.11/site.py")
