"""HTTP load: the application under granian (WSGI), wrk in a separate process, loopback only.

Server setup (pinned, the same for Pesä and every baseline): granian, WSGI interface,
2 worker processes (= the machine's cores), 1 blocking thread each (one request at a time
per process, like a sync worker), keep-alive on, bound to 127.0.0.1 on a free port.
`PESA_BENCH_SERVER=gunicorn` runs gunicorn sync workers × 2 instead (the first runs' setup,
which closes every connection). wrk: 2 threads,
8 connections, a fixed duration; a Lua script rotates over a list of request paths and
gives each request one of 50,000 client addresses in X-Forwarded-For (bench.settings
trusts one proxy), so the per-IP throttle stays on the measured path without refusing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import ROOT, django_env

WORKERS = 2
WORKER_CLASS = "sync"
BLOCKING_THREADS = 1
WRK_THREADS = 2
WRK_CONNECTIONS = 8
SERVER = os.environ.get("PESA_BENCH_SERVER", "granian")
if SERVER == "gunicorn":
    SERVER_SETUP = f"gunicorn {WORKER_CLASS} workers × {WORKERS}, no preload"
else:
    SERVER_SETUP = (
        f"granian WSGI, {WORKERS} workers × {BLOCKING_THREADS} blocking thread, keep-alive"
    )
SERVER_DESCRIPTION = (
    f"{SERVER_SETUP}, on 127.0.0.1; wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} on the same 2 cores"
)

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local counter = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  threads[#threads + 1] = thread
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  local n = counter % 50000
  local ip = "10." .. math.floor(n / 250) % 250 .. "." .. n % 250 .. ".7"
  return wrk.format("GET", path, {["X-Forwarded-For"] = ip})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def ensure_wrk(log: Any = print) -> bool:
    """wrk from the distribution (Debian package `wrk`) when missing and we may install."""
    if wrk_available():
        return True
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        log("wrk is missing: installing the Debian package (apt-get install -y wrk) …")
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            check=False,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    return wrk_available()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _command(app: str, port: int) -> list[str]:
    if SERVER == "gunicorn":
        return [
            sys.executable, "-m", "gunicorn", app,
            "--workers", str(WORKERS),
            "--worker-class", WORKER_CLASS,
            "--bind", f"127.0.0.1:{port}",
            "--timeout", "120",
            "--graceful-timeout", "5",
            "--log-level", "warning",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "granian", app,
        "--interface", "wsgi",
        "--workers", str(WORKERS),
        "--blocking-threads", str(BLOCKING_THREADS),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--no-ws",
        "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip


@contextmanager
def server(app: str, *, env: dict[str, str] | None = None, probe: str = "/bench/hello"):
    """A fresh application server (fresh workers) serving `app`; stopped on exit."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        _command(app, port),
        cwd=ROOT,
        env={**django_env(), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, port)
    try:
        _wait_ready(server, probe, log.name)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        os.unlink(log.name)


def _wait_ready(server: Server, probe: str, log_path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{Path(log_path).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base + probe, timeout=5):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer within 60 s")


def get(server: Server, path: str, *, client_ip: str = "10.250.0.1") -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310
        server.base + path, headers={"X-Forwarded-For": client_ip}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def prime(server: Server, paths: list[str]) -> int:
    """Requests every path once, so a following "warm" run measures cache hits, not misses."""
    # One client address per path, as wrk spreads its load: the throttle must not refuse it.
    return sum(
        1
        for n, path in enumerate(paths)
        if get(server, path, client_ip=f"10.252.{n // 250 % 250}.{n % 250}")[0] == 200
    )


def probe(server: Server, paths: list[str]) -> dict[str, Any]:
    """Status of the first paths: is the endpoint there, and does it answer 200 JSON?"""
    statuses = []
    detail = ""
    for path in paths[:3]:
        status, body = get(server, path)
        statuses.append(status)
        if status != 200 and not detail:
            detail = body[:300].decode(errors="replace")
    return {"statuses": statuses, "ok": all(s == 200 for s in statuses), "detail": detail}


def wrk(server: Server, paths: list[str], *, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = Path(folder) / "rotate.lua"
        script.write_text(LUA)
        path_file = Path(folder) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n")
        command = [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{WRK_CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            server.base,
        ]
        completed = subprocess.run(
            command,
            env={**os.environ, "BENCH_PATHS": str(path_file)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    for line in completed.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            result = json.loads(line[len("BENCHJSON ") :])
            duration = result["duration_us"] / 1e6
            errors = sum(
                result[k]
                for k in ("connect_errors", "read_errors", "write_errors", "status_errors")
            )
            result.update(
                rps=result["requests"] / duration if duration else 0.0,
                p50_ms=result["p50_us"] / 1000,
                p95_ms=result["p95_us"] / 1000,
                p99_ms=result["p99_us"] / 1000,
                error_share=errors / result["requests"] if result["requests"] else 1.0,
                paths=len(paths),
            )
            return result
    raise RuntimeError(f"wrk gave no result: {completed.stdout[-500:]} {completed.stderr[-500:]}")
