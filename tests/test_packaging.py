"""The project installs as one package with the names the code imports: every package folder is
listed, the standard library's `site` is not shadowed, and the lock pins what pyproject asks for."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

# Project folder -> the name it is installed under.
PACKAGE_ROOTS = {"site": "proofmark", "renderer": "proofmark_renderer", "fonts": "proofmark_renderer.fonts"}


def _package_folders() -> dict[str, Path]:
    """Installed name -> folder, for every folder holding an __init__.py."""
    found = {}
    for folder, name in PACKAGE_ROOTS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            parts = init.parent.relative_to(ROOT / folder).parts
            if any(p.startswith((".", "__")) for p in parts):
                continue
            found[".".join((name, *parts))] = init.parent
    return found


def test_every_package_folder_is_listed_under_its_installed_name():
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["package-dir"] == {name: folder for folder, name in PACKAGE_ROOTS.items()}
    listed = set(setuptools["packages"])
    folders = _package_folders()
    missing = sorted(set(folders) - listed)
    assert not missing, "package folders not listed in [tool.setuptools] packages: " + ", ".join(
        f"{name} ({folders[name].relative_to(ROOT)})" for name in missing
    )
    stale = sorted(listed - set(folders))
    assert not stale, f"listed in [tool.setuptools] packages but no folder with an __init__.py: {stale}"


def test_the_standard_library_site_is_not_shadowed(tmp_path):
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
    shown = subprocess.run(
        [
            str(python),
            "-c",
            "import json, site, sysconfig; print(site.__file__); print(sysconfig.get_paths()['stdlib'])",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    site_file, stdlib = shown.stdout.split("\n")[:2]
    assert Path(site_file).resolve() == Path(stdlib).resolve() / "site.py"
    ran = subprocess.run(
        [str(python), "-m", "site"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "test.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            pins[_normalise(match.group(1))] = match.group(2)
    return pins


def _declared() -> list[Requirement]:
    project = PYPROJECT["project"]
    return [Requirement(r) for r in (*project["dependencies"], *project["optional-dependencies"]["test"])]


@pytest.mark.parametrize("requirement", _declared(), ids=lambda r: r.name)
def test_the_test_lock_pins_each_declared_package_at_the_same_version(requirement):
    pins = [s for s in requirement.specifier if s.operator == "=="]
    assert len(pins) == 1, f"pyproject should pin {requirement.name} with ==, not {requirement.specifier}"
    locked = _locked()
    name = _normalise(requirement.name)
    assert name in locked, f"{requirement.name} is not pinned (==) in requirements/test.lock"
    assert locked[name] == pins[0].version, (
        f"{requirement.name}: pyproject says {pins[0].version}, test.lock says {locked[name]}"
    )


def test_the_test_lock_holds_every_run_pin_so_the_run_command_reuses_the_test_install():
    """scripts/setup.sh lets `run` use a virtualenv installed from test.lock: that is only right
    while test.lock pins every package of run.lock at the same version."""

    def pins(name: str) -> dict[str, str]:
        text = (ROOT / "requirements" / name).read_text()
        return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}

    run, test = pins("run.lock"), pins("test.lock")
    assert run, "no pins read from run.lock"
    different = {
        name: (version, test.get(name)) for name, version in run.items() if test.get(name) != version
    }
    assert not different, f"run.lock pins that test.lock does not hold (run, test): {different}"
