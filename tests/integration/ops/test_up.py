"""`manage.py up` (what `make run` ends with): web, worker and scheduler come up together on
SQLite with demo data, /healthz turns 200, and Ctrl-C stops all of them."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _free_ports(count: int) -> list[int]:
    """``count`` different free ports: every socket is held open until all are chosen, so the
    kernel cannot hand the same just-freed port out twice (it did once: the web server and the
    SM-DP+ simulator were given one port, and the demo could not start)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _free_port() -> int:
    return _free_ports(1)[0]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_serves_demo_and_stops_on_ctrl_c(tmp_path):
    web_port, smdp_port = _free_ports(2)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}},
        "REFILL_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "refill.config.settings.dev",
        "PORT": str(web_port),
        "REFILL_SMDP_URL": f"http://127.0.0.1:{smdp_port}",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=REPO)
    first = subprocess.run([*manage, "demo_seed"], env=env, check=True, cwd=REPO, capture_output=True, text=True)
    second = subprocess.run([*manage, "demo_seed"], env=env, check=True, cwd=REPO, capture_output=True, text=True)
    assert "loaded" in first.stdout and "already present" in second.stdout

    log = open(tmp_path / "up.log", "w")
    process = subprocess.Popen([*manage, "up"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{env['PORT']}/healthz"
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    health = json.loads(response.read())
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert health == {"status": "ok", "web": "ok", "database": "ok", "worker": "ok"}, (
            tmp_path / "up.log"
        ).read_text()
        children = _children(process.pid)
        assert len(children) >= 4  # web, scheduler, worker, SM-DP+ simulator
        with urllib.request.urlopen(env["REFILL_SMDP_URL"] + "/sim/health", timeout=5) as response:
            assert json.loads(response.read()) == {"status": "ok"}
        output = (tmp_path / "up.log").read_text()
        assert "demo@example.com / demo-pass-1234" in output and "http://127.0.0.1:" in output
        assert "demo-pins.csv" in output and "/backoffice/" in output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("refill up did not stop on Ctrl-C")
        log.close()
    assert process.returncode == 0
    assert not any(_alive(pid) for pid in children)
    assert "Refill stopped." in (tmp_path / "up.log").read_text()
