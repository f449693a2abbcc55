"""The back office in Chinese shows words, not codes, and writes dates like the rest of it (h13,
after issue 23): the customer page's notification log (kind, channel, status), the eSIM inventory
(profile type, SM-DP+ state) and the batch and API key dates with their zone."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from refill.apikeys.services import apikey_create
from refill.esim.models import Profile, ProfileBatch
from refill.notifications.models import Notification
from tests.factories import esim_batch_iccid, login, make_customer, make_staff
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db
AT = datetime(2026, 12, 7, 6, 24, 5, tzinfo=UTC)


def _admin(language: str) -> Client:
    user = make_staff("admin", f"admin-{language}@example.com")
    client = Client()
    login(client, user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _words(html: str) -> set[str]:
    return set(re.findall(r"[a-z_]+", visible_text(html)))


def test_the_notification_log_shows_kinds_and_states_in_chinese():
    customer, _ = make_customer()
    for rule in ("expired", "autorenew_upcoming", "ticket_reply", "ticket_created", "expiry_7d"):
        Notification.objects.create(
            rule=rule, subject_key=f"k-{rule}", customer=customer, recipient="a@example.com", status="sent", sent_at=AT
        )
    html = _admin("zh-hans").get(f"/backoffice/customers/{customer.pk}/").content.decode()
    section = html[html.index('data-testid="notifications"') :]
    section = section[: section.index("</details>")]
    words = _words(section)
    assert not words & {"expired", "autorenew_upcoming", "ticket_reply", "ticket_created", "expiry_7d", "email"}
    text = visible_text(section)
    assert "Sent" not in text and "已发送" in text
    assert "套餐已到期" in text and "7 天后到期" in text


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_esim_inventory_shows_types_and_states_in_words_and_dates_with_their_zone(language):
    with time_machine.travel(AT, tick=False):
        batch = ProfileBatch.objects.create(file_name="acme.csv", vendor="Acme", imported=3, sha256="d" * 64)
        for n, state in enumerate(("available", "installed", "released"), start=1):
            Profile.objects.create(
                iccid=esim_batch_iccid(7, n), imsi=f"2341500000070{n:02d}", profile_type="consumer", batch=batch,
                smdp_state=state,
            )  # fmt: skip
        apikey_create(name="Partner A", scopes=["renew"], actor=None)
    client = _admin(language)
    html = client.get("/backoffice/esim/inventory/").content.decode()
    stock = html[html.index('data-testid="stock"') :]
    stock = stock[: stock.index("</table>")]
    assert not _words(stock) & {"consumer", "available", "installed", "released"}
    text = visible_text(html)
    keys = visible_text(client.get("/backoffice/api-keys/").content.decode())
    for page in (text, keys):
        assert "12/07/2026" not in page and "2026/12/07" not in page
        if language == "en":
            assert "7 Dec, 6:24 am UTC" in page  # day and month this year, the zone named (issue 26)
        else:
            assert "12月7日 UTC 06:24" in page
