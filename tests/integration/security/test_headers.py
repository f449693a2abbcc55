"""Every page leaves with the protective headers: no framing, no referrer to other sites, no type
sniffing, and a CSP that allows no inline or foreign script (docs/security.md, V14.4)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import login, make_customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["portal:landing", "account_login", "portal:home"])
def test_pages_carry_frame_referrer_sniffing_and_script_protection(name):
    client = Client()
    if name == "portal:home":
        login(client, make_customer("headers@example.com")[1])
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = dict((directive.split(" ", 1) + [""])[:2] for directive in response["Content-Security-Policy"].split("; "))
    assert policy["script-src"].split() == ["'self'"] or all(
        source == "'self'" or source.startswith("'nonce-") for source in policy["script-src"].split()
    )
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


def test_api_answers_carry_the_same_headers():
    response = Client().get("/api/v1/plans")
    assert response.status_code == 401
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_and_account_pages_are_never_cached(client):
    assert "no-store" in client.get("/accounts/login/")["Cache-Control"]
    assert "no-store" not in client.get("/").get("Cache-Control", "")  # the public landing page
    login(client, make_customer()[1])
    for url in ("/", "/lines/", "/wallet/", "/orders/"):
        assert "no-store" in client.get(url)["Cache-Control"], url
