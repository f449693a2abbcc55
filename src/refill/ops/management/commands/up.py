"""`refill up`: web, task worker, scheduler (and the demo's SM-DP+ simulator) as one foreground
command. Whatever ends it (Ctrl-C, SIGTERM, or any child exiting), every process it started is
stopped, each child's own children included."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand

# Every login of the README's "Demo logins" table (tests/unit/ops/test_demo_banner.py keeps them equal).
DEMO_LOGINS = [
    ("customer", "demo@example.com", "demo-pass-1234"),
    ("customer (Chinese)", "li.wei@example.com", "demo-pass-1234"),
    ("staff, every permission", "admin@example.com", "admin-pass-1234"),
    ("staff, support", "support@example.com", "staff-pass-1234"),
    ("staff, finance", "finance@example.com", "staff-pass-1234"),
    ("staff, catalog", "catalog@example.com", "staff-pass-1234"),
    ("shop agent", "agent@example.com", "agent-pass-1234"),
    ("fleet administrator", "fleet@example.com", "fleet-pass-1234"),
    ("fleet viewer", "fleet.viewer@example.com", "fleet-pass-1234"),
]


class Command(BaseCommand):
    help = "Run web (granian), task worker (db_worker) and scheduler together."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=1, help="task worker processes")

    def handle(self, *args, port: int, host: str, workers: int, **options):
        manage = [sys.executable, str(settings.REPO_DIR / "manage.py")]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "refill.config.settings.dev"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.SRC_DIR), env.get("PYTHONPATH", "")]))
        url = f"http://{loopback(host)}:{port}"
        # Links in emails and SMS name this Refill: the children build them from REFILL_PUBLIC_URL,
        # which follows the port unless the operator set it (settings/base.py does the same for
        # commands run with PORT, such as demo_seed before `make run` starts this).
        env["REFILL_PUBLIC_URL"] = os.environ.get("REFILL_PUBLIC_URL") or url
        web = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            "2",
            "--no-ws",
            "refill.config.wsgi:application",
        ]
        commands = {"web": web, "scheduler": [*manage, "scheduler"]}
        for index in range(workers):
            commands[f"worker-{index + 1}"] = [
                *manage,
                "db_worker",
                "--no-reload",
                "--interval",
                "0.5",
                "--queue-name",
                "*",
            ]

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        # Before any child starts: a Ctrl-C or SIGTERM while they start stops those already running.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        processes: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            if settings.REFILL_SMDP_SIMULATOR:
                smdp_url = self._start_simulator(processes, env, url, lambda: stopping)
                if smdp_url is None:
                    raise _Stop(0 if stopping else 1)
                # Web and worker call the simulator where it listens (a free port unless set).
                env["REFILL_SMDP_URL"] = smdp_url
            for name, command in commands.items():
                if stopping:
                    raise _Stop(0)
                processes[name] = _spawn(command, env)
            self.stdout.write(self.style.SUCCESS(f"\nRefill is running at {url}  (health: {url}/healthz)"))
            if settings.REFILL_SMDP_SIMULATOR:
                self.stdout.write(f"SM-DP+ simulator: {env['REFILL_SMDP_URL']}")
            if env["REFILL_PUBLIC_URL"] != url:
                self.stdout.write(f"Links in emails and SMS: {env['REFILL_PUBLIC_URL']}")
            if settings.REFILL_DEMO:
                self.stdout.write("Demo logins:")
                for role, email, password in DEMO_LOGINS:
                    self.stdout.write(f"  {role:<24} {email} / {password}")
                self.stdout.write(
                    "Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 9995 is declined (insufficient funds)."
                )
                pins = settings.VAR_DIR / "demo-pins.csv"
                if pins.exists():
                    self.stdout.write(f"Unused demo refill PINs: {pins}")
                self.stdout.write(
                    "Staff and agents' second factor: `manage.py demo_totp` prints the current code."
                )
                self.stdout.write(
                    f"Back office: {url}/backoffice/ (staff)   Shop counter: {url}/agent/ (agent)   "
                    f"Fleet: {url}/fleet/ (fleet)"
                )
            self.stdout.write("Press Ctrl-C to stop.\n")

            while not stopping:
                dead = next((name for name, process in processes.items() if process.poll() is not None), None)
                if dead:
                    self.stderr.write(f"{dead} exited with {processes[dead].returncode}; stopping the others.")
                    exit_code = 1
                    break
                time.sleep(0.3)
        except _Stop as early:
            exit_code = early.code
        finally:
            _stop_all(processes)
            self.stdout.write("Refill stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _start_simulator(self, processes, env, web_url: str, stopping) -> str | None:
        """Start the SM-DP+ simulator and wait until it listens; its URL, or None if it could not
        start (or we were asked to stop meanwhile). It listens on REFILL_SMDP_URL's port when the
        operator set one, else on a free loopback port it picks, so that two demos on one machine
        never want the same port."""
        where = urlsplit(settings.REFILL_SMDP["URL"])
        hostname = where.hostname or "127.0.0.1"
        chosen = os.environ.get("REFILL_SMDP_URL")
        ready = Path(tempfile.mkdtemp(prefix="refill-smdp-")) / "port"
        command = self._simulator(web_url, hostname, (where.port or 8720) if chosen else 0, ready)
        processes["smdp"] = _spawn(command, env)
        deadline = time.monotonic() + 30
        while not (ready.exists() and ready.read_text().strip()):
            if processes["smdp"].poll() is not None:
                self.stderr.write(f"smdp exited with {processes['smdp'].returncode}; stopping.")
                return None
            if stopping():
                return None
            if time.monotonic() > deadline:
                self.stderr.write("The SM-DP+ simulator did not start within 30 seconds; stopping.")
                return None
            time.sleep(0.1)
        port = int(ready.read_text().strip())
        ready.unlink()
        ready.parent.rmdir()
        return f"{where.scheme or 'http'}://{hostname}:{port}"

    @staticmethod
    def _simulator(web_url: str, hostname: str, port: int, ready: Path) -> list[str]:
        """tools/smdp_sim.py on loopback, calling back into this Refill. It creates the profiles
        Refill orders by ICCID (the demo's inventory) on first use."""
        smdp = settings.REFILL_SMDP
        return [
            sys.executable,
            str(settings.REPO_DIR / "tools" / "smdp_sim.py"),
            "--host", hostname,
            "--port", str(port),
            "--ready-file", str(ready),
            "--id", smdp["SMDP_ID"],
            "--address", smdp["ADDRESS"],
            "--requester", smdp["REQUESTER_ID"],
            "--download-limit", str(smdp["DOWNLOAD_LIMIT"]),
            "--accept-unknown",
            "--callback", f"{web_url}/gsma/rsp2/es2plus/handleDownloadProgressInfo",
            "--callback-token", smdp["CALLBACK_TOKEN"],
        ]  # fmt: skip


class _Stop(Exception):
    """Leave before everything has started; ``code`` is the command's exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def loopback(host: str) -> str:
    """Where this machine reaches a server bound to ``host`` (all addresses: its loopback)."""
    return "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host


def _die_with_parent() -> None:
    """In the child before it runs: if `up` itself is killed (even by SIGKILL), the kernel sends
    the child SIGTERM, so no web server or worker outlives the command that started it (Linux)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # noqa: N806 - the kernel's name
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Each child leads its own process group, so that a terminal Ctrl-C reaches `up` first and the
    # child's own children (granian's worker process) are stopped with it.
    return subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal every process of the child's group (the child and what it started). The group id is
    the child's pid (start_new_session); a group with no process left is skipped."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_all(processes: dict[str, subprocess.Popen], grace: float = 15) -> None:
    """SIGTERM to every child's group, up to ``grace`` seconds for them to finish, then SIGKILL to
    whatever is left in those groups (a child that ignored the request, or a grandchild that
    outlived its parent). Returns once every child has exited."""
    for process in processes.values():
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
    for process in processes.values():
        _signal_group(process, signal.SIGKILL)
        process.wait()
