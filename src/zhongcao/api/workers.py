"""Serving processes that share one port, each with a listening socket of its own.

uvicorn's workers share one listening socket, and a worker's event loop accepts every connection that
is waiting when it wakes: the keep-alive connections of a load balancer or a client pool opened together
all land on one worker, which then serves most of the traffic while the others idle, and its queue sets
the tail latency. With ``SO_REUSEPORT`` (Linux) every worker listens on a socket of its own and the
kernel spreads new connections across them by hash, as nginx's ``reuse_port`` does. Elsewhere the
shared socket stays.

A serving process (``app_from_environment``) also shortens the interpreter's GIL switch interval: its
background threads (event flush, sync, lease renewal) are CPU-bound for tens of milliseconds at a time,
and every time the event loop gives the GIL up for a socket call it would otherwise wait out the default
5 ms to get it back, a few times per request (the convoy effect).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import time
from types import FrameType

import uvicorn

log = logging.getLogger("zhongcao.api")

FACTORY = "zhongcao.api.app:app_from_environment"
STARTUP_GRACE_S = 10.0  # a worker that dies sooner than this after its start is a failed start, not a crash
BACKLOG = 2048


def reuse_port_supported() -> bool:
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def tune_interpreter(switch_interval_ms: float) -> None:
    sys.setswitchinterval(switch_interval_ms / 1000.0)


def _listener(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def _worker(host: str, port: int, access_log: bool) -> None:
    sock = _listener(host, port)
    sock.listen(BACKLOG)
    config = uvicorn.Config(FACTORY, factory=True, log_level="info", access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, *, access_log: bool) -> int:
    """Serve with ``workers`` processes until SIGINT or SIGTERM; a worker that crashes is replaced. Returns
    the exit status: non-zero when a worker failed to start (a bad port, a database that will not open)."""
    if not reuse_port_supported():
        uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info",
                    access_log=access_log)
        return 0
    # Bound but not listening: the port is checked and held for the workers, and takes no connections.
    held = _listener(host, port)
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = ctx.Process(target=_worker, args=(host, port, access_log),
                              name="zhongcao-worker")
        process.start()
        return process, time.monotonic()

    status = 0
    procs = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(procs):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < STARTUP_GRACE_S:
                    log.error("worker %s failed to start (exit code %s); stopping", process.pid, process.exitcode)
                    status, stopping = 1, True
                    break
                log.warning("worker %s exited (code %s); starting another", process.pid, process.exitcode)
                procs[i] = start()
    finally:
        for process, _ in procs:
            if process.is_alive():
                process.terminate()  # uvicorn shuts down gracefully on SIGTERM: requests finish, leases return
        for process, _ in procs:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        held.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return status
