"""The API's tests call as real clients do: with Django's CSRF checks enforced (clients.py)."""

import pytest

from tests.integration.api.clients import Client


@pytest.fixture
def client() -> Client:
    """pytest-django's ``client``, enforcing CSRF: a signed-in session sends its token as a browser
    page does, a partner or app sends none."""
    return Client()
