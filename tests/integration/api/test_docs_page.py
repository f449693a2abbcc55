"""/api/v1/docs is Swagger UI served from Refill itself: under Refill's Content-Security-Policy
(scripts and styles from 'self' only) and on a machine with no internet, it must load nothing from
another origin, and every asset it names must be there."""

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db

# Every URL an HTML page makes the browser fetch: scripts, stylesheets, icons, images.
ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def test_docs_page_loads_only_same_origin_assets_and_each_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = _assets(html)
    # Swagger UI itself: its script, its init script and its stylesheet, all from our static files.
    assert any(a.endswith(".js") and "swagger-ui-bundle" in a for a in assets), assets
    assert any(a.endswith(".js") and "swagger-ui-init" in a for a in assets), assets
    assert any(a.endswith(".css") and "swagger-ui" in a for a in assets), assets
    for asset in assets:
        parts = urlsplit(asset)
        # Same origin: a path on this server, never a scheme, host or protocol-relative //host.
        assert not parts.scheme and not parts.netloc, f"{asset} is not same-origin"
        assert asset.startswith("/"), asset
        served = client.get(asset)
        assert served.status_code == 200, f"{asset} answered {served.status_code}"
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body, f"{asset} is empty"


def test_docs_page_has_no_inline_script_for_the_csp_to_block(client):
    """Refill's policy has no 'unsafe-inline': a script the page runs must be a file. A JSON data
    block (type="application/json") is not run, so it is allowed."""
    response = client.get("/api/v1/docs")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    for tag, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", response.content.decode(), re.DOTALL | re.I):
        if "src=" in tag:
            continue
        assert 'type="application/json"' in tag, f"inline script: <script{tag}>{body[:80]}"
    # Swagger UI checks specs against validator.swagger.io by default (an image from there):
    # turned off, as the policy would block it and the docs may be read offline.
    assert '"validatorUrl": null' in response.content.decode()
