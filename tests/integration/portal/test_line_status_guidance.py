"""The customer's line card explains its status in plain words, with the dates that matter (the
ones the lifecycle sweep keeps), and links to the help article about it."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from refill.help.demo import articles_seed
from refill.help.selectors import help_url
from refill.lines.models import Line
from refill.lines.selectors import line_lapse_deadlines
from refill.lines.services import lines_lapse_sweep
from refill.portal.templatetags.refill_format import day
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def lapsed():
    articles_seed()
    market = make_market()
    plan = make_plan(market, "us-30day")
    customer, user = make_customer("lapsed@example.com", language="zh-hans", tz="UTC")
    line = make_line(customer, market, plan)
    return market, user, line


def _card(user) -> str:
    client = Client()
    login(client, user)
    return client.get(reverse("portal:home")).content.decode()


def _set(line, status, period_end):
    Line.objects.filter(pk=line.pk).update(status=status, period_end=period_end)
    line.refresh_from_db()


@pytest.mark.parametrize("status", ["grace", "suspended", "deactivated"])
def test_a_lapsed_line_says_until_when_the_number_is_kept(lapsed, status):
    market, user, line = lapsed
    ended = timezone.now().replace(microsecond=0) - timedelta(
        days={"grace": 2, "suspended": 10, "deactivated": 70}[status]
    )
    _set(line, status, ended)
    deadlines = line_lapse_deadlines(line)
    assert deadlines.released_at == ended + timedelta(
        days=market.grace_days + market.suspend_days + market.reactivation_days
    )
    page = _card(user)
    assert 'data-testid="status-guidance"' in page
    with translation.override("zh-hans"), timezone.override("UTC"):
        released = day(deadlines.released_at)  # a deadline is a day (issue 26)
    assert released in page and "号码" in page
    assert f'href="{help_url("line-status")}" data-testid="status-help"' in page


def test_grace_names_both_dates_in_the_customers_language(lapsed):
    _market, user, line = lapsed
    _set(line, "grace", timezone.now() - timedelta(days=1))
    deadlines = line_lapse_deadlines(line)
    page = _card(user)
    with translation.override("zh-hans"), timezone.override("UTC"):
        dates = day(deadlines.suspended_at), day(deadlines.released_at)
    assert "宽限期" in page and all(date in page for date in dates)


def test_the_dates_shown_are_the_ones_the_lifecycle_keeps(lapsed):
    market, _user, line = lapsed
    ended = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    _set(line, "grace", ended)
    deadlines = line_lapse_deadlines(line)
    steps = [
        ("suspended", deadlines.suspended_at),
        ("deactivated", deadlines.deactivated_at),
        ("aging", deadlines.released_at),
    ]
    for status, at in steps:
        with time_machine.travel(at - timedelta(seconds=1), tick=False):
            lines_lapse_sweep()
        line.refresh_from_db()
        assert line.status != status
        with time_machine.travel(at + timedelta(seconds=1), tick=False):
            lines_lapse_sweep()
        line.refresh_from_db()
        assert line.status == status
    assert line_lapse_deadlines(line) is None  # aging: not the customer's to renew any more


def test_an_active_line_far_from_its_end_has_no_warning(lapsed):
    _market, user, line = lapsed
    _set(line, "active", timezone.now() + timedelta(days=20))
    assert 'data-testid="status-guidance"' not in _card(user)
