"""The API's tests call as real clients do, with Django's CSRF checks enforced: a test that made
its own Django test client (which skips the checks unless told) would let a refused caller pass,
as once every partner POST was refused (403 csrf_failed) while the tests passed."""

import re
from pathlib import Path

from django.test import Client as DjangoClient

from tests.integration.api.clients import Client

HERE = Path(__file__).parent
SKIPPING = re.compile(
    r"^\s*from django\.test import .*\bClient\b|enforce_csrf_checks\s*=\s*False|django\.test\.Client\(", re.M
)


def test_every_api_test_uses_the_enforcing_client():
    offenders = [
        path.name
        for path in sorted(HERE.glob("*.py"))
        if path.name not in ("clients.py", Path(__file__).name) and SKIPPING.search(path.read_text())
    ]
    assert offenders == []


def test_the_client_enforces_csrf(client):
    assert isinstance(client, Client) and Client().handler.enforce_csrf_checks
    assert not DjangoClient().handler.enforce_csrf_checks  # what it is there to change
