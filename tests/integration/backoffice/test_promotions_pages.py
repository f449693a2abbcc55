"""Back-office promotions: list by market and state, create and edit (the window in the market's
time zone), pause and resume, and each promotion's redemptions with their totals and CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.backoffice.forms import WINDOW_FORMAT
from refill.orders.checkout import order_create_renewal
from refill.promotions import staff as services
from refill.promotions.models import Promotion, Redemption
from tests.factories import login, make_customer, make_line, make_plan, make_staff, renew

pytestmark = pytest.mark.django_db

DECLINED_CARD = "4000000000000002"
LOCKED = "This can no longer be changed: the promotion has redemptions."


@pytest.fixture
def staff(client, django_user_model):
    user = make_staff(
        email="marketing@example.com",
        permissions=["promotions.view_promotion", "promotions.add_promotion", "promotions.change_promotion"],
    )
    login(client, user)
    return user


@pytest.fixture
def us_addon(us):
    return make_plan(us, "us-data-pass", kind="addon", price="5.00")


def promotion(market, **fields) -> Promotion:
    values = dict(market=market, name_en="Half off", name_zh_hans="半价", kind="percent_off", percent=Decimal(50),
                  starts_at=timezone.now() - timedelta(days=1))  # fmt: skip
    return Promotion.objects.create(**{**values, **fields})


def form_data(market, **overrides) -> dict:
    """What the create form sends; an override of None leaves the field out (an unticked box)."""
    data = {
        "market": market.pk,
        "name_en": "Spring offer",
        "name_zh_hans": "春季优惠",
        "code": "",
        "kind": "percent_off",
        "priority": "100",
        "exclusive": "on",
        "percent": "10",
        "amount": "",
        "bonus_data_mb": "",
        "bonus_voice_minutes": "",
        "bonus_sms": "",
        "buy_periods": "",
        "free_periods": "",
        "addon_plan": "",
        "starts_at": "2026-03-01T00:00",
        "ends_at": "2026-04-01T00:00",
        "min_periods": "1",
        "segments": "",
        "limit_total": "",
        "limit_per_customer": "",
        "limit_per_line": "",
        "budget": "",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def as_browser_sends(form, **overrides) -> dict:
    """The edit form as a browser submits it: its current values, without the disabled fields."""
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        if isinstance(bound.field.widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        elif isinstance(value, datetime):
            data[bound.html_name] = value.strftime(WINDOW_FORMAT)
        else:
            data[bound.html_name] = "" if value is None else str(value)
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def redeem(market, plan, code: str, *, pay: bool = True, card: str = "4242424242424242"):
    """An order through the real renewal flow with ``code``: paid (redeemed), declined (released) or
    left awaiting payment (held)."""
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    if pay:
        order, _ = renew(line, plan, promotion_code=code, card=card)
        return order
    return order_create_renewal(
        customer=customer, line=line, plan=plan, periods=1, idempotency_key=f"held-{line.pk}", promotion_code=code
    )


def errors_of(response) -> dict:
    return response.context["form"].errors


# Who may do what ---------------------------------------------------------------------------------


def test_customers_are_sent_to_the_staff_login(client, us):
    offer = promotion(us)
    _, user = make_customer()
    login(client, user)
    for url in (
        reverse("backoffice:promotions"),
        reverse("backoffice:promotion_create"),
        reverse("backoffice:promotion_detail", args=[offer.pk]),
        reverse("backoffice:promotion_edit", args=[offer.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url
    response = client.post(reverse("backoffice:promotion_pause", args=[offer.pk]))
    assert response.status_code == 302 and "/admin/login/" in response.url
    offer.refresh_from_db()
    assert not offer.paused


def test_staff_without_promotion_permissions_are_refused(client, django_user_model, us):
    offer = promotion(us)
    clerk = make_staff(email="finance@example.com")
    login(client, clerk)
    assert client.get(reverse("backoffice:promotions")).status_code == 403
    assert client.get(reverse("backoffice:promotion_detail", args=[offer.pk])).status_code == 403
    assert client.get(reverse("backoffice:promotion_detail", args=[offer.pk]), {"format": "csv"}).status_code == 403
    assert client.post(reverse("backoffice:promotion_create"), form_data(us)).status_code == 403
    assert client.post(reverse("backoffice:promotion_pause", args=[offer.pk])).status_code == 403
    assert Promotion.objects.count() == 1 and not AuditEvent.objects.exists()


def test_viewers_see_promotions_but_cannot_change_them(client, django_user_model, us):
    offer = promotion(us)
    viewer = make_staff(email="viewer@example.com", permissions=["promotions.view_promotion"])
    login(client, viewer)
    listing = client.get(reverse("backoffice:promotions"))
    assert listing.status_code == 200 and 'data-testid="new-promotion"' not in listing.content.decode()
    detail = client.get(reverse("backoffice:promotion_detail", args=[offer.pk]))
    assert detail.status_code == 200
    assert 'data-testid="pause"' not in detail.content.decode() and 'data-testid="edit"' not in detail.content.decode()
    assert client.get(reverse("backoffice:promotion_create")).status_code == 403
    assert client.get(reverse("backoffice:promotion_edit", args=[offer.pk])).status_code == 403
    assert client.post(reverse("backoffice:promotion_pause", args=[offer.pk])).status_code == 403
    assert client.post(reverse("backoffice:promotion_resume", args=[offer.pk])).status_code == 403
    offer.refresh_from_db()
    assert not offer.paused and not AuditEvent.objects.exists()


def test_pause_needs_a_post_with_the_csrf_token(staff, us):
    offer = promotion(us)
    browser = Client(enforce_csrf_checks=True)
    login(browser, staff)
    assert browser.get(reverse("backoffice:promotion_pause", args=[offer.pk])).status_code == 405
    assert browser.post(reverse("backoffice:promotion_pause", args=[offer.pk])).status_code == 403
    offer.refresh_from_db()
    assert not offer.paused


def test_the_back_office_index_links_to_promotions(client, staff):
    assert reverse("backoffice:promotions") in client.get(reverse("backoffice:index")).content.decode()


# Creating ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "gives", "stored"),
    [
        ("percent_off", {"percent": "15"}, {"percent": Decimal(15)}),
        ("first_order", {"percent": "100"}, {"percent": Decimal(100)}),
        ("amount_off", {"amount": "5.00", "percent": "30"}, {"amount": Decimal(5), "percent": Decimal(0)}),
        ("bonus_allowance", {"bonus_data_mb": "1024", "bonus_sms": "50"}, {"bonus_data_mb": 1024, "bonus_sms": 50}),
        ("extra_periods", {"buy_periods": "2", "free_periods": "1"}, {"buy_periods": 2, "free_periods": 1}),
        ("free_addon", {}, {}),
    ],
)
def test_create_a_promotion_of_each_kind(client, staff, us, us_plan, us_addon, kind, gives, stored):
    if kind == "free_addon":
        gives, stored = {"addon_plan": us_addon.pk}, {"addon_plan": us_addon}
    data = form_data(us, kind=kind, code=" spring 26 ", plans=[us_plan.pk], channels=["web", "app"],
                     segments="Student,  business , student", limit_total="100", budget="500",
                     **{"percent": "", **gives})  # fmt: skip
    response = client.post(reverse("backoffice:promotion_create"), data)
    created = Promotion.objects.get()
    assert response.status_code == 302 and response.url == reverse("backoffice:promotion_detail", args=[created.pk])
    assert created.kind == kind and created.code == "SPRING26" and created.market == us
    for name, value in stored.items():
        assert getattr(created, name) == value, name
    assert list(created.plans.all()) == [us_plan]
    assert created.channels == ["web", "app"] and created.segments == ["student", "business"]
    assert (created.limit_total, created.budget, created.redeemed, created.spent) == (100, Decimal(500), 0, 0)
    event = AuditEvent.objects.get(action="promotion.created")
    assert event.actor == staff and event.object_id == str(created.pk)
    assert event.data["after"]["kind"] == kind and event.data["after"]["plans"] == [us_plan.pk]
    page = client.get(response.url).content.decode()
    assert "Spring offer" in page and "SPRING26" in page


def test_an_automatic_promotion_has_no_code(client, staff, us):
    assert client.post(reverse("backoffice:promotion_create"), form_data(us, code="  ")).status_code == 302
    assert Promotion.objects.get().code == ""
    assert "automatic" in client.get(reverse("backoffice:promotions")).content.decode()


def test_the_window_is_typed_in_the_markets_time_zone(client, staff, us, cn):
    # given: midnight in Shanghai (UTC+8) and 9:00 in New York in summer (UTC-4)
    client.post(reverse("backoffice:promotion_create"), form_data(cn, name_en="Shanghai", ends_at=""))
    client.post(
        reverse("backoffice:promotion_create"),
        form_data(us, name_en="New York", starts_at="2026-07-01T09:00", ends_at="2026-07-31T23:59"),
    )
    # then: stored in UTC
    shanghai, new_york = Promotion.objects.get(name_en="Shanghai"), Promotion.objects.get(name_en="New York")
    assert shanghai.starts_at == datetime(2026, 2, 28, 16, 0, tzinfo=UTC) and shanghai.ends_at is None
    assert new_york.starts_at == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert new_york.ends_at == datetime(2026, 8, 1, 3, 59, tzinfo=UTC)
    # and shown again in the market's time zone, whatever the server's
    edit = client.get(reverse("backoffice:promotion_edit", args=[shanghai.pk])).content.decode()
    assert 'value="2026-03-01T00:00"' in edit and "Asia/Shanghai" in edit
    detail = client.get(reverse("backoffice:promotion_detail", args=[new_york.pk])).content.decode()
    assert "1 Jul" in detail and "9:00 am Eastern time" in detail  # the zone as people say it (issue 26)
    listing = client.get(reverse("backoffice:promotions")).content.decode()
    assert "1 Mar 2026, 12:00 am Beijing time" in listing


def test_a_time_that_does_not_exist_in_the_market_is_refused(client, staff, us):
    # 2:30 on 8 March 2026 is skipped in New York (clocks go forward at 2:00).
    response = client.post(reverse("backoffice:promotion_create"), form_data(us, starts_at="2026-03-08T02:30"))
    assert response.status_code == 400 and "America/New_York" in errors_of(response)["starts_at"][0]
    assert not Promotion.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": "percent_off", "percent": "0"}, "percent", "Enter a percentage above 0 and at most 100."),
        ({"kind": "percent_off", "percent": ""}, "percent", "Enter a percentage above 0 and at most 100."),
        ({"kind": "first_order", "percent": "100.5"}, "percent", "Ensure this value is less than or equal to 100."),
        ({"kind": "amount_off", "amount": "0"}, "amount", "Enter an amount above 0."),
        ({"kind": "bonus_allowance"}, "bonus_data_mb", "Give at least one bonus: data, voice minutes or SMS."),
        (
            {"kind": "extra_periods", "buy_periods": "0", "free_periods": "1"},
            "buy_periods",
            "Enter how many periods are paid for, at least 1.",
        ),
        (
            {"kind": "extra_periods", "buy_periods": "3"},
            "free_periods",
            "Enter how many periods are free, at least 1.",
        ),
        ({"kind": "free_addon"}, "addon_plan", "Choose the add-on to give."),
        ({"ends_at": "2026-03-01T00:00"}, "ends_at", "The end must be after the start."),
        ({"ends_at": "2026-02-01T00:00"}, "ends_at", "The end must be after the start."),
        ({"starts_at": ""}, "starts_at", "This field is required."),
        ({"limit_total": "0"}, "limit_total", "Ensure this value is greater than or equal to 1."),
        ({"budget": "-1"}, "budget", "Ensure this value is greater than or equal to 0."),
        ({"code": "X" * 33}, "code", "A code has at most 32 letters and digits."),
    ],
)
def test_invalid_promotions_are_refused(client, staff, us, overrides, field, message):
    response = client.post(reverse("backoffice:promotion_create"), form_data(us, **overrides))
    assert response.status_code == 400
    assert errors_of(response)[field] == [message]
    assert message in response.content.decode()
    assert not Promotion.objects.exists() and not AuditEvent.objects.exists()


def test_a_code_is_unique_per_market(client, staff, us, cn):
    promotion(us, code="SPRING")
    response = client.post(reverse("backoffice:promotion_create"), form_data(us, code=" spr ing "))
    assert response.status_code == 400
    assert errors_of(response)["code"] == ["Another promotion in this market already has this code."]
    # The same code in another market is another promotion.
    assert client.post(reverse("backoffice:promotion_create"), form_data(cn, code="spring")).status_code == 302
    assert Promotion.objects.filter(code="SPRING").count() == 2


def test_the_add_on_and_the_plans_must_be_the_markets(client, staff, us, cn, us_plan):
    cn_addon = make_plan(cn, "cn-data-pass", kind="addon", price="30.00")
    cn_plan = make_plan(cn, "cn-30day", price="100.00")
    response = client.post(
        reverse("backoffice:promotion_create"),
        form_data(us, kind="free_addon", addon_plan=cn_addon.pk, plans=[us_plan.pk, cn_plan.pk]),
    )
    assert response.status_code == 400
    assert errors_of(response)["addon_plan"] == ["Choose an add-on of the promotion's market."]
    assert errors_of(response)["plans"] == ["Choose plans of the promotion's market only."]
    # A base plan is not an add-on to give.
    response = client.post(
        reverse("backoffice:promotion_create"), form_data(us, kind="free_addon", addon_plan=us_plan.pk)
    )
    assert response.status_code == 400 and "addon_plan" in errors_of(response)
    assert not Promotion.objects.exists()


# Pausing -----------------------------------------------------------------------------------------


def test_pause_and_resume_are_audited(client, staff, us):
    offer = promotion(us)
    response = client.post(reverse("backoffice:promotion_pause", args=[offer.pk]), follow=True)
    assert "The promotion is paused" in response.content.decode()
    offer.refresh_from_db()
    assert offer.paused
    assert 'data-testid="resume"' in response.content.decode()
    # Pausing a paused promotion changes nothing and records nothing.
    client.post(reverse("backoffice:promotion_pause", args=[offer.pk]))
    paused = AuditEvent.objects.get(action="promotion.paused")
    assert paused.actor == staff and paused.object_id == str(offer.pk)
    assert paused.data == {"before": {"paused": False}, "after": {"paused": True}}
    client.post(reverse("backoffice:promotion_resume", args=[offer.pk]))
    offer.refresh_from_db()
    assert not offer.paused
    resumed = AuditEvent.objects.get(action="promotion.resumed")
    assert resumed.data == {"before": {"paused": True}, "after": {"paused": False}}


# Editing -----------------------------------------------------------------------------------------


def test_edit_a_promotion_without_redemptions(client, staff, us, us_plan):
    offer = promotion(us, code="HALF", limit_total=10)
    url = reverse("backoffice:promotion_edit", args=[offer.pk])
    form = client.get(url).context["form"]
    data = as_browser_sends(form, kind="amount_off", amount="3.00", code="half2", plans=[us_plan.pk], limit_total="")
    assert client.post(url, data).status_code == 302
    offer.refresh_from_db()
    assert (offer.kind, offer.amount, offer.percent, offer.code, offer.limit_total) == (
        "amount_off",
        Decimal(3),
        Decimal(0),
        "HALF2",
        None,
    )
    event = AuditEvent.objects.get(action="promotion.changed")
    assert event.data["before"] == {"kind": "percent_off", "percent": "50.000", "amount": "0.0000", "code": "HALF",
                                    "limit_total": 10, "plans": []}  # fmt: skip
    assert event.data["after"] == {"kind": "amount_off", "percent": "0", "amount": "3.00", "code": "HALF2",
                                   "limit_total": None, "plans": [us_plan.pk]}  # fmt: skip
    # Saving it again unchanged records nothing.
    response = client.post(url, as_browser_sends(client.get(url).context["form"]), follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert AuditEvent.objects.filter(action="promotion.changed").count() == 1


def test_a_redeemed_promotion_keeps_what_it_gives(client, staff, us, us_plan):
    # given: a code redeemed by one paid order and held by one awaiting payment ($12.50 each)
    offer = promotion(us, code="HALF", limit_total=5, budget=Decimal(100))
    redeem(us, us_plan, "HALF")
    redeem(us, us_plan, "HALF", pay=False)
    offer.refresh_from_db()
    assert (offer.redeemed, offer.spent) == (2, Decimal("25.00"))
    url = reverse("backoffice:promotion_edit", args=[offer.pk])
    page = client.get(url)
    form = page.context["form"]
    assert all(form.fields[name].disabled for name in services.PROMOTION_GIVES)
    assert 'data-testid="locked-note"' in page.content.decode()
    assert 'name="percent" value="50.000"' in page.content.decode() and "disabled" in page.content.decode()
    # when: a stale or hand-made form tries to change what it gives
    for name, value in {"percent": "40", "kind": "amount_off", "code": "OTHER", "market": "999"}.items():
        response = client.post(url, as_browser_sends(form, **{name: value}))
        assert response.status_code == 400, name
        assert LOCKED in errors_of(response)[name]
    # or takes the limit or the budget below what is used
    response = client.post(url, as_browser_sends(form, limit_total="1", budget="24.99"))
    assert response.status_code == 400
    assert errors_of(response)["limit_total"] == ["The limit cannot be below the number already redeemed (2)."]
    assert errors_of(response)["budget"] == ["The budget cannot be below what has already been spent ($25.00)."]
    # then: nothing changed
    offer.refresh_from_db()
    assert (offer.kind, offer.percent, offer.code, offer.limit_total, offer.budget) == (
        "percent_off",
        Decimal(50),
        "HALF",
        5,
        Decimal(100),
    )
    assert not AuditEvent.objects.filter(action="promotion.changed").exists()
    # when: the window, names, limits and budget change within bounds (the same percent resent is fine)
    data = as_browser_sends(form, percent="50", name_en="Half off, extended", ends_at="2030-01-01T00:00",
                            limit_total="2", budget="25", channels=["shop"])  # fmt: skip
    assert client.post(url, data).status_code == 302
    offer.refresh_from_db()
    assert offer.name_en == "Half off, extended" and offer.channels == ["shop"]
    assert offer.ends_at == datetime(2030, 1, 1, 5, 0, tzinfo=UTC)
    assert (offer.limit_total, offer.budget, offer.redeemed, offer.spent) == (2, Decimal(25), 2, Decimal(25))
    event = AuditEvent.objects.get(action="promotion.changed")
    assert set(event.data["before"]) == {"name_en", "ends_at", "limit_total", "budget", "channels"}
    assert event.data["after"]["limit_total"] == 2 and event.data["before"]["limit_total"] == 5


def test_an_edit_never_overwrites_redemptions_held_meanwhile(staff, us, us_plan):
    # given: staff opened the promotion before a customer redeemed it
    offer = promotion(us, code="HALF")
    stale = Promotion.objects.get(pk=offer.pk)
    redeem(us, us_plan, "HALF")
    # when: their edit is saved
    changed = services.promotion_update(
        promotion=stale, values={"name_en": "Renamed", "limit_total": 3}, plans=[], actor=staff
    )
    # then: the redemption is still counted
    offer.refresh_from_db()
    assert changed == ["name_en", "limit_total"]
    assert (offer.name_en, offer.redeemed, offer.spent) == ("Renamed", 1, Decimal("12.50"))
    # and what it gives is checked against the row as it is now, not as the form saw it
    with pytest.raises(ValidationError) as refused:
        services.promotion_update(promotion=stale, values={"percent": Decimal(10)}, plans=[], actor=staff)
    assert refused.value.message_dict == {"percent": [LOCKED]}
    with pytest.raises(ValidationError) as refused:
        services.promotion_update(promotion=stale, values={"limit_total": 0}, plans=[], actor=staff)
    assert "limit_total" in refused.value.message_dict


# Listing -----------------------------------------------------------------------------------------


def test_filter_promotions_by_market_and_state(client, staff, us, cn):
    now = timezone.now()
    running = promotion(us, name_en="running")
    promotion(us, name_en="scheduled", starts_at=now + timedelta(days=2))
    promotion(us, name_en="paused", paused=True)
    promotion(us, name_en="ended", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1))
    promotion(cn, name_en="running in China")

    def names(**query) -> set[str]:
        response = client.get(reverse("backoffice:promotions"), query)
        assert response.status_code == 200
        return {offer.name_en for offer in response.context["promotions"]}

    assert names() == {"running", "scheduled", "paused", "ended", "running in China"}
    assert names(state="running") == {"running", "running in China"}
    assert names(state="running", market=us.pk) == {"running"}
    assert names(state="scheduled") == {"scheduled"}
    assert names(state="paused") == {"paused"}
    assert names(state="ended") == {"ended"}
    assert names(market=cn.pk) == {"running in China"}
    assert names(state="bogus", market="x") == names()
    page = client.get(reverse("backoffice:promotions"), {"state": "running", "market": us.pk}).content.decode()
    assert f'data-testid="promotion-{running.pk}"' in page and "Running" in page


def test_names_are_shown_in_the_staff_members_language(client, staff, us):
    promotion(us, name_en="Half off", name_zh_hans="半价")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("backoffice:promotions")).content.decode()
    assert "半价" in page and "Half off" not in page


# Redemptions -------------------------------------------------------------------------------------


@pytest.fixture
def redeemed_three_ways(us, us_plan):
    """A code (half off a $25.00 plan) redeemed by a paid order, held by one awaiting payment and
    released by one whose card was declined."""
    offer = promotion(us, code="HALF")
    paid = redeem(us, us_plan, "HALF")
    held = redeem(us, us_plan, "HALF", pay=False)
    released = redeem(us, us_plan, "HALF", card=DECLINED_CARD)
    statuses = dict(Redemption.objects.values_list("order_id", "status"))
    assert statuses == {paid.pk: "redeemed", held.pk: "held", released.pk: "released"}
    return offer, paid, held, released


def test_detail_totals_per_status(client, staff, redeemed_three_ways):
    offer, paid, held, released = redeemed_three_ways
    response = client.get(reverse("backoffice:promotion_detail", args=[offer.pk]))
    totals = response.context["totals"]
    assert [(row["status"], row["count"], row["cost"]) for row in totals["statuses"]] == [
        ("held", 1, Decimal("12.50")),
        ("redeemed", 1, Decimal("12.50")),
        ("released", 1, Decimal("12.50")),
    ]
    assert (totals["count"], totals["cost"]) == (3, Decimal("37.50"))
    page = response.content.decode()
    assert "$37.50" in page and paid.line.msisdn[-4:] in page
    assert f'data-testid="redemption-{released.redemptions.get().pk}"' in page
    # The list's cost counts the paid redemption only; redeemed and spent count the held one too.
    listing = client.get(reverse("backoffice:promotions")).content.decode()
    assert '<td class="num" data-testid="paid-cost">$12.50</td>' in listing
    assert "2 / " in listing and "$25.00 / " in listing


def test_redemptions_are_paginated(client, staff, redeemed_three_ways, monkeypatch):
    from refill.backoffice import views

    offer = redeemed_three_ways[0]
    monkeypatch.setattr(views, "REDEMPTIONS_PER_PAGE", 2)
    url = reverse("backoffice:promotion_detail", args=[offer.pk])
    first, second = client.get(url), client.get(url, {"page": 2})
    assert len(first.context["page"]) == 2 and len(second.context["page"]) == 1
    assert "Page 1 of 2" in first.content.decode()
    assert {r.pk for r in first.context["page"]} | {r.pk for r in second.context["page"]} == set(
        Redemption.objects.values_list("pk", flat=True)
    )
    assert first.context["totals"]["count"] == 3  # totals are the whole promotion's


def test_redemptions_csv(client, staff, redeemed_three_ways):
    offer, paid, held, released = redeemed_three_ways
    response = client.get(reverse("backoffice:promotion_detail", args=[offer.pk]), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "no-store"
    assert f"promotion-{offer.pk}-redemptions.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(int(row["order"]), row["status"]) for row in rows} == {
        (paid.pk, "redeemed"),
        (held.pk, "held"),
        (released.pk, "released"),
    }
    by_status = {row["status"]: row for row in rows}
    assert by_status["redeemed"]["msisdn"] == paid.line.msisdn
    assert by_status["redeemed"]["customer"] == str(paid.customer_id)
    assert Decimal(by_status["redeemed"]["cost"]) == Decimal("12.50") and by_status["redeemed"]["currency"] == "USD"
    assert by_status["redeemed"]["settled_at"] and not by_status["held"]["settled_at"]
    assert sum(Decimal(row["cost"]) for row in rows) == Decimal("37.50")


def test_a_customer_name_cannot_become_a_spreadsheet_formula(client, staff, us, us_plan):
    offer = promotion(us, code="HALF")
    order = redeem(us, us_plan, "HALF")
    order.customer.display_name = '=HYPERLINK("http://evil.example")'
    order.customer.save(update_fields=["display_name"])
    response = client.get(reverse("backoffice:promotion_detail", args=[offer.pk]), {"format": "csv"})
    row = next(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["customer_name"].startswith("'=")
