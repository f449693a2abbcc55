import os

import pytest
from django.conf import settings


def pytest_configure(config):
    if os.environ.get("REFILL_REQUIRE_POSTGRES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError("REFILL_REQUIRE_POSTGRES=1 but DATABASE_URL is not a PostgreSQL URL")


@pytest.fixture
def is_postgres() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


@pytest.fixture(autouse=True)
def _sms_outbox():
    from refill.integrations.sms import locmem

    locmem.outbox.clear()
    yield locmem.outbox


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """The shared cache is a database table (settings.CACHES). A test in a rolled-back transaction
    leaves nothing in it; a transactional test's flush does not empty it, so such a test starts
    with it emptied and rate limits never carry over from one test to the next."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if transactional:
        from django.core.cache import cache

        request.getfixturevalue("transactional_db")
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _money_invariants_hold(request):
    """After every database test, the data it left satisfies every money invariant
    (the same checks as `manage.py ledger_check`)."""
    yield
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    ):
        return
    if getattr(request.node, "allow_broken_invariants", False):
        return
    from refill.invariants.checks import run_all

    problems = run_all()
    assert problems == [], "money invariants broken by this test:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language and time zone. A request served in the same thread
    (the test client) leaves its customer's language active, and a test that follows must not read
    its messages in Chinese because of the test before it."""
    from django.utils import timezone, translation

    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
