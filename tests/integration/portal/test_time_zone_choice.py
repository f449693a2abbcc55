"""The Settings page's time-zone choice names zones as people say them, in the reader's language
("Eastern time (New York)", "北美东部时间（纽约）"), not as IANA keys ("America/New_York"); the
stored value stays the key (new-user trial)."""

import re

import pytest
from django.urls import reverse

from tests.factories import login, make_customer

pytestmark = pytest.mark.django_db


def _options(client, language) -> dict[str, str]:
    client.cookies["django_language"] = language
    page = client.get(reverse("portal:preferences")).content.decode()
    select = re.search(r'<select name="time_zone".*?</select>', page, re.S).group(0)
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select))


@pytest.mark.parametrize(
    ("language", "new_york", "shanghai"),
    [
        ("en", "Eastern time (New York)", "Beijing time (Shanghai)"),
        ("zh-hans", "北美东部时间（纽约）", "北京时间（上海）"),
    ],
)
def test_time_zones_are_named_as_people_say_them(client, language, new_york, shanghai):
    customer, user = make_customer(language=language)
    login(client, user)
    options = _options(client, language)
    assert options["America/New_York"] == new_york
    assert options["Asia/Shanghai"] == shanghai
    assert not any("/" in label or "_" in label for label in options.values())
    response = client.post(
        reverse("portal:preferences"),
        {"display_name": "Ann", "preferred_language": language, "time_zone": "Asia/Shanghai", "notify_email": "on"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.time_zone == "Asia/Shanghai"
