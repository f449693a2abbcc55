"""Lighthouse scores of the customer pages, measured on a demo of their own.

Starts the demo as `make run` does (`migrate`, `demo_seed`, `collectstatic`, `up`) with its own
REFILL_VAR_DIR and static folder in a temp folder and a free PORT; logs in as the demo customer with
a plain HTTP client (the session cookie goes to Lighthouse with --extra-headers) and runs Lighthouse
(tools/node: `npm ci --prefix tools/node`) with Debian chromium, mobile preset (Lighthouse's default
form factor and throttling), categories performance, accessibility and best practices, page by page,
in each language. Prints a table, every accessibility / best-practices audit that failed, and, last,
one JSON line with the scores. Everything it started (the demo's processes, each Chromium) is
stopped at the end, pass or fail.

    .venv/bin/python bench/lighthouse.py                       # every page, English and Chinese
    .venv/bin/python bench/lighthouse.py --pages landing,login --languages en
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIGHTHOUSE = REPO / "tools" / "node" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices")
# Categories held at 100: a failed audit in them is listed (performance is measured, not held).
HELD = ("accessibility", "best-practices")
DEMO_CUSTOMER = ("demo@example.com", "demo-pass-1234")

# name -> (path, needs the customer's login); "{line}" is the demo customer's first line.
PAGES = {
    "landing": ("/", False),
    "login": ("/accounts/login/", False),
    "signup": ("/accounts/signup/", False),
    "lines": ("/lines/", True),
    "renew": ("/lines/{line}/renew/", True),
    "wallet": ("/wallet/", True),
    "help": ("/help/", False),
    "refill": ("/refill/", False),  # Refill any number: the number
    "refill-to": ("/refill/to/+12025550143/", False),  # its plans and ways to pay (a demo number)
}
LANGUAGES = ("en", "zh-hans")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Demo:
    """The demo on a free port, in a temp folder of its own; ``stop`` ends every process of it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "refill.config.settings.dev",
            "REFILL_VAR_DIR": str(workdir / "var"),
            "REFILL_STATIC_ROOT": str(workdir / "static"),
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        # The demo's own SQLite file, never an operator's database named in the environment.
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REFILL_SMDP_URL", None)  # `up` then starts its simulator on a free port
        self.output = open(workdir / "demo.log", "w")  # noqa: SIM115 - closed in stop()
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, str(REPO / "manage.py"), *args],
            env=self.env,
            cwd=REPO,
            check=True,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            timeout=900,
        )
        log(f"  manage.py {args[0]}: {time.monotonic() - started:.1f} s")

    def start(self, timeout: float = 120) -> None:
        self.manage("migrate", "--noinput")
        self.manage("demo_seed")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        # Its own session: `up` and everything it starts can be signalled as one group.
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "up", "--port", str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo exited with {self.process.returncode} (see {self.output.name})")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the demo did not answer /healthz within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # `up` stops its children (each in its own group) on SIGTERM; SIGKILL after a grace.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output.close()


class Session:
    """A browser-like HTTP client: cookies kept, CSRF token sent with each form."""

    def __init__(self, base: str, language: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.language = language
        host = urllib.parse.urlsplit(base).hostname
        # The language switcher's cookie, as a visitor who chose the language has it.
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0, "refill_language", language, None, False, host, False, False, "/", True,
                False, None, False, None, None, {},
            )
        )  # fmt: skip

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as answer:
            return answer.read().decode()

    def post(self, path: str, data: dict[str, str], referer_path: str) -> str:
        csrf = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": csrf}).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + referer_path}, method="POST"
        )
        with self.opener.open(request, timeout=60) as answer:
            return answer.read().decode()

    def log_in(self, email: str, password: str) -> None:
        self.get("/accounts/login/")
        self.post("/accounts/login/", {"login": email, "password": password}, "/accounts/login/")
        if not self.cookie("sessionid"):
            raise RuntimeError(f"could not log in as {email}")
        # The customer's language is kept on the account: set it as a customer would.
        self.post("/language/", {"language": self.language, "next": "/lines/"}, "/lines/")

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def lighthouse(url: str, headers: dict[str, str], workdir: Path, timeout: float) -> dict:
    """One Lighthouse run; the JSON report. Chromium is started by Lighthouse (detached, in its
    own process group): a marker switch on its command line finds it afterwards, so a run cut by
    the timeout leaves no browser behind."""
    marker = f"--refill-lighthouse={uuid.uuid4().hex}"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("Debian chromium is required (scripts/bootstrap.sh test installs it)")
    report = workdir / f"report-{uuid.uuid4().hex}.json"
    command = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-path={chromium}",
        f"--chrome-flags=--headless=new --no-sandbox {marker}",
        f"--extra-headers={json.dumps(headers)}",
    ]
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(f"Lighthouse took more than {timeout:.0f} s on {url}") from None
    finally:
        _kill_marked(marker)
    if process.returncode != 0 or not report.exists():
        raise RuntimeError(f"Lighthouse failed on {url} ({process.returncode}): {errors[-2000:]}")
    data = json.loads(report.read_text())
    report.unlink()
    if data.get("runtimeError"):
        raise RuntimeError(f"Lighthouse on {url}: {data['runtimeError']}")
    return data


