"""The API's interactive docs (/api/v1/docs) in Chromium: Swagger UI renders the operations list
under Refill's own Content-Security-Policy, with nothing fetched from another origin (the docs are
read on machines with no internet) and no console error (a CSP violation would show as one)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from refill.api.v1 import api

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_operations_under_the_csp(live_server, desktop_page, shot):
    page, base = desktop_page, live_server.url
    origin = urlsplit(base).netloc
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    response = page.goto(f"{base}/api/v1/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    operations = page.locator("#swagger-ui .opblock")
    expect(operations.first).to_be_visible()
    # Every operation of the API is listed (Swagger UI draws one block per path and method).
    schema = api.get_openapi_schema()
    expected = sum(1 for methods in schema["paths"].values() for method in methods if method != "parameters")
    expect(operations).to_have_count(expected)
    # An operation opens (Swagger UI's own script runs, not only its first render).
    operations.first.locator(".opblock-summary").click()
    expect(operations.first.locator(".opblock-body")).to_be_visible()
    shot(page, "api-docs-en-1-operations")
    elsewhere = [url for url in requests if urlsplit(url).netloc != origin]
    assert elsewhere == [], elsewhere
    assert page.console_errors == [], page.console_errors
