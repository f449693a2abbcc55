"""`refill up`: web, task worker and scheduler as one foreground command; Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

DEMO_LOGINS = [
    ("customer", "demo@example.com", "demo-pass-1234"),
    ("staff", "admin@example.com", "admin-pass-1234"),
    ("shop agent", "agent@example.com", "agent-pass-1234"),
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
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.SRC_DIR), env.get("PYTHONPATH", "")]))
        commands = {"web": web, "scheduler": [*manage, "scheduler"]}
        if settings.REFILL_SMDP_SIMULATOR:
            commands["smdp"] = self._simulator(f"http://{host}:{port}")
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
        processes: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            # Own process group per child so a terminal Ctrl-C reaches us first and we stop them in order.
            processes[name] = subprocess.Popen(command, env=env, start_new_session=True)
        url = f"http://{host}:{port}"
        self.stdout.write(self.style.SUCCESS(f"\nRefill is running at {url}  (health: {url}/healthz)"))
        if settings.REFILL_DEMO:
            self.stdout.write("Demo logins:")
            for role, email, password in DEMO_LOGINS:
                self.stdout.write(f"  {role:<10} {email} / {password}")
            self.stdout.write(
                "Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 9995 is declined (insufficient funds)."
            )
            pins = settings.VAR_DIR / "demo-pins.csv"
            if pins.exists():
                self.stdout.write(f"Unused demo refill PINs: {pins}")
            self.stdout.write(f"Back office: {url}/backoffice/ (staff)   Shop counter: {url}/agent/ (agent)")
        self.stdout.write("Press Ctrl-C to stop.\n")

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with {process.returncode}; stopping the others.")
                    exit_code = 1
                    stopping = True
                    break
            time.sleep(0.3)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Refill stopped.")
        if exit_code:
            sys.exit(exit_code)

    @staticmethod
    def _simulator(web_url: str) -> list[str]:
        """tools/smdp_sim.py on REFILL_SMDP's loopback port, calling back into this Refill. It
        creates the profiles Refill orders by ICCID (the demo's inventory) on first use."""
        from urllib.parse import urlsplit

        smdp = settings.REFILL_SMDP
        where = urlsplit(smdp["URL"])
        return [
            sys.executable,
            str(settings.REPO_DIR / "tools" / "smdp_sim.py"),
            "--host", where.hostname or "127.0.0.1",
            "--port", str(where.port or 8720),
            "--id", smdp["SMDP_ID"],
            "--address", smdp["ADDRESS"],
            "--requester", smdp["REQUESTER_ID"],
            "--download-limit", str(smdp["DOWNLOAD_LIMIT"]),
            "--accept-unknown",
            "--callback", f"{web_url}/gsma/rsp2/es2plus/handleDownloadProgressInfo",
            "--callback-token", smdp["CALLBACK_TOKEN"],
        ]  # fmt: skip
