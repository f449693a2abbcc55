"""Back-office reports: renewals and revenue, auto-renew outcomes and declines, lines by status,
upcoming expiries, refill PINs issued against redeemed and promotion cost, each counted on the
market's local days, filtered by days and market, drawn as an SVG chart and exported as CSV."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from refill.backoffice import reports
from refill.renewals.autorenew import autorenew_update
from refill.renewals.models import RenewalAttempt
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import login, make_customer, make_line, make_plan, make_promotion, make_staff, renew

pytestmark = pytest.mark.django_db

DECLINED_CARD = "4000000000000002"
# 2025-06-10 in UTC. New York is UTC−4 that day, Shanghai UTC+8.
LATE_EVENING_NEW_YORK = datetime(2025, 6, 10, 3, 30, tzinfo=UTC)  # 9 June, 23:30 in New York
AFTERNOON = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)  # 10 June in both New York and Shanghai (23:00)
EARLY_MORNING_SHANGHAI = datetime(2025, 6, 10, 17, 0, tzinfo=UTC)  # 11 June, 01:00 in Shanghai
JUNE_9, JUNE_10, JUNE_11, JUNE_12 = date(2025, 6, 9), date(2025, 6, 10), date(2025, 6, 11), date(2025, 6, 12)
_numbers = iter(range(1000, 9999))


@pytest.fixture
def staff(client, django_user_model):
    user = make_staff(email="analyst@example.com", permissions=["backoffice.view_reports"])
    login(client, user)
    return user


@pytest.fixture
def cn_plan(cn):
    return make_plan(cn, "cn-30day", price="100.00")


def us_line(plan):
    customer, _ = make_customer()
    return make_line(customer, plan.market, plan)


def cn_line(plan):
    customer, _ = make_customer(tz="Asia/Shanghai")
    return make_line(customer, plan.market, plan, msisdn=f"+86138001{next(_numbers):05d}")


@pytest.fixture
def sales(us, cn, us_plan, cn_plan):
    """Three paid renewals on three local days, and a declined one:
    - New York, 9 June 23:30: $25.00 less 10 % (code SAVE10);
    - New York, 10 June: $25.00; and a declined card the same afternoon;
    - Shanghai, 11 June 01:00 (still 10 June in UTC): ¥100.00."""
    offer = make_promotion(us, code="SAVE10", name_en="Summer", starts_at=datetime(2025, 1, 1, tzinfo=UTC))
    renew(us_line(us_plan), us_plan, now=LATE_EVENING_NEW_YORK, promotion_code="SAVE10")
    renew(us_line(us_plan), us_plan, now=AFTERNOON)
    declined, _ = renew(us_line(us_plan), us_plan, now=AFTERNOON + timedelta(hours=1), card=DECLINED_CARD)
    assert declined.status != "paid"
    renew(cn_line(cn_plan), cn_plan, now=EARLY_MORNING_SHANGHAI)
    return offer


def figures(rows, *keys):
    return [tuple(row[key] for key in keys) for row in rows]


# Renewals and revenue ---------------------------------------------------------------------------


def test_renewals_and_revenue_per_local_day_and_currency(sales, us, cn):
    keys = ("day", "currency", "renewals", "revenue", "discount")
    assert figures(reports.renewals_revenue(JUNE_9, JUNE_11, us), *keys) == [
        (JUNE_9, "USD", 1, Decimal("22.50"), Decimal("2.50")),
        (JUNE_10, "USD", 1, Decimal("25.00"), Decimal("0")),
    ]
    assert figures(reports.renewals_revenue(JUNE_9, JUNE_11, cn), *keys) == [
        (JUNE_11, "CNY", 1, Decimal("100.00"), Decimal("0")),
    ]
    # All markets: each sale on its own market's day, currencies apart.
    assert figures(reports.renewals_revenue(JUNE_9, JUNE_11, None), *keys) == [
        (JUNE_9, "USD", 1, Decimal("22.50"), Decimal("2.50")),
        (JUNE_10, "USD", 1, Decimal("25.00"), Decimal("0")),
        (JUNE_11, "CNY", 1, Decimal("100.00"), Decimal("0")),
    ]


def test_add_on_passes_are_sales_too(us, us_plan):
    from refill.orders.paying import order_pay_card
    from refill.renewals.addons import order_create_addon
    from tests.factories import card_token, make_plan

    booster = make_plan(us, "us-boost", kind="addon", price="10.00", voice_minutes=0, sms=0)
    line = us_line(us_plan)
    renew(line, us_plan, now=AFTERNOON)
    order = order_create_addon(
        customer=line.owner, line=line, plan=booster, idempotency_key="pass-1", language="en", now=AFTERNOON
    )
    gateway, token = card_token()
    order_pay_card(order=order, token=token, gateway=gateway, now=AFTERNOON)
    keys = ("day", "renewals", "passes", "revenue")
    assert figures(reports.renewals_revenue(JUNE_10, JUNE_10, us), *keys) == [(JUNE_10, 1, 1, Decimal("35.00"))]


def test_renewals_days_end_at_the_markets_midnight(sales, us, cn):
    # Paid at 03:30 UTC on 10 June: still 9 June in New York.
    assert [row["day"] for row in reports.renewals_revenue(JUNE_10, JUNE_10, us)] == [JUNE_10]
    assert reports.renewals_revenue(JUNE_9, JUNE_9, us)[0]["revenue"] == Decimal("22.50")
    # Paid at 17:00 UTC on 10 June: already 11 June in Shanghai.
    assert reports.renewals_revenue(JUNE_10, JUNE_10, cn) == []
    assert len(reports.renewals_revenue(JUNE_11, JUNE_11, cn)) == 1
    assert reports.renewals_revenue(JUNE_12, JUNE_12, None) == []


# Auto-renew -------------------------------------------------------------------------------------


def attempt(line, status, finished_at, reason=""):
    """An attempt as the engine leaves it (the engine itself is tested in tests/integration/renewals)."""
    return RenewalAttempt.objects.create(
        line=line,
        cycle_end=datetime(2025, 6, 13, tzinfo=UTC),
        number=next(_numbers),
        due_at=finished_at or datetime(2025, 6, 12, 15, tzinfo=UTC),
        status=status,
        reason=reason,
        finished_at=finished_at,
    )


@pytest.fixture
def attempts(us_plan, cn_plan):
    new_york, shanghai = us_line(us_plan), cn_line(cn_plan)
    at = datetime(2025, 6, 10, 15, tzinfo=UTC)
    attempt(new_york, "failed", datetime(2025, 6, 10, 3, tzinfo=UTC), "expired_card")  # 9 June in New York
    attempt(new_york, "succeeded", at)
    attempt(new_york, "failed", at + timedelta(hours=1), "insufficient_funds")
    attempt(new_york, "over_cap", at, "cap_per_renewal")
    attempt(new_york, "skipped", at, "not_renewable")
    attempt(new_york, "failed", at + timedelta(days=1), "insufficient_funds")
    attempt(new_york, "failed", at + timedelta(days=1, hours=1), "card_frozen")
    attempt(new_york, "due", None)  # due 12 June
    attempt(shanghai, "succeeded", datetime(2025, 6, 10, 17, tzinfo=UTC))  # 11 June in Shanghai


def test_autorenew_outcomes_per_day_with_success_rate(attempts, us):
    keys = ("day", "succeeded", "failed", "over_cap", "skipped", "pending", "attempts", "success_rate")
    assert figures(reports.autorenew_outcomes(JUNE_10, JUNE_12, us), *keys) == [
        (JUNE_10, 1, 1, 1, 1, 0, 4, Decimal("50.0")),
        (JUNE_11, 0, 2, 0, 0, 0, 2, Decimal("0.0")),
        (JUNE_12, 0, 0, 0, 0, 1, 1, None),
    ]
    # All markets: Shanghai's success counts on its own 11 June.
    assert figures(reports.autorenew_outcomes(JUNE_11, JUNE_11, None), *keys) == [
        (JUNE_11, 1, 2, 0, 0, 0, 3, Decimal("33.3")),
    ]
    # 03:00 UTC on 10 June is 9 June in New York.
    assert figures(reports.autorenew_outcomes(JUNE_9, JUNE_9, us), "day", "failed") == [(JUNE_9, 1)]


def test_autorenew_declines_most_frequent_first(attempts, us, cn):
    assert figures(reports.autorenew_declines(JUNE_10, JUNE_12, us), "reason", "count") == [
        ("insufficient_funds", 2),
        ("card_frozen", 1),
    ]
    assert figures(reports.autorenew_declines(JUNE_9, JUNE_12, None), "reason", "count") == [
        ("insufficient_funds", 2),
        ("card_frozen", 1),
        ("expired_card", 1),
    ]
    assert reports.autorenew_declines(JUNE_9, JUNE_12, cn) == []


# Lines ------------------------------------------------------------------------------------------


def test_lines_by_status_per_market(sales, us, cn):
    keys = ("market", "status", "count")
    # The declined renewal left its line pending; the others are active. Statuses in lifecycle order.
    assert figures(reports.lines_by_status(JUNE_9, JUNE_9, us), *keys) == [("us", "pending", 1), ("us", "active", 2)]
    assert figures(reports.lines_by_status(JUNE_9, JUNE_9, None), *keys) == [
        ("cn", "active", 1),
        ("us", "pending", 1),
        ("us", "active", 2),
    ]


def test_upcoming_expiries_in_7_and_30_days_with_auto_renew(us, cn, cn_plan):
    now = datetime(2025, 6, 10, 12, tzinfo=UTC)
    short, medium, long = (make_plan(us, price="5.00", validity_count=days) for days in (5, 20, 60))
    soon, later, far = us_line(short), us_line(medium), us_line(long)
    for line, plan in ((soon, short), (later, medium), (far, long)):
        renew(line, plan, now=now)
    shanghai = cn_line(cn_plan)
    renew(shanghai, cn_plan, now=now - timedelta(days=25))  # ends in 5 days
    autorenew_update(line=soon, actor=None, enabled=True)
    autorenew_update(line=far, actor=None, enabled=True)
    autorenew_update(line=later, actor=None, enabled=False)
    keys = ("market", "next_7_days", "next_7_days_auto_renew", "next_30_days", "next_30_days_auto_renew")
    assert figures(reports.upcoming_expiries(None, None, us, now=now), *keys) == [("us", 1, 1, 2, 1)]
    assert figures(reports.upcoming_expiries(None, None, None, now=now), *keys) == [
        ("cn", 1, 0, 1, 0),
        ("us", 1, 1, 2, 1),
    ]
    # A week later the 5-day line has ended.
    assert figures(reports.upcoming_expiries(None, None, us, now=now + timedelta(days=7)), *keys) == [
        ("us", 0, 0, 1, 0)
    ]


# Refill PINs ------------------------------------------------------------------------------------


@pytest.fixture
def vouchers(us_plan):
    with time_machine.travel(LATE_EVENING_NEW_YORK, tick=False):
        _, pins = voucher_batch_generate(count=3, face_value="10.00", currency="USD")
    with time_machine.travel(EARLY_MORNING_SHANGHAI, tick=False):
        voucher_batch_generate(count=2, face_value="50.00", currency="CNY")
    line = us_line(us_plan)
    voucher_redeem(pin=pins[0][1], customer=line.owner, now=AFTERNOON)


def test_vouchers_issued_against_redeemed(vouchers, us, cn):
    keys = ("day", "currency", "issued", "issued_value", "redeemed", "redeemed_value")
    assert figures(reports.vouchers_issued_redeemed(JUNE_9, JUNE_11, us), *keys) == [
        (JUNE_9, "USD", 3, Decimal("30.00"), 0, Decimal(0)),
        (JUNE_10, "USD", 0, Decimal(0), 1, Decimal("10.00")),
    ]
    assert figures(reports.vouchers_issued_redeemed(JUNE_9, JUNE_11, cn), *keys) == [
        (JUNE_11, "CNY", 2, Decimal("100.00"), 0, Decimal(0)),
    ]
    # No market: PINs have none, so UTC days.
    assert figures(reports.vouchers_issued_redeemed(JUNE_9, JUNE_11, None), *keys) == [
        (JUNE_10, "CNY", 2, Decimal("100.00"), 0, Decimal(0)),
        (JUNE_10, "USD", 3, Decimal("30.00"), 1, Decimal("10.00")),
    ]
    assert reports.vouchers_issued_redeemed(JUNE_10, JUNE_10, cn) == []


# Promotions -------------------------------------------------------------------------------------


def test_promotion_cost_of_paid_redemptions(sales, us, cn, us_plan):
    # A redemption released by a declined card costs nothing.
    renew(us_line(us_plan), us_plan, now=AFTERNOON, promotion_code="SAVE10", card=DECLINED_CARD)
    keys = ("promotion", "name", "code", "currency", "redemptions", "discount", "cost")
    expected = [(sales.pk, "Summer", "SAVE10", "USD", 1, Decimal("2.50"), Decimal("2.50"))]
    assert figures(reports.promotion_costs(JUNE_9, JUNE_11, us), *keys) == expected
    assert figures(reports.promotion_costs(JUNE_9, JUNE_9, None), *keys) == expected
    # Paid at 23:30 on 9 June in New York.
    assert reports.promotion_costs(JUNE_10, JUNE_11, us) == []
    assert reports.promotion_costs(JUNE_9, JUNE_11, cn) == []


# The page and the CSV files ---------------------------------------------------------------------


def page(client, **filters):
    return client.get(reverse("backoffice:reports"), filters)


def csv_rows(client, name, **filters):
    response = client.get(reverse("backoffice:report_csv", args=[name]), filters)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_page_shows_each_report_with_an_accessible_chart(client, staff, sales, attempts, vouchers, us):
    response = page(client, date_from="2025-06-09", date_to="2025-06-12", market=us.pk)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("renewals", "autorenew", "lines", "expiries", "vouchers", "promotions"):
        assert f'data-testid="report-{name}"' in html
        assert reverse("backoffice:report_csv", args=[name]) + "?date_from=2025-06-09&amp;date_to=2025-06-12" in html
    charts = re.findall(r'<svg class="chart-svg"[^>]*>\s*<title id="([^"]+)">([^<]+)</title>', html)
    assert 'role="img"' in html
    titles = [title for _, title in charts]
    assert "Renewal revenue per day (USD)" in titles
    assert "Auto-renew attempts per day by outcome" in titles
    assert "Why auto-renew attempts failed" in titles
    assert all(f'aria-labelledby="{chart_id}"' in html for chart_id, _ in charts)
    # The content security policy: no inline style, no inline script.
    assert "style=" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    # The tables are the text equivalent.
    renewals = response.context["renewals"]
    assert [(t["currency"], t["renewals"], t["revenue"]) for t in renewals["totals"]] == [("USD", 2, Decimal("47.50"))]
    assert response.context["autorenew"]["totals"]["success_rate"] == Decimal("20.0")
    # A decline is named in words on the page (the CSV keeps the code).
    assert "Not enough money" in html and "$47.50" in html


def test_page_counts_in_the_database_not_row_by_row(client, staff, sales, attempts, vouchers, us, us_plan):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert page(client, date_from="2025-06-09", date_to="2025-06-12").status_code == 200
        return len(captured)

    before = queries()
    for hour in range(3):
        renew(us_line(us_plan), us_plan, now=AFTERNOON + timedelta(hours=hour), promotion_code="SAVE10")
    assert queries() == before


def test_page_defaults_to_the_last_30_days(client, staff, time_machine):
    # A moment before midnight UTC, the clock still: the test and the page agree on "today".
    time_machine.move_to(datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC), tick=False)
    response = page(client)
    assert response.status_code == 200
    today = date(2026, 3, 2)
    assert (response.context["date_from"], response.context["date_to"]) == (today - timedelta(days=29), today)
    assert response.context["market"] is None
    assert f'value="{today.isoformat()}"' in response.content.decode()


def test_page_refuses_backwards_days(client, staff):
    response = page(client, date_from="2025-06-10", date_to="2025-06-01")
    assert response.status_code == 400
    assert "The last day comes before the first." in response.content.decode()
    assert client.get(reverse("backoffice:report_csv", args=["renewals"]), {"date_from": "x"}).status_code == 400


def test_csv_per_report_with_the_same_filters(client, staff, sales, attempts, vouchers, us, cn):
    assert csv_rows(client, "renewals", date_from="2025-06-09", date_to="2025-06-11", market=cn.pk) == [
        ["day", "currency", "renewals", "passes", "revenue", "discount"],
        ["2025-06-11", "CNY", "1", "0", "100.00", "0.00"],
    ]
    assert csv_rows(client, "renewals", date_from="2025-06-09", date_to="2025-06-11")[1:] == [
        ["2025-06-09", "USD", "1", "0", "22.50", "2.50"],
        ["2025-06-10", "USD", "1", "0", "25.00", "0.00"],
        ["2025-06-11", "CNY", "1", "0", "100.00", "0.00"],
    ]
    assert csv_rows(client, "autorenew", date_from="2025-06-12", date_to="2025-06-12", market=us.pk) == [
        ["day", "succeeded", "failed", "over_cap", "skipped", "pending", "attempts", "success_rate"],
        ["2025-06-12", "0", "0", "0", "0", "1", "1", ""],
    ]
    assert csv_rows(client, "declines", date_from="2025-06-09", date_to="2025-06-09", market=us.pk) == [
        ["reason", "count"],
        ["expired_card", "1"],
    ]
    assert csv_rows(client, "lines", market=cn.pk) == [
        ["market", "status", "count"],
        ["cn", "pending", "1"],  # the line with auto-renew attempts, never renewed
        ["cn", "active", "1"],
    ]
    assert csv_rows(client, "expiries", market=us.pk)[0] == [
        "market", "next_7_days", "next_7_days_auto_renew", "next_30_days", "next_30_days_auto_renew"
    ]  # fmt: skip
    assert csv_rows(client, "vouchers", date_from="2025-06-09", date_to="2025-06-09", market=us.pk) == [
        ["day", "currency", "issued", "issued_value", "redeemed", "redeemed_value"],
        ["2025-06-09", "USD", "3", "30.00", "0", "0.00"],
    ]
    response = client.get(
        reverse("backoffice:report_csv", args=["renewals"]), {"date_from": "2025-06-09", "date_to": "2025-06-11"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="report-renewals-2025-06-09-2025-06-11.csv"'
    assert client.get(reverse("backoffice:report_csv", args=["everything"])).status_code == 404


def test_csv_keeps_formulas_as_text(client, staff, us, us_plan):
    make_promotion(us, code="EQ", name_en='=HYPERLINK("http://x")', starts_at=datetime(2025, 1, 1, tzinfo=UTC))
    renew(us_line(us_plan), us_plan, now=AFTERNOON, promotion_code="EQ")
    rows = csv_rows(client, "promotions", date_from="2025-06-10", date_to="2025-06-10", market=us.pk)
    assert rows[0] == ["promotion", "name", "code", "market", "currency", "redemptions", "discount", "cost"]
    assert rows[1][1:] == ['\'=HYPERLINK("http://x")', "EQ", "us", "USD", "1", "2.50", "2.50"]


def test_reports_need_the_permission(client, django_user_model, us):
    user = make_staff(email="support@example.com")
    login(client, user)
    assert page(client).status_code == 403
    assert client.get(reverse("backoffice:report_csv", args=["renewals"])).status_code == 403
    assert "backoffice:reports" not in client.get(reverse("backoffice:index")).content.decode()
    assert reverse("backoffice:reports") not in client.get(reverse("backoffice:index")).content.decode()


def test_back_office_home_links_to_the_reports(client, staff):
    assert reverse("backoffice:reports") in client.get(reverse("backoffice:index")).content.decode()
