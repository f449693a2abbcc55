"""Two demos on one machine (`PORT=… make run` twice, each with its own REFILL_VAR_DIR): every port
a demo opens follows PORT or is picked free, so both serve; and `up` stops every process it
started, whatever ends it: one of its children dying, or SIGTERM."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .test_up import REPO, _alive, _free_port


def _group(pgid: int) -> set[int]:
    """Every live process whose process group is ``pgid`` (a child of `up` and what it started)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _descendants(pid: int) -> set[int]:
    """Every live process started by ``pid``, at any depth."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {p for p in found if _alive(p)}


def _children_by_role(pid: int) -> dict[str, int]:
    """The direct children of `up`, named by what they run."""
    roles = {}
    for child in _descendants(pid):
        try:
            stat = (Path("/proc") / str(child) / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) != pid:
            continue
        text = b" ".join(cmdline).decode()
        for role in ("granian", "scheduler", "db_worker", "smdp_sim"):
            if role in text:
                roles[role] = child
    return roles


def _health(port: int, timeout: float = 90) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                health = json.loads(response.read())
                if health.get("worker") == "ok":
                    return health
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        time.sleep(0.5)
    return None


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait_gone(pids: set[int], timeout: float = 30) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return {p for p in pids if _alive(p)}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated SQLite database, copied into each demo's own var dir."""
    var = tmp_path_factory.mktemp("migrated")
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PORT"}},
        "REFILL_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "refill.config.settings.dev",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=REPO)
    return var / "refill.sqlite3"


def _start(tmp_path: Path, name: str, migrated: Path) -> tuple[subprocess.Popen, int, Path]:
    var = tmp_path / name
    var.mkdir()
    shutil.copy(migrated, var / "refill.sqlite3")
    port = _free_port()
    env = {
        # The demo as `make run` starts it: no REFILL_SMDP_URL, no REFILL_PUBLIC_URL, only PORT.
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REFILL_SMDP_URL", "REFILL_PUBLIC_URL"}
        },
        "REFILL_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "refill.config.settings.dev",
        "PORT": str(port),
    }
    log = var / "up.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "up"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    return process, port, log


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_two_demos_serve_side_by_side_and_each_stops_all_it_started(tmp_path, migrated):
    first, first_port, first_log = _start(tmp_path, "a", migrated)
    second, second_port, second_log = _start(tmp_path, "b", migrated)
    try:
        # given: both demos up, each with its own simulator
        assert _health(first_port) is not None, first_log.read_text()
        assert _health(second_port) is not None, second_log.read_text()
        first_children, second_children = _children_by_role(first.pid), _children_by_role(second.pid)
        assert set(first_children) == set(second_children) == {"granian", "scheduler", "db_worker", "smdp_sim"}
        assert "exited" not in first_log.read_text() + second_log.read_text()
        first_family = _descendants(first.pid)
        assert len(first_family) > 4  # granian runs its worker in a process of its own

        # when: one child of the first demo dies
        os.kill(first_children["db_worker"], signal.SIGKILL)

        # then: every other process the first demo started exits, and `up` with an error
        assert first.wait(timeout=40) == 1
        assert _wait_gone(first_family) == set()
        assert not _serves(first_port)
        assert "stopping the others" in first_log.read_text()
        # and the second demo carries on
        assert _health(second_port, timeout=10) is not None
        assert all(_alive(pid) for pid in second_children.values())

        # when: the second is asked to stop (SIGTERM, as a service manager does)
        second_family = _descendants(second.pid)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=40) == 0
        assert _wait_gone(second_family) == set()
        assert "Refill stopped." in second_log.read_text()
        for pgid in second_children.values():
            assert _group(pgid) == set()
    finally:
        _end(first)
        _end(second)
