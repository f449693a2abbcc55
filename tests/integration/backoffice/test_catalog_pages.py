"""Back-office catalog pages: the markets with their plans and prices; a market's settings, a plan
and a new price version, each previewed (what it would do to the lines there are) and then saved
with a reason, without any script; and who may do which."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.catalog.models import Market, Plan, PlanPrice
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    return make_market()


@pytest.fixture
def plan(market):
    return make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")


def staff_in(client, django_user_model, role: str | None = None, *codenames: str):
    user = make_staff(role, f"{role or 'x'}@example.com", permissions=[f"catalog.{codename}" for codename in codenames])
    login(client, user)
    return user


@pytest.fixture
def manager(client, django_user_model):
    return staff_in(client, django_user_model, "catalog")


def market_form(market, **overrides):
    data = {
        "tax_percent": "0",
        "grace_days": market.grace_days,
        "suspend_days": market.suspend_days,
        "reactivation_days": market.reactivation_days,
        "aging_days": market.aging_days,
        "auto_renew_lead_hours": market.auto_renew_lead_hours,
        "reminder_days": "7, 3, 1",
        "quiet_start_hour": market.quiet_start_hour,
        "quiet_end_hour": market.quiet_end_hour,
        "reason": "",
        "action": "preview",
    }
    data.update(overrides)
    return data


def no_inline_script_or_style(html: str) -> bool:
    return not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html


def test_the_catalog_lists_markets_plans_and_prices(client, manager, market, plan):
    page = client.get(reverse("backoffice:catalog"))
    html = page.content.decode()
    assert page.status_code == 200 and no_inline_script_or_style(html)
    assert "United States" in html and "30-Day Plan" in html and "$25.00" in html
    assert reverse("backoffice:catalog_market", args=[market.pk]) in html
    assert reverse("backoffice:catalog_price", args=[plan.pk]) in html
    assert reverse("backoffice:catalog") in client.get(reverse("backoffice:index")).content.decode()


def test_market_preview_shows_what_changes_and_saves_nothing(client, manager, market, plan):
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    renew(line, plan, now=timezone.now() - timedelta(days=33))  # ended three days ago
    from refill.lines.services import lines_lapse_sweep

    lines_lapse_sweep()
    url = reverse("backoffice:catalog_market", args=[market.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'value="7, 3, 1"' in page.content.decode()
    page = client.post(url, market_form(market, grace_days=2, tax_percent="8.25", reminder_days="14, 7"))
    html = page.content.decode()
    assert page.status_code == 200 and no_inline_script_or_style(html)
    assert 'data-testid="preview"' in html
    assert 'data-testid="timer-grace"' in html and "5 days earlier" in html
    assert re.search(r'data-testid="timer-grace">.*?data-testid="due-now">1<', html, re.S)
    assert re.search(r'data-testid="total-after">\$27\.06<', html)  # 25.00 + 8.25 % tax
    assert "(the widest reminder after the change)" in html
    # nothing was saved by a preview, and the typed values stay in the form
    stored = Market.objects.get(pk=market.pk)
    assert (stored.grace_days, stored.tax_rate, stored.reminder_days) == (7, Decimal("0"), [7, 3, 1])
    assert not AuditEvent.objects.filter(action="market.settings_changed").exists()
    assert 'value="14, 7"' in html


def test_market_save_needs_a_reason_then_saves_and_audits(client, manager, market):
    url = reverse("backoffice:catalog_market", args=[market.pk])
    refused = client.post(url, market_form(market, grace_days=10, action="save"))
    assert refused.status_code == 400 and "Give a reason" in refused.content.decode()
    assert Market.objects.get(pk=market.pk).grace_days == 7
    saved = client.post(url, market_form(market, grace_days=10, quiet_start_hour=22, reason="Regulator", action="save"))
    assert saved.status_code == 302 and saved["Location"] == reverse("backoffice:catalog")
    stored = Market.objects.get(pk=market.pk)
    assert (stored.grace_days, stored.quiet_start_hour) == (10, 22)
    event = AuditEvent.objects.get(action="market.settings_changed")
    assert event.actor == manager and event.reason == "Regulator"
    assert event.data == {
        "before": {"grace_days": 7, "quiet_start_hour": 21},
        "after": {"grace_days": 10, "quiet_start_hour": 22},
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aging_days": 30}, "greater than or equal to 45"),
        ({"reminder_days": "7, x"}, "Give whole numbers of days"),
        ({"reminder_days": "90"}, "from 1 to 60"),
        ({"reminder_days": "1, 1"}, "only once"),
    ],
)
def test_market_values_outside_the_rules_are_shown_at_their_field(client, manager, market, overrides, message):
    url = reverse("backoffice:catalog_market", args=[market.pk])
    for action in ("preview", "save"):
        page = client.post(url, market_form(market, reason="x", action=action, **overrides))
        assert page.status_code == 400 and message in page.content.decode()
    assert not AuditEvent.objects.exists()


def test_plan_preview_then_save(client, manager, market, plan):
    customer, _ = make_customer()
    renew(make_line(customer, market, plan), plan)
    url = reverse("backoffice:catalog_plan", args=[plan.pk])
    assert client.get(url).status_code == 200
    data = {
        "name_en": "30-Day Plan",
        "name_zh_hans": plan.name_zh_hans,
        "max_prepaid_periods": 12,
        "data_mb": "",
        "voice_minutes": 500,
        "sms": 100,
        "rollover": "expire",
        "reason": "",
        "action": "preview",
    }
    page = client.post(url, data)
    html = page.content.decode()
    assert page.status_code == 200 and no_inline_script_or_style(html)
    assert re.search(r'data-testid="lines">1<', html) and re.search(r'data-testid="cannot-renew">0<', html)
    assert Plan.objects.get(pk=plan.pk).is_active
    saved = client.post(url, {**data, "reason": "Unlimited data, off sale", "action": "save"})
    assert saved.status_code == 302
    stored = Plan.objects.get(pk=plan.pk)
    assert stored.data_mb is None and not stored.is_active
    assert AuditEvent.objects.get(action="plan.changed").data["after"] == {"is_active": False, "data_mb": None}


def test_price_preview_then_save_in_the_market_time_zone(client, manager, market, plan):
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    renew(line, plan, periods=2)
    url = reverse("backoffice:catalog_price", args=[plan.pk])
    assert client.get(url).status_code == 200
    starts_local = (timezone.now() + timedelta(days=40)).astimezone(market.zone).replace(second=0, microsecond=0)
    data = {"amount": "27.50", "valid_from": starts_local.strftime("%Y-%m-%dT%H:%M"), "reason": "", "action": "preview"}
    page = client.post(url, data)
    html = page.content.decode()
    assert page.status_code == 200 and no_inline_script_or_style(html)
    assert re.search(r'data-testid="paid-ahead">1 ', html)
    assert "$25.00 → $27.50" in html
    assert PlanPrice.objects.filter(plan=plan).count() == 1
    saved = client.post(url, {**data, "reason": "Yearly review", "action": "save"})
    assert saved.status_code == 302
    new = PlanPrice.objects.get(plan=plan, version=2)
    assert new.amount == Decimal("27.50") and new.valid_from == starts_local
    assert PlanPrice.objects.get(plan=plan, version=1).valid_until == starts_local


def test_a_price_in_the_past_is_refused_at_its_field(client, manager, market, plan):
    url = reverse("backoffice:catalog_price", args=[plan.pk])
    yesterday = timezone.localtime(timezone.now() - timedelta(days=1), market.zone)
    page = client.post(
        url, {"amount": "27", "valid_from": yesterday.strftime("%Y-%m-%dT%H:%M"), "reason": "x", "action": "save"}
    )
    assert page.status_code == 400 and "cannot start in the past" in page.content.decode()
    assert PlanPrice.objects.filter(plan=plan).count() == 1


def test_an_empty_start_means_now(client, manager, market, plan):
    url = reverse("backoffice:catalog_price", args=[plan.pk])
    before = timezone.now()
    saved = client.post(url, {"amount": "26", "valid_from": "", "reason": "Now", "action": "save"})
    assert saved.status_code == 302
    assert plan.current_price("USD").version == 2
    assert PlanPrice.objects.get(plan=plan, version=2).valid_from >= before


def test_each_page_asks_for_its_own_permission(client, django_user_model, market, plan):
    staff_in(client, django_user_model, None, "view_market", "change_plan")
    assert client.get(reverse("backoffice:catalog")).status_code == 200
    html = client.get(reverse("backoffice:catalog")).content.decode()
    assert reverse("backoffice:catalog_plan", args=[plan.pk]) in html
    assert reverse("backoffice:catalog_market", args=[market.pk]) not in html
    assert reverse("backoffice:catalog_price", args=[plan.pk]) not in html
    assert client.get(reverse("backoffice:catalog_plan", args=[plan.pk])).status_code == 200
    assert client.get(reverse("backoffice:catalog_market", args=[market.pk])).status_code == 403
    assert client.post(reverse("backoffice:catalog_market", args=[market.pk]), market_form(market)).status_code == 403
    assert client.get(reverse("backoffice:catalog_price", args=[plan.pk])).status_code == 403


@pytest.mark.parametrize("role", ["support", "finance"])
def test_support_and_finance_do_not_see_the_catalog(client, django_user_model, market, plan, role):
    staff_in(client, django_user_model, role)
    assert client.get(reverse("backoffice:catalog")).status_code == 403
    assert reverse("backoffice:catalog") not in client.get(reverse("backoffice:index")).content.decode()
    data = market_form(market, grace_days=1, reason="x", action="save")
    assert client.post(reverse("backoffice:catalog_market", args=[market.pk]), data).status_code == 403
    assert Market.objects.get(pk=market.pk).grace_days == 7


def test_the_catalog_shows_plan_names_in_the_staff_members_language(client, manager, market, plan):
    page = client.get(reverse("backoffice:catalog"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "us-30day 套餐" in page.content.decode()


def test_a_markets_chinese_name_is_saved_and_shown_to_chinese_readers(client, manager, market):
    from django.utils import translation

    url = reverse("backoffice:catalog_market", args=[market.pk])
    with translation.override("zh-hans"):
        assert str(Market.objects.get(pk=market.pk)) == "美国"  # no name of its own yet: CLDR's
    saved = client.post(url, market_form(market, name_zh_hans="美国市场", reason="Chinese name", action="save"))
    assert saved.status_code == 302
    stored = Market.objects.get(pk=market.pk)
    assert stored.name_zh_hans == "美国市场"
    with translation.override("zh-hans"):
        assert str(stored) == "美国市场"
    with translation.override("en"):
        assert str(stored) == "United States"
