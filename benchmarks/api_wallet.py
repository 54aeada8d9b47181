"""GET wallet latency at a fixed request rate, against a real `zhongcao serve` on loopback.

Open loop: requests are sent on a fixed schedule whatever the server does, and latency is counted from
the scheduled send time, so a stalled server cannot hide its queue (no coordinated omission). The
baseline, in the same run, is `/v1/health`: same HTTP stack, no database, no auth.

    uv run python benchmarks/api_wallet.py [--rps 200] [--seconds 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

TOKEN = "bench-operator-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _get(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> tuple[int, bytes]:
    reader, writer = conn
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return status, await reader.readexactly(length)


async def _load(port: int, path: str | Callable[[int], str], headers: dict[str, str], rps: int,
                seconds: float, count: bytes | None) -> dict[str, Any]:
    """Keep-alive connections on one event loop: the client costs a few microseconds a request. ``path``
    may vary by request number (a different consumer each time, say); ``count`` is a string whose
    occurrences in the answers are counted (what the server actually served)."""
    n = int(rps * seconds)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    def request_for(i: int) -> bytes:
        return f"GET {path if isinstance(path, str) else path(i)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()

    idle = deque([await asyncio.open_connection("127.0.0.1", port) for _ in range(32)])  # FIFO keeps all warm
    latencies = np.full(n, np.nan)
    errors = counted = 0
    loop = asyncio.get_running_loop()

    async def one(i: int, due: float) -> None:
        nonlocal errors, counted
        conn = idle.popleft() if idle else await asyncio.open_connection("127.0.0.1", port)
        try:
            status, body = await _get(conn, request_for(i))
        except (asyncio.IncompleteReadError, ConnectionError):  # the server closed an idle keep-alive
            conn = await asyncio.open_connection("127.0.0.1", port)
            status, body = await _get(conn, request_for(i))
        if status != 200:
            errors += 1
        if count:
            counted += body.count(count)
        latencies[i] = loop.time() - due
        idle.append(conn)

    # Each request starts as a task at its due time. Creating every request's task up front would spend
    # the schedule's first tenth of a second making tasks, and count that as the server's latency.
    start = loop.time() + 0.1
    tasks: set[asyncio.Task[None]] = set()
    for i in range(n):
        due = start + i / rps
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(one(i, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    for _, writer in idle:
        writer.close()
    ms = latencies * 1000
    return {"requests": n, "achieved_rps": round(n / elapsed, 1), "errors": errors,
            **({"counted": counted} if count else {}),
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "max_ms": round(float(ms.max()), 2)}


def load(port: int, path: str | Callable[[int], str], headers: dict[str, str], rps: int,
         seconds: float, count: bytes | None = None) -> dict[str, Any]:
    """The client's own garbage collection stays out of the run: a full collection of what this process
    holds (a world it built, say) pauses every request in flight, and would count as the server's latency."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return asyncio.run(_load(port, path, headers, rps, seconds, count))
    finally:
        gc.enable()
        gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    home = tempfile.mkdtemp()
    port = free_port()
    env = {**os.environ, "ZHONGCAO_HOME": home, "ZHONGCAO_ADMIN_TOKEN": TOKEN}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    if args.database_url:
        env["ZHONGCAO_DATABASE_URL"] = args.database_url
    server = subprocess.Popen([sys.executable, "-m", "zhongcao", "serve", "--port", str(port),
                               "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    op = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=base, headers=op) as c:
            for _ in range(300):
                try:
                    c.get("/v1/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            brand = c.post("/v1/accounts", json={"kind": "brand", "name": "bench"}).json()["id"]
            key = c.post(f"/v1/accounts/{brand}/api-keys", json={}).json()["key"]
            c.post(f"/v1/accounts/{brand}/wallet/top-ups", json={"amount_fen": 10**8, "idempotency_key": "b"})
        brand_auth = {"Authorization": f"Bearer {key}"}
        load(port, f"/v1/accounts/{brand}/wallet", brand_auth, args.rps, 5)  # warm up: fills the pool
        baseline = load(port, "/v1/health", {}, args.rps, args.seconds)
        wallet = load(port, f"/v1/accounts/{brand}/wallet", brand_auth, args.rps, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps({
        "database": args.database_url or "sqlite (embedded default)", "target_rps": args.rps, "workers": args.workers,
        "goal": {"get_wallet_p99_ms": 20}, "get_wallet": wallet, "baseline_health": baseline,
        "p99_vs_baseline": round(wallet["p99_ms"] / baseline["p99_ms"], 2),
    }, indent=2))


if __name__ == "__main__":
    main()
