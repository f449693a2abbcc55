"""The SM-DP+ simulator (tools/smdp_sim.py) in its own process on loopback, for the eSIM tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "tools" / "smdp_sim.py"


class Simulator:
    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self._tmp = tempfile.TemporaryDirectory(prefix="refill-smdp-")
        self.tls = "--tls-cert" in args

    def __enter__(self) -> Simulator:
        ready = Path(self._tmp.name) / "port"
        self._log = open(Path(self._tmp.name) / "sim.log", "wb")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [sys.executable, str(SIM), "--port", "0", "--ready-file", str(ready), *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 20
        while not (ready.exists() and ready.read_text()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("SM-DP+ simulator did not start: " + (Path(self._tmp.name) / "sim.log").read_text())
            time.sleep(0.05)
        self.port = int(ready.read_text())
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._log.close()
        self._tmp.cleanup()

    # The simulator's own endpoints (plain HTTP only).

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def add_profiles(self, *iccids: str, profile_type: str = "consumer") -> None:
        self.post("/sim/profiles", {"profiles": [{"iccid": i, "profileType": profile_type} for i in iccids]})

    def profile(self, iccid: str) -> dict:
        return self.get(f"/sim/profiles/{iccid}")

    def fault(self, function: str, mode: str, **more) -> None:
        self.post("/sim/faults", {"function": function, "mode": mode, **more})

    def calls(self, function: str | None = None) -> list[dict]:
        return [c for c in self.get("/sim/calls") if function is None or c["function"] == function]


@contextmanager
def simulator_for(live_server, settings, *args: str, token: str = "t", **smdp):
    """A simulator calling back into ``live_server``, and Refill's settings pointing at it."""
    with Simulator(*args) as simulator:
        simulator.post(
            "/sim/callback", {"url": live_server.url + "/gsma/rsp2/es2plus/handleDownloadProgressInfo", "token": token}
        )
        settings.REFILL_SMDP = {
            **settings.REFILL_SMDP, "URL": simulator.url, "CALLBACK_TOKEN": token, "RETRIES": 0, **smdp
        }  # fmt: skip
        yield simulator
