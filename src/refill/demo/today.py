"""The demo's activity on the day it is loaded, so that someone trying the back office finds
figures on its first page instead of zeros: renewals paid today, an auto-renewal the bank declined
today, and a support request waiting for an answer. "Today" is the operator's day
(REFILL_DEFAULT_TIME_ZONE, refill.backoffice.dashboard): everything here is dated at load time.

Made through the real services, as the rest of the demo (refill.demo.seed): the orders are created
and charged by the renewal services, the declined auto-renewal is scheduled and run by the
auto-renew engine (which owes the customer their notice and schedules the retry), and the request
is opened by the support service."""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from stdnum import luhn

from refill.catalog.models import Market, Plan
from refill.customers.models import Customer, User
from refill.domain.identifiers import normalize_iccid
from refill.integrations.payments.sandbox import SandboxGateway
from refill.lines.models import Line
from refill.orders.checkout import order_create_renewal
from refill.orders.paying import order_pay_card
from refill.payments.port import CardDetails
from refill.payments.services import method_add
from refill.renewals.autorenew import autorenew_run_due, autorenew_schedule, autorenew_update
from refill.support import services as support
from refill.support.models import Category

# The fleet's lines that its administrator renews ahead today (the Office group, refill.demo.seed).
RENEWED_AHEAD = ("Office 22", "Office 23", "Office 24")
# A sandbox card the bank refuses for lack of money (refill.integrations.payments.sandbox).
NO_FUNDS_CARD = "4000000000009995"


def today_seed(*, us: Market, now: datetime) -> None:
    """Renewals paid now, one auto-renewal declined now and a request waiting since now."""
    _renewed_ahead(now)
    line = _autorenew_declined(us, now)
    _request_waiting(line)


def _card(number: str, now: datetime) -> CardDetails:
    return CardDetails(number=number, exp_month=12, exp_year=now.year + 4, cvc="123")


def _renew(line: Line, plan: Plan, *, at: datetime, key: str) -> None:
    gateway = SandboxGateway()
    order = order_create_renewal(
        customer=line.owner,
        line=line,
        plan=plan,
        periods=1,
        idempotency_key=key,
        now=at,
        language=line.owner.preferred_language,
    )
    order_pay_card(order=order, token=gateway.tokenize(_card("4242424242424242", at)), gateway=gateway, now=at)


def _renewed_ahead(now: datetime) -> None:
    """Acme Logistics pays the next 30 days of three office phones ahead of time."""
    plan = Plan.objects.get(code="us-30day")
    for line in Line.objects.filter(owner__display_name="Acme Logistics", label__in=RENEWED_AHEAD).order_by("pk"):
        _renew(line, plan, at=now, key=f"demo-today-{line.pk}")


def _autorenew_declined(us: Market, now: datetime) -> Line:
    """A customer with auto-renew on whose period ends within the market's lead: the engine tries
    their saved card now and the bank declines it (not enough money); a retry is scheduled."""
    sam = Customer.objects.create(display_name="Sam Rivera", preferred_language="en", time_zone="America/New_York")
    # A login with no password: a customer of the demo, not one of its accounts to try.
    user = User.objects.create_user("sam.rivera@example.com", None, role=User.Role.CUSTOMER, customer=sam)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    plan = Plan.objects.get(code="us-30day")
    body = "890141032113000001"
    line = Line.objects.create(
        msisdn="+12025550177",
        iccid=normalize_iccid(body + luhn.calc_check_digit(body)),
        sim_type="physical",
        owner=sam,
        market=us,
        plan=plan,
        label="Sam's phone",
    )
    # Paid 30 days ago less a few hours: the period ends this evening, within the day's lead.
    _renew(line, plan, at=now - timedelta(days=30, hours=-6), key="demo-sam-1")
    method_add(customer=sam, gateway=SandboxGateway(), card=_card(NO_FUNDS_CARD, now))
    autorenew_update(line=line, actor=None, enabled=True)
    autorenew_schedule(now=now)
    autorenew_run_due(now=now)
    return line


def _request_waiting(line: Line) -> None:
    """The same customer asks why, and waits for an answer."""
    user = line.owner.users.get()
    support.ticket_create(
        customer=line.owner,
        user=user,
        category=Category.PAYMENT_REFUSED,
        subject="My plan did not renew",
        body="I got a message that my automatic renewal failed. My card should be fine. Can you check?",
        files=[],
        language="en",
        line=line,
    )
