"""A throwaway PostgreSQL cluster for tests: initdb into a temp folder, start on a free port with
its socket in that folder, remove everything on stop. Uses the server binaries of `pg_config`."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bindir() -> Path:
    if os.environ.get("REFILL_PG_BINDIR"):
        return Path(os.environ["REFILL_PG_BINDIR"])
    # PostgreSQL 15 is the version the project supports and tests; newer ones are a fallback.
    if (Path("/usr/lib/postgresql/15/bin") / "initdb").exists():
        return Path("/usr/lib/postgresql/15/bin")
    pg_config = shutil.which("pg_config")
    if pg_config:
        path = Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
        if (path / "initdb").exists():
            return path
    for version in ("17", "16", "15"):
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "initdb").exists():
            return path
    raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="refill-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "refill"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            # The server refuses to run as root: run it as the postgres user.
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> str:
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        return f"postgres://{self.user}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
