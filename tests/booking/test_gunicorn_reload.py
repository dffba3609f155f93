"""A gunicorn reload keeps serving: with the project's gunicorn.conf.py the application is
preloaded in the master, so new workers serve at once and a client sees no failed and no
stalled request (new code is deployed with the rolling upgrade the README describes)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PATH = "/static/admin/css/base.css"  # served by the application (WhiteNoise), no database


def free_port() -> int:
    for port in range(8141, 8150):  # this project's benchmark range
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8141-8149")


def get(port: int) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", PATH)
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


def wait_for(predicate, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail("timed out")


def test_the_config_preloads_the_application():
    settings: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)
    assert settings["preload_app"] is True


def test_a_reload_under_load_drops_and_stalls_nothing(tmp_path):
    """HUP replaces every worker; preloaded, the new ones serve at once (was a 5.5 s stall)."""
    port = free_port()
    pidfile = tmp_path / "gunicorn.pid"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--workers", "2",
         "--bind", f"{HOST}:{port}", "--pid", str(pidfile), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    results: list[tuple[int, float]] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            results.append(get(port))

    client = threading.Thread(target=load)
    try:
        wait_for(lambda: get(port)[0] == 200)
        client.start()
        time.sleep(0.5)
        for _ in range(2):
            server.send_signal(signal.SIGHUP)
            time.sleep(1.5)
        stop.set()
        client.join()
        assert len(results) > 10
        assert {status for status, _ in results} == {200}
        assert max(latency for _, latency in results) < 3.0  # the import alone took 5.5 s
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