def _kill_marked(marker: str) -> None:
    """SIGKILL the process groups of the Chromium we started (its command line has ``marker``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in cmdline:
            pid = int(entry.name)
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def scores_of(report: dict) -> dict[str, int | None]:
    scores = {}
    for category in CATEGORIES:
        score = report["categories"][category]["score"]
        scores[category] = None if score is None else round(score * 100)
    return scores


# The metrics the performance score is made of (Lighthouse's simulated mobile throttling).
METRICS = {
    "first-contentful-paint": "fcp_ms",
    "largest-contentful-paint": "lcp_ms",
    "total-blocking-time": "tbt_ms",
    "cumulative-layout-shift": "cls",
    "speed-index": "si_ms",
}


def metrics_of(report: dict) -> dict[str, float]:
    values = {}
    for audit, name in METRICS.items():
        value = report["audits"][audit].get("numericValue")
        values[name] = None if value is None else round(value, 3 if name == "cls" else None)
    return values


def failed_audits(report: dict) -> dict[str, list[dict[str, str]]]:
    """Audits below full marks in the held categories: id and title, as Lighthouse names them."""
    failed = {}
    for category in HELD:
        items = []
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if audit.get("scoreDisplayMode") in {"binary", "numeric"} and (audit.get("score") or 0) < 1:
                # The elements it names (a few), as Lighthouse shows them: what to fix where.
                nodes = [
                    item["node"].get("snippet", "")
                    for item in (audit.get("details") or {}).get("items", [])
                    if isinstance(item.get("node"), dict)
                ]
                items.append({"id": ref["id"], "title": audit["title"], "elements": nodes[:3]})
        if items:
            failed[category] = items
    return failed


def first_line_id(session: Session) -> str:
    html = session.get("/lines/")
    match = re.search(r'href="/lines/(\d+)/renew/"', html)
    if match is None:
        raise RuntimeError("the demo customer's My lines page has no renew link")
    return match.group(1)


# Lighthouse's own transient failures: its message says "Please run Lighthouse again" (a trace
# recorded without a navigation start on a busy machine, NO_NAVSTART, and its kin).
RETRIES = 3


def lighthouse_retrying(url: str, headers: dict, workdir: Path, timeout: float) -> dict:
    """``lighthouse``, run again (up to RETRIES times) when Lighthouse itself asks for that."""
    for attempt in range(1, RETRIES + 1):
        try:
            return lighthouse(url, headers, workdir, timeout)
        except RuntimeError as error:
            if "run Lighthouse again" not in str(error) or attempt == RETRIES:
                raise
            log(f"  Lighthouse asked to be run again ({str(error)[-80:].strip()}); attempt {attempt + 1}")
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, of: {', '.join(PAGES)}")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help="comma-separated: en, zh-hans")
    parser.add_argument("--timeout", type=float, default=180, help="seconds for each Lighthouse run")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    languages = [lang for lang in args.languages.split(",") if lang]
    unknown = [p for p in pages if p not in PAGES] + [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    if not LIGHTHOUSE.exists():
        parser.error(f"{LIGHTHOUSE} is missing: run `npm ci --prefix tools/node`")

    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="refill-lighthouse-") as temp:
        workdir = Path(temp)
        demo = Demo(workdir)
        try:
            log(f"Starting the demo on {demo.url} ...")
            demo.start()
            for language in languages:
                session = Session(demo.url, language)
                needs_login = any(PAGES[p][1] for p in pages)
                line = None
                if needs_login:
                    session.log_in(*DEMO_CUSTOMER)
                    line = first_line_id(session) if "renew" in pages else None
                for page in pages:
                    path, login = PAGES[page]
                    path = path.format(line=line)
                    cookie = session.cookie_header() if login else f"refill_language={language}"
                    headers = {"Cookie": cookie, "Accept-Language": language}
                    log(f"Lighthouse: {language} {page} ({path}) ...")
                    run_started = time.monotonic()
                    report = lighthouse_retrying(demo.url + path, headers, workdir, args.timeout)
                    final = urllib.parse.urlsplit(report.get("finalDisplayedUrl") or report["finalUrl"]).path
                    if final != path:
                        raise RuntimeError(f"{page}: Lighthouse ended on {final}, not {path} (login lost?)")
                    results.append(
                        {
                            "page": page,
                            "language": language,
                            "path": path,
                            **scores_of(report),
                            "metrics": metrics_of(report),
                            "failed": failed_audits(report),
                            "seconds": round(time.monotonic() - run_started, 1),
                        }
                    )
        finally:
            demo.stop()

    scores = f"{'perf':>5} {'a11y':>5} {'best':>5}"
    print(f"{'page':<10} {'lang':<8} {scores}  {'FCP':>6} {'LCP':>6} {'TBT':>5} {'CLS':>6}  path")
    for r in results:
        cells = " ".join(f"{'-' if r[c] is None else r[c]:>5}" for c in CATEGORIES)
        m = r["metrics"]
        timings = f"{m['fcp_ms']:>6} {m['lcp_ms']:>6} {m['tbt_ms']:>5} {m['cls']:>6}"
        print(f"{r['page']:<10} {r['language']:<8} {cells}  {timings}  {r['path']}")
    below = [r for r in results if r["failed"]]
    for r in below:
        for category, audits in r["failed"].items():
            listed = ", ".join(f"{a['id']} ({a['title']})" for a in audits)
            print(f"below 100: {r['page']} {r['language']} {category} {r[category]}: {listed}")
            for audit in audits:
                for element in audit["elements"]:
                    print(f"    {audit['id']}: {element}")
    if not below:
        print("accessibility and best practices: 100 on every page measured")
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "lighthouse": json.loads((LIGHTHOUSE.parents[1] / "package.json").read_text())["version"],
        "load_average": os.getloadavg()[0],
        "seconds": round(time.monotonic() - started, 1),
        "pages": results,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
