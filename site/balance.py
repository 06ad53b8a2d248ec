"""Keep-alive connections spread evenly across the server's worker processes.

granian on Linux gives each worker its own SO_REUSEPORT listener, and the kernel hands each
new connection to one of them by a hash of its addresses and ports: eight keep-alive clients
are often split 5:3 or 6:2, and the worker with six runs six clients' renders on one core
while the other idles. A classic-BPF reuseport program cannot do better: it sees only the
packet, and Linux (6.18 here) steps a client's source ports by random amounts, so even
`(source port >> 1) % workers` spreads one client's connections like the hash does.

So each worker counts the connections it is serving (those with a request being answered or
answered in the last WINDOW_SECONDS), publishes the count in a small file the workers of one server share, and,
while it holds more than its share of all of them (the total over the workers alive, rounded
up), answers the request in hand with `Connection: close`. The client (a browser, a proxy's
pool) opens a new connection, which the kernel hands to a worker again; within a few
requests every worker serves its share. Only HTTP/1.1 answers carry it (HTTP/2 multiplexes
one connection; HTTP/1.0 closes anyway).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Hashable
from pathlib import Path

# A connection counts while a request of its is being answered and for this long after: a
# busy client sends its next one at once, and one idle longer costs its worker nothing. Short,
# because a connection its client has closed counts this long too (the server is not told):
# measured, 0.5 s left the benchmark's phases split 5:3 at their end in 9 of 15 (the last
# phase's closed connections still counted) and closed more, not fewer, connections.
WINDOW_SECONDS = 0.1
# An answer still being made after this long no longer keeps its connection counted.
WORKING_SECONDS = 30.0
# A connection this worker closed is counted this long: its client comes back on a new
# connection within milliseconds, and until it is counted there, closing it must not shrink
# every worker's share (a worker would close one after another).
RETURN_SECONDS = 0.1
# Each worker writes its heartbeat this often; one silent for STALE_SECONDS is gone (stopped,
# killed, restarting) and neither its count nor its share is counted.
BEAT_SECONDS = 0.5
STALE_SECONDS = 2.0
SLOTS = 64
# One slot per worker: pid, connections it serves, its last heartbeat (time.monotonic(), the
# same clock in every process of the machine).
SLOT = struct.Struct("<iid")
_RECOUNT_SECONDS = 0.02


class ConnectionBalance:
    """This worker's side: `keep_alive(client)` on every request says whether its answer may
    leave the connection open. Workers of one server (children of one granian process) share
    `folder/connections-<server pid>`."""

    def __init__(
        self, folder: Path, *, window: float = WINDOW_SECONDS, returning: float = RETURN_SECONDS
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        server = os.getppid()
        _remove_files_of_stopped_servers(folder)
        path = folder / f"connections-{server}"
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._window = window
        self._returning = returning
        with _locked(self._fd):
            if os.fstat(self._fd).st_size < SLOT.size * SLOTS:
                os.ftruncate(self._fd, SLOT.size * SLOTS)
            self._map = mmap.mmap(self._fd, SLOT.size * SLOTS)
            self._slot = self._claim_slot()
        # Connections serving requests (their last request's time), and those this worker
        # closed (when; counted for RETURN_SECONDS).
        self._seen: dict[Hashable, float] = {}
        self._closed: dict[Hashable, float] = {}
        self._count = 0  # published: both together
        self._recounted = 0.0
        # The offsets of the other live workers' slots (found again at each recount).
        self._others: list[int] = self._live_others(time.monotonic())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beating, name="connection-balance", daemon=True)
        self._thread.start()

    def keep_alive(self, client: Hashable) -> bool:
        """Count this request's connection (`client`: its address and port); False when this
        worker holds more than its share, and the answer should close the connection."""
        now = time.monotonic()
        seen = self._seen
        fresh = client not in seen
        seen[client] = now
        if fresh and self._closed:
            # Most likely a client this worker closed, back here: it stops counting twice (else
            # a worker over its share would keep it, until the closed one's count expired).
            del self._closed[next(iter(self._closed))]
        if fresh or now - self._recounted >= _RECOUNT_SECONDS:
            self._recount(now)
        if not self._others:
            return True
        total = self._count + sum(SLOT.unpack_from(self._map, offset)[1] for offset in self._others)
        if len(seen) <= math.ceil(total / (len(self._others) + 1)):
            return True
        del seen[client]
        self._closed[client] = now
        return False

    def working(self, client: Hashable) -> None:
        """The app is making this connection's answer (on a thread; it may take a while)."""
        if client in self._seen:
            self._seen[client] = time.monotonic() + WORKING_SECONDS

    def done(self, client: Hashable) -> None:
        """The answer is made: the connection counts for WINDOW seconds more."""
        if client in self._seen:
            self._seen[client] = time.monotonic()

    def close(self) -> None:
        """Give the slot up (the worker stops)."""
        self._stop.set()
        SLOT.pack_into(self._map, self._slot, 0, 0, 0.0)

    def _recount(self, now: float) -> None:
        for counted, oldest in ((self._seen, now - self._window), (self._closed, now - self._returning)):
            for client in [c for c, t in counted.items() if t < oldest]:
                del counted[client]
        self._recounted = now
        self._publish(len(self._seen) + len(self._closed))
        self._others = self._live_others(now)

    def _publish(self, count: int) -> None:
        if count != self._count:
            self._count = count
            struct.pack_into("<i", self._map, self._slot + 4, count)

    def _claim_slot(self) -> int:
        """A free slot (or a stale one: its worker is gone), under the file's lock."""
        now = time.monotonic()
        for offset in range(0, SLOT.size * SLOTS, SLOT.size):
            pid, _, beat = SLOT.unpack_from(self._map, offset)
            if pid == 0 or pid == os.getpid() or now - beat > STALE_SECONDS:
                SLOT.pack_into(self._map, offset, os.getpid(), 0, now)
                return offset
        raise RuntimeError(f"more than {SLOTS} workers share one connection count")

    def _live_others(self, now: float) -> list[int]:
        others = []
        for offset in range(0, SLOT.size * SLOTS, SLOT.size):
            pid, _, beat = SLOT.unpack_from(self._map, offset)
            if offset != self._slot and pid != 0 and now - beat <= STALE_SECONDS and _alive(pid):
                others.append(offset)
        return others

    def _beating(self) -> None:
        """The heartbeat, and the count again: a worker no longer sent requests must not
        keep counting the connections it had (the others would close theirs)."""
        while not self._stop.wait(BEAT_SECONDS):
            now = time.monotonic()
            # Copies made at once (under the GIL): the event loop's thread changes the dicts.
            self._publish(
                sum(1 for t in list(self._seen.values()) if t >= now - self._window)
                + sum(1 for t in list(self._closed.values()) if t >= now - self._returning)
            )
            struct.pack_into("<d", self._map, self._slot + 8, now)


@contextlib.contextmanager
def _locked(fd: int):
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _remove_files_of_stopped_servers(folder: Path) -> None:
    for path in folder.glob("connections-*"):
        server = path.name.rsplit("-", 1)[1]
        if server.isdigit() and not _alive(int(server)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """False for a process that is gone (a worker killed since its last heartbeat, a stopped server)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
