"""One daemon thread per process that works a durable queue: woken after a request queued
something, and every few seconds for retries that have come due. The mail outbox, the
webhook queues and the proof render jobs each run one."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask


def after_request_mode(app: Flask, setting: str) -> str:
    """How a queue's work runs after a request: `setting` (inline, thread or off); unset means
    inline under TESTING, else on the worker thread."""
    mode = app.config.get(setting)
    if mode in (None, ""):
        return "inline" if app.testing else "thread"
    return str(mode)


def worker_for(app: Flask, key: str, make: Callable[[Flask], QueueWorker]) -> QueueWorker:
    """The app's one worker for a queue, kept in `app.extensions[key]`."""
    worker = app.extensions.get(key)
    if worker is None:
        worker = app.extensions[key] = make(app)
    return worker


class QueueWorker:
    def __init__(self, app: Flask, *, name: str, poll_setting: str, work: Callable[[Flask], object]):
        self.app = app
        self.name = name
        self.poll_setting = poll_setting
        self.work = work
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def kick(self) -> None:
        self._idle.clear()
        self.start()
        self._wake.set()

    def wait_idle(self, timeout: float = 30) -> bool:
        return self._idle.wait(timeout)

    def _run(self) -> None:
        poll = float(self.app.config[self.poll_setting])
        while True:
            self._wake.wait(timeout=poll)
            self._wake.clear()
            try:
                self.work(self.app)
            except Exception:  # noqa: BLE001 - the thread must survive to retry later
                self.app.logger.exception("%s: unexpected error", self.name)
            finally:
                if not self._wake.is_set():
                    self._idle.set()
