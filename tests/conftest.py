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
