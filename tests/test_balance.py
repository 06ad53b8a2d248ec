"""proofmark.balance between real worker processes sharing one count file: a worker that
serves more than its share of the keep-alive connections closes the surplus, one that
serves its share or less keeps every connection, and a worker that has stopped counts for
nothing. (tests/test_serving_rsgi.py shows it in a real granian with two workers.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from proofmark.balance import ConnectionBalance

    # Counted for a minute: within this test nothing expires.
    balance = ConnectionBalance(Path(sys.argv[1]), window=60, returning=60)
    print("ready", flush=True)
    for line in sys.stdin:
        print(" ".join("keep" if balance.keep_alive(c) else "close" for c in line.split()), flush=True)
    """
)


class Worker:
    """A process with its ConnectionBalance; `requests` answers whether each named
    connection's answer keeps it open. The test process is the parent of every worker, as
    granian's master is of its workers."""

    def __init__(self, folder) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline() == "ready\n"

    def requests(self, *connections: str) -> list[str]:
        self.process.stdin.write(" ".join(connections) + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().split()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)
        self.process.stdout.close()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(tmp_path / "workers"))
        return started[-1]

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.stop()


def test_a_worker_over_its_share_closes_only_the_surplus(workers):
    a = workers()
    # Alone, a worker keeps every connection: there is nowhere else for them to go.
    assert a.requests("a1", "a2", "a3", "a4", "a5", "a6") == ["keep"] * 6
    b = workers()  # a second worker starts; the kernel hands it two new connections
    assert b.requests("b1", "b2") == ["keep", "keep"]
    # Eight in all, six on a: a closes two (the answers still go out), keeps its four, and
    # does not close more while those two clients come back.
    assert a.requests("a1", "a2", "a3", "a4", "a5", "a6") == ["close", "close"] + ["keep"] * 4
    assert b.requests("b3", "b4") == ["keep", "keep"]  # the two, back on new connections
    # Even now: nobody closes anything.
    assert a.requests("a3", "a4", "a5", "a6") == ["keep"] * 4
    assert b.requests("b1", "b2", "b3", "b4") == ["keep"] * 4


def test_a_closed_client_back_on_the_same_worker_is_closed_again(workers):
    a = workers()
    assert a.requests("a1", "a2", "a3", "a4", "a5", "a6") == ["keep"] * 6
    b = workers()
    assert b.requests("b1", "b2") == ["keep", "keep"]
    assert a.requests("a1", "a2", "a3", "a4", "a5", "a6") == ["close", "close"] + ["keep"] * 4
    # Both clients come back on new connections, and the kernel hands both to a again.
    assert a.requests("a7", "a8") == ["close", "close"]
    assert b.requests("b3", "b4") == ["keep", "keep"]  # third time lucky
    assert a.requests("a3", "a4", "a5", "a6") == ["keep"] * 4


def test_a_stopped_worker_counts_for_nothing(workers):
    a = workers()
    assert a.requests("a1", "a2", "a3", "a4") == ["keep"] * 4
    b = workers()
    assert b.requests("b1", "b2", "b3", "b4") == ["keep"] * 4
    b.stop()  # killed, say: its count stays in the file, and is not counted
    # b's four clients come back on a: a serves all eight.
    assert a.requests("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8") == ["keep"] * 8
    c = workers()  # granian starts another worker in b's place
    assert c.requests("c1") == ["keep"]
    # a holds eight of nine: it closes until it holds its share (five).
    assert a.requests("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8") == ["close"] * 3 + ["keep"] * 5
