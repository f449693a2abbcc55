"""Catalog settings as staff change them: a market's tax, timers, reminders and quiet hours; a
plan's names, sale, prepay limit and allowances; new price versions. Each change is validated,
saved in one transaction with an audit row (before and after), and previewed first: the previews'
figures are checked against real lines, and against what the sweeps then do."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.backoffice import catalog_previews
from refill.catalog import selectors, services
from refill.catalog.models import Market, Plan, PlanPrice
from refill.domain.lifecycle import LineStatus
from refill.lines.services import lines_lapse_sweep
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.renewals.autorenew import autorenew_update
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # noon in New York


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("catalog@example.com", "x-pass-12345", is_staff=True, role="staff")


@pytest.fixture
def market():
    return make_market()


@pytest.fixture
def plan(market):
    return make_plan(market, "us-30day", price="25.00")


def line_renewed(market, plan, at, *, periods=1, auto_renew=False, cap=None):
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    with time_machine.travel(at, tick=False):
        renew(line, plan, periods=periods)
    if auto_renew:
        autorenew_update(line=line, actor=None, enabled=True, cap_per_renewal=cap)
    line.refresh_from_db()
    return line


def only_audit(action):
    event = AuditEvent.objects.get(action=action)
    return event, event.data["before"], event.data["after"]


# Market settings ---------------------------------------------------------------------------------


def test_market_settings_are_saved_with_an_audit_row(market, staff):
    changed = services.market_settings_update(
        market=market,
        actor=staff,
        reason="New tax law",
        tax_rate=Decimal("0.0825"),
        grace_days=10,
        reminder_days=[1, 14, 5],
        quiet_start_hour=22,
        quiet_end_hour=market.quiet_end_hour,
    )
    assert changed == ["tax_rate", "grace_days", "reminder_days", "quiet_start_hour"]
    stored = Market.objects.get(pk=market.pk)
    assert stored.tax_rate == Decimal("0.0825") and stored.grace_days == 10 and stored.quiet_start_hour == 22
    assert stored.reminder_days == [14, 5, 1]  # widest first
    event, before, after = only_audit("market.settings_changed")
    assert event.actor == staff and event.reason == "New tax law" and event.object_id == str(market.pk)
    assert before == {"tax_rate": "0.0000", "grace_days": 7, "reminder_days": [7, 3, 1], "quiet_start_hour": 21}
    assert after == {"tax_rate": "0.0825", "grace_days": 10, "reminder_days": [14, 5, 1], "quiet_start_hour": 22}


def test_saving_what_is_already_there_changes_nothing_and_records_nothing(market, staff):
    assert services.market_settings_update(market=market, actor=staff, reason="x", grace_days=7) == []
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"aging_days": 44}, "aging_days"),
        ({"reminder_days": [61]}, "reminder_days"),
        ({"reminder_days": [0, 3]}, "reminder_days"),
        ({"reminder_days": [3, 3]}, "reminder_days"),
        ({"reminder_days": [1, 2, 3, 4, 5, 6]}, "reminder_days"),
        ({"reminder_days": []}, "reminder_days"),
        ({"reminder_days": ["7"]}, "reminder_days"),
        ({"quiet_start_hour": 24}, "quiet_start_hour"),
        ({"quiet_end_hour": 25}, "quiet_end_hour"),
        ({"tax_rate": Decimal("-0.01")}, "tax_rate"),
        ({"tax_rate": Decimal("1.5")}, "tax_rate"),
        ({"auto_renew_lead_hours": 0}, "auto_renew_lead_hours"),
    ],
)
def test_market_settings_outside_the_rules_are_refused(market, staff, changes, field):
    with pytest.raises(ValidationError) as refused:
        services.market_settings_update(market=market, actor=staff, reason="try", **changes)
    assert set(refused.value.message_dict) == {field}
    assert Market.objects.get(pk=market.pk).aging_days == 60
    assert not AuditEvent.objects.exists()


def test_a_reason_is_required_and_reported_with_the_other_errors(market, staff):
    with pytest.raises(ValidationError) as refused:
        services.market_settings_update(market=market, actor=staff, reason="  ", aging_days=30)
    assert set(refused.value.message_dict) == {"reason", "aging_days"}


def test_unknown_settings_are_a_programming_error(market, staff):
    with pytest.raises(ValueError, match="currency"):
        services.market_settings_update(market=market, actor=staff, reason="x", currency="EUR")


# Plans -------------------------------------------------------------------------------------------


def test_plan_settings_are_saved_with_an_audit_row(plan, staff):
    changed = services.plan_update(
        plan=plan,
        actor=staff,
        reason="Spring refresh",
        name_en="30-Day Plus",
        data_mb=None,
        max_prepaid_periods=6,
        rollover="once",
        is_active=False,
    )
    assert changed == ["name_en", "is_active", "max_prepaid_periods", "data_mb", "rollover"]
    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.name_en, stored.data_mb, stored.max_prepaid_periods, stored.rollover, stored.is_active) == (
        "30-Day Plus",
        None,
        6,
        "once",
        False,
    )
    _event, before, after = only_audit("plan.changed")
    assert before["data_mb"] == 20480 and after["data_mb"] is None
    assert before["is_active"] is True and after["is_active"] is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_prepaid_periods": 0}, "max_prepaid_periods"),
        ({"rollover": "forever"}, "rollover"),
        ({"name_en": ""}, "name_en"),
    ],
)
def test_plan_settings_outside_the_rules_are_refused(plan, staff, changes, field):
    with pytest.raises(ValidationError) as refused:
        services.plan_update(plan=plan, actor=staff, reason="try", **changes)
    assert set(refused.value.message_dict) == {field}
    assert not AuditEvent.objects.exists()


# Price versions ----------------------------------------------------------------------------------


def test_a_new_price_is_a_new_version_and_the_sold_one_is_only_ended(market, plan, staff):
    # given a price that was sold
    line_renewed(market, plan, T0)
    sold = PlanPrice.objects.get(plan=plan, version=1)
    assert sold.order_items.exists()
    # when a new price is added from a week on
    with time_machine.travel(T0, tick=False):
        starts = T0 + timedelta(days=7)
        price = services.plan_price_add(plan=plan, amount=Decimal("27.50"), valid_from=starts, actor=staff, reason="Up")
    # then it is version 2 from then, and version 1 keeps its amount and ends then
    assert (price.version, price.amount, price.currency, price.valid_from, price.valid_until) == (
        2,
        Decimal("27.50"),
        "USD",
        starts,
        None,
    )
    sold.refresh_from_db()
    assert sold.amount == Decimal("25.00") and sold.valid_until == starts
    assert plan.current_price("USD", starts - timedelta(seconds=1)).version == 1
    assert plan.current_price("USD", starts).version == 2
    _event, before, after = only_audit("plan.price_added")
    assert before == {"v1.valid_until": None}
    assert after == {"v1.valid_until": starts.isoformat(), "v2.amount": "27.50", "v2.valid_from": starts.isoformat()}


def test_a_renewal_after_the_new_price_starts_pays_it(market, plan, staff):
    line = line_renewed(market, plan, T0)
    with time_machine.travel(T0, tick=False):
        services.plan_price_add(plan=plan, amount=Decimal("30.00"), valid_from=T0, actor=staff, reason="Now")
        order = order_create_renewal(customer=line.owner, line=line, plan=plan, periods=1, idempotency_key="after")
    assert order.total == Decimal("30.00")


@pytest.mark.parametrize(
    ("amount", "starts_in", "field"),
    [
        (Decimal("10.00"), timedelta(minutes=-5), "valid_from"),
        (Decimal("10.001"), timedelta(days=1), "amount"),
        (Decimal("-1"), timedelta(days=1), "amount"),
    ],
)
def test_a_price_in_the_past_or_with_too_many_decimals_is_refused(plan, staff, amount, starts_in, field):
    with pytest.raises(ValidationError) as refused:
        services.plan_price_add(
            plan=plan, amount=amount, valid_from=timezone.now() + starts_in, actor=staff, reason="x"
        )
    assert set(refused.value.message_dict) == {field}
    assert plan.prices.count() == 1


def test_a_price_starting_a_minute_ago_is_taken_as_now(plan, staff):
    price = services.plan_price_add(
        plan=plan, amount="26", valid_from=timezone.now() - timedelta(seconds=50), actor=staff, reason="x"
    )
    assert price.version == 2 and plan.current_price("USD").version == 2


def test_a_new_price_must_start_after_a_scheduled_one(plan, staff):
    later = timezone.now() + timedelta(days=30)
    services.plan_price_add(plan=plan, amount="26", valid_from=later, actor=staff, reason="x")
    with pytest.raises(ValidationError) as refused:
        services.plan_price_add(plan=plan, amount="27", valid_from=later - timedelta(days=1), actor=staff, reason="x")
    assert set(refused.value.message_dict) == {"valid_from"}
    # after it: the scheduled one is ended where the newest starts
    third = services.plan_price_add(
        plan=plan, amount="27", valid_from=later + timedelta(days=5), actor=staff, reason="x"
    )
    assert PlanPrice.objects.get(plan=plan, version=2).valid_until == third.valid_from
    assert PlanPrice.objects.get(plan=plan, version=1).valid_until == later


def test_a_yen_price_has_no_decimals(staff):
    japan = make_market("jp", name="Japan", region="JP", currency="JPY", time_zone="Asia/Tokyo")
    plan = make_plan(japan, "jp-30day", price="3000")
    with pytest.raises(ValidationError):
        services.plan_price_add(
            plan=plan, amount="3000.5", valid_from=timezone.now() + timedelta(days=1), actor=staff, reason="x"
        )


# Previews ----------------------------------------------------------------------------------------


def test_price_preview_counts_who_pays_what_and_who_is_paid_ahead(market, plan):
    now = T0 + timedelta(days=15)
    starts = now + timedelta(days=20)
    # auto-renewed after the new price starts (ends at T0+45d, charged a day before)
    line_renewed(market, plan, now, auto_renew=True)
    # auto-renewed before it starts (ends at T0+30d): the old price once more
    line_renewed(market, plan, T0, auto_renew=True)
    # auto-renew with a cap the new price goes over
    line_renewed(market, plan, now, auto_renew=True, cap=Decimal("26.00"))
    # paid three periods: two not yet started keep the price they were paid
    line_renewed(market, plan, now, periods=3)
    # a line on another plan counts for nothing here
    line_renewed(market, make_plan(market, "other"), now, auto_renew=True)
    preview = catalog_previews.price_preview(plan=plan, amount=Decimal("27.00"), valid_from=starts, now=now)
    assert (preview.lines, preview.auto_renew, preview.charged_new, preview.charged_old_once_more) == (4, 3, 2, 1)
    assert preview.over_cap == 1
    assert (preview.paid_ahead_lines, preview.paid_ahead_periods) == (1, 2)
    assert (preview.old.version, preview.old_total, preview.new_total) == (1, Decimal("25.00"), Decimal("27.00"))


def test_price_preview_shows_the_total_with_tax(staff):
    market = make_market("tx", name="Texas", tax_rate=Decimal("0.10"), tax_inclusive=False)
    plan = make_plan(market, "tx-30day", price="20.00")
    preview = catalog_previews.price_preview(plan=plan, amount=Decimal("30.00"), valid_from=timezone.now())
    assert (preview.old_total, preview.new_total) == (Decimal("22.00"), Decimal("33.00"))


def test_timer_preview_matches_what_the_lapse_sweep_then_does(market, plan, staff):
    # given, 40 days after T0: one line three days into grace, one 20 days after its end (suspended)
    in_grace = line_renewed(market, plan, T0 + timedelta(days=7))  # ended 3 days ago
    suspended = line_renewed(market, plan, T0 - timedelta(days=10))  # ended 20 days ago
    now = T0 + timedelta(days=40)
    with time_machine.travel(now, tick=False):
        lines_lapse_sweep()
    in_grace.refresh_from_db()
    suspended.refresh_from_db()
    assert (in_grace.status, suspended.status) == (LineStatus.GRACE, LineStatus.SUSPENDED)
    # when grace is shortened from 7 to 2 days
    proposed, changed = services.market_settings_proposed(market=market, grace_days=2)
    preview = catalog_previews.market_settings_preview(market=market, proposed=proposed, changed=changed, now=now)
    # then both move on 5 days earlier, and the line in grace moves at the next sweep
    shifts = {shift.status: shift for shift in preview.timers}
    assert set(shifts) == {LineStatus.GRACE, LineStatus.SUSPENDED, LineStatus.DEACTIVATED, LineStatus.AGING}
    grace, suspension = shifts[LineStatus.GRACE], shifts[LineStatus.SUSPENDED]
    assert (grace.lines, grace.shift_days, grace.later, grace.by_days, grace.due_now) == (1, -5, False, 5, 1)
    assert (suspension.lines, suspension.shift_days, suspension.due_now) == (1, -5, 0)
    assert (shifts[LineStatus.DEACTIVATED].lines, shifts[LineStatus.AGING].lines) == (0, 0)
    # and the sweep after saving does exactly that
    with time_machine.travel(now, tick=False):
        services.market_settings_update(market=market, actor=staff, reason="Shorter grace", grace_days=2)
        assert lines_lapse_sweep() == 1
    in_grace.refresh_from_db()
    suspended.refresh_from_db()
    assert (in_grace.status, suspended.status) == (LineStatus.SUSPENDED, LineStatus.SUSPENDED)


def test_timer_preview_of_a_longer_suspension(market, plan):
    line_renewed(market, plan, T0 - timedelta(days=10))
    now = T0 + timedelta(days=40)
    with time_machine.travel(now, tick=False):
        lines_lapse_sweep()
    proposed, changed = services.market_settings_proposed(market=market, suspend_days=90)
    preview = catalog_previews.market_settings_preview(market=market, proposed=proposed, changed=changed, now=now)
    # grace is unchanged: only the states after it are listed
    assert [shift.status for shift in preview.timers] == [
        LineStatus.SUSPENDED,
        LineStatus.DEACTIVATED,
        LineStatus.AGING,
    ]
    suspension = preview.timers[0]
    assert (suspension.lines, suspension.later, suspension.by_days, suspension.due_now) == (1, True, 30, 0)


def test_tax_preview_counts_unpaid_orders_which_keep_their_tax(market, plan, staff):
    line = line_renewed(market, plan, timezone.now())
    unpaid = order_create_renewal(customer=line.owner, line=line, plan=plan, periods=1, idempotency_key="unpaid")
    Plan.objects.filter(pk=make_plan(market, "retired", price="9.00").pk).update(is_active=False)
    proposed, changed = services.market_settings_proposed(market=market, tax_rate=Decimal("0.1"))
    preview = catalog_previews.market_settings_preview(market=market, proposed=proposed, changed=changed)
    assert preview.unpaid_orders == 1
    assert [example.plan.code for example in preview.tax_examples] == ["us-30day"]
    example = preview.tax_examples[0]
    assert (example.before.tax.amount, example.before.total.amount) == (Decimal("0.00"), Decimal("25.00"))
    assert (example.after.tax.amount, example.after.total.amount) == (Decimal("2.50"), Decimal("27.50"))
    services.market_settings_update(market=market, actor=staff, reason="Tax", tax_rate=Decimal("0.1"))
    unpaid = Order.objects.get(pk=unpaid.pk)
    assert (unpaid.tax_rate, unpaid.tax, unpaid.total) == (Decimal("0"), Decimal("0"), Decimal("25.00"))


def test_reminder_preview_counts_lines_within_the_widest_window(market, plan):
    now = T0 + timedelta(days=25)
    line_renewed(market, plan, T0)  # ends in 5 days
    line_renewed(market, plan, T0 + timedelta(days=5))  # ends in 10 days
    line_renewed(market, plan, T0 + timedelta(days=20))  # ends in 25 days
    proposed, changed = services.market_settings_proposed(market=market, reminder_days=[14, 7, 1])
    preview = catalog_previews.market_settings_preview(market=market, proposed=proposed, changed=changed, now=now)
    assert preview.reminder_window_days == (7, 14)
    assert preview.reminder_lines == (1, 2)
    assert preview.timers == [] and preview.unpaid_orders is None and preview.sms_waiting is None


def test_plan_preview_of_switching_a_plan_off(market, plan):
    line_renewed(market, plan, timezone.now(), auto_renew=True)
    line_renewed(market, plan, timezone.now(), periods=4)
    proposed, changed = services.plan_settings_proposed(plan=plan, is_active=False, max_prepaid_periods=2)
    preview = catalog_previews.plan_preview(plan=plan, proposed=proposed, changed=changed)
    assert (preview.lines, preview.auto_renew, preview.cannot_renew, preview.retention_fallback) == (2, 1, 1, 0)
    assert preview.beyond_max_prepaid == 1 and preview.paid_ahead_periods is None


def test_markets_overview_shows_the_price_in_force_and_the_next(market, plan, staff):
    starts = timezone.now() + timedelta(days=3)
    services.plan_price_add(plan=plan, amount="29", valid_from=starts, actor=staff, reason="x")
    [(shown, rows)] = selectors.markets_overview()
    assert shown == market
    [row] = rows
    assert (row.plan, row.price.version, row.next_price.version) == (plan, 1, 2)
