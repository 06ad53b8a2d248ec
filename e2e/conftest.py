"""Browser tests: the real site in a subprocess (gunicorn) on a free loopback port, with its
own instance folder, driven by headless Chromium through Playwright."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    instance_path: Path
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def flask(
        self, *args: str, input: str | None = None, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        """Run a `flask --app proofmark` command against this server's instance folder."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "proofmark", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )

    env: dict | None = None


def start_server(tmp_path: Path, config: dict | None = None, name: str = "site") -> LiveServer:
    port = free_port()
    instance = tmp_path / f"instance-{name}-{port}"
    instance.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(
        INSTANCE_PATH=str(instance),
        FLASK_SECRET_KEY="e2e-secret",
        FLASK_DEMO="true",
        FLASK_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    for key, value in (config or {}).items():
        env[f"FLASK_{key}"] = value if isinstance(value, str) else json.dumps(value)
    log_path = tmp_path / f"{name}-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--access-logfile",
                "-",
                "proofmark:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", instance, process, log_path, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not answer /healthz within 30 s:\n{server.log()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("live"), {"EMBED_ALLOWED_ORIGINS": []})
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path):
    """Start extra servers with their own settings, e.g. server_factory({"SMTP_PORT": 2525})."""
    started: list[LiveServer] = []

    def make(config: dict | None = None, name: str = "site") -> LiveServer:
        server = start_server(tmp_path, config, name)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        if Path(CHROMIUM).exists():
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        else:
            try:
                browser = p.chromium.launch(args=CHROMIUM_ARGS)
            except Error as exc:
                message = f"no Chromium: install Debian's chromium (apt-get install chromium): {exc}"
                if os.environ.get("CI") == "true":
                    pytest.fail(message)
                pytest.skip(message)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in str(item.fspath.dirpath()):
            item.add_marker(pytest.mark.e2e)
