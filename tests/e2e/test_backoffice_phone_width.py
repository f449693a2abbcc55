"""The back office's eSIM inventory and customer page fit a 390 px phone in both languages (h13,
after issue 23): tables scroll inside their own card, the low-stock "Warn at" field keeps a usable
width beside its Save button, and the page itself never scrolls sideways."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.utils import timezone

from refill.customers.models import User
from refill.esim.models import Profile, ProfileBatch
from refill.notifications.models import Notification
from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import esim_batch_iccid, make_30day_plan, make_customer, make_line, make_market, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "admin-pass-2026-x"


def _fits(page) -> None:
    # A mobile browser widens its layout viewport to fit a page that is too wide (innerWidth grows
    # with it), so the page is held to the phone's 390 px as well as to innerWidth.
    wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= inner and wide <= 390 and inner <= 390, (
        f"page is {wide} px wide on a 390 px phone (innerWidth {inner})"
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_inventory_and_customer_page_fit_a_phone(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    plan = make_30day_plan(market)
    customer, _ = make_customer(f"wide-{language}@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550192")
    renew(line, plan)
    for rule in ("expired", "autorenew_upcoming", "ticket_reply", "ticket_created"):
        Notification.objects.create(
            rule=rule, subject_key=f"k-{rule}", customer=customer, recipient=customer.email_address(),
            status="sent", sent_at=timezone.now(), subject="Your plan ends in 7 days: renew to keep your number",
        )  # fmt: skip
    batch = ProfileBatch.objects.create(
        file_name="acme-consumer-profiles-2026-12-batch-0042.csv", vendor="Acme Wireless Ltd", imported=3,
        sha256="e" * 64,
    )  # fmt: skip
    for n, state in enumerate(("available", "installed", "released"), start=1):
        Profile.objects.create(
            iccid=esim_batch_iccid(8, n), imsi=f"2341500000080{n:02d}", profile_type="consumer", batch=batch,
            smdp_state=state,
        )  # fmt: skip
    email = f"admin-{language}@example.com"
    staff = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    staff.groups.add(Group.objects.get(name="admin"))
    EmailAddress.objects.create(user=staff, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url="/backoffice/esim/inventory/", secret=secret)
    assert_language(page, language)
    page.wait_for_selector('[data-testid="stock-levels"]')
    shot(page, f"bo-phone-{language}-1-inventory")
    _fits(page)
    warn_at = page.get_by_test_id("low-at-consumer").bounding_box()
    assert warn_at["width"] >= 64, f"the Warn at field is {warn_at['width']} px wide"

    page.goto(f"{base}/backoffice/customers/{customer.pk}/")
    page.wait_for_selector('[data-testid="notifications"]')
    shot(page, f"bo-phone-{language}-2-customer")
    _fits(page)
    assert page.console_errors == []
