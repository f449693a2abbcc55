"""Production settings refuse to start insecurely: each insecure environment is tried in a fresh
process (settings are read once, at import), and a sound one passes Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
GOOD = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "REFILL_PAYMENT_GATEWAY": "stripe"}


def _environment(**overrides: str) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "REFILL_", "DATABASE_URL", "PYTEST", "SESSION_", "CSRF_"))
    }
    return {**inherited, "PYTHONPATH": str(REPO / "src"), **GOOD, **overrides}


def _import_production(**overrides: str) -> subprocess.CompletedProcess:
    code = (
        "import refill.config.settings.production as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=_environment(**overrides), capture_output=True, text=True, cwd=REPO
    )


def test_a_sound_environment_starts_with_https_only_cookies_hsts_and_frame_protection():
    result = _import_production()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "31536000", "True", "DENY", "same-origin"]


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG is on"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG is on"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "refill-insecure-demo-key-change-me"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": secrets.token_urlsafe(20)}, "DJANGO_SECRET_KEY"),  # too short
        ({"DJANGO_SECRET_KEY": "ab" * 40}, "DJANGO_SECRET_KEY"),  # long but hardly random
        ({"DJANGO_ALLOWED_HOSTS": "refill.example,*"}, "DJANGO_ALLOWED_HOSTS contains '*'"),
        ({"REFILL_PAYMENT_GATEWAY": "sandbox"}, "REFILL_PAYMENT_GATEWAY"),
    ],
)
def test_an_insecure_environment_is_refused(overrides, complaint):
    result = _import_production(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and complaint in result.stderr, result.stderr[-800:]


def test_every_problem_is_named_at_once():
    result = _import_production(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="", REFILL_PAYMENT_GATEWAY="sandbox")
    assert result.returncode != 0
    for complaint in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "REFILL_PAYMENT_GATEWAY"):
        assert complaint in result.stderr


def test_environment_variables_named_like_cookie_settings_change_nothing():
    # Nothing reads cookie security from the environment; a stray variable cannot turn it off.
    result = _import_production(SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="False", DJANGO_SESSION_COOKIE_SECURE="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:3] == ["True", "True"]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SESSION_COOKIE_SECURE", False),
        ("CSRF_COOKIE_SECURE", False),
        ("SESSION_COOKIE_HTTPONLY", False),
        ("SESSION_COOKIE_SAMESITE", None),
        ("CSRF_COOKIE_SAMESITE", "None"),
        ("SECURE_HSTS_SECONDS", 0),
        ("X_FRAME_OPTIONS", "SAMEORIGIN"),
    ],
)
def test_a_cookie_or_header_weakened_in_the_settings_is_refused(setting, value):
    # The same check production.py runs on its own values, given one weakened setting.
    code = (
        "import refill.config.settings.production as s; "
        f"print(s.insecure_settings({{**vars(s), {setting!r}: {value!r}}}))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=_environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert setting in result.stdout


def test_a_sound_environment_passes_djangos_deployment_checks(tmp_path):
    # The only warning left is HSTS preload, which is the domain owner's choice (docs/security.md).
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_environment(
            DJANGO_SETTINGS_MODULE="refill.config.settings.production",
            REFILL_EMAIL="smtp",
            REFILL_VAR_DIR=str(tmp_path),
            DJANGO_ALLOWED_HOSTS="refill.example",
        ),
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    issues = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("?: (")]
    assert [issue.split(")")[0] for issue in issues] == ["?: (security.W021"], result.stderr[-1500:]


def test_the_dev_settings_still_start_for_make_run():
    result = subprocess.run(
        [sys.executable, "-c", "import refill.config.settings.dev as s; print(s.DEBUG, s.REFILL_DEMO)"],
        env=_environment(DJANGO_SECRET_KEY="", REFILL_PAYMENT_GATEWAY=""),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
