"""Small builders for test data. Renewals always go through the real services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from stdnum import luhn

from refill.catalog.models import Market, Plan, PlanPrice
from refill.customers.models import Customer, User
from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.lines.models import Line
from refill.orders.checkout import order_create_renewal
from refill.orders.paying import order_pay_card
from refill.payments.models import PaymentMethod

_seq = itertools.count(1)
SUCCESS_CARD = "4242424242424242"


def make_market(code: str = "us", **overrides) -> Market:
    defaults = dict(
        name="United States",
        region="US",
        currency="USD",
        time_zone="America/New_York",
        tax_rate=Decimal("0"),
        tax_inclusive=False,
    )
    defaults.update(overrides)
    market, _ = Market.objects.get_or_create(code=code, defaults=defaults)
    return market


def make_plan(
    market: Market,
    code: str | None = None,
    *,
    price: str = "25.00",
    validity_kind: str = "days",
    validity_count: int = 30,
    kind: str = "base",
    data_mb: int | None = 20480,
    voice_minutes: int | None = 500,
    sms: int | None = 100,
    max_prepaid_periods: int = 12,
    rollover: str = "expire",
    name_en: str | None = None,
    name_zh_hans: str | None = None,
) -> Plan:
    code = code or f"plan-{next(_seq)}"
    plan = Plan.objects.create(
        code=code,
        market=market,
        kind=kind,
        name_en=name_en or code.title(),
        name_zh_hans=name_zh_hans or f"{code} 套餐",
        validity_kind=validity_kind,
        validity_count=validity_count,
        data_mb=data_mb,
        voice_minutes=voice_minutes,
        sms=sms,
        max_prepaid_periods=max_prepaid_periods,
        rollover=rollover,
    )
    PlanPrice.objects.create(
        plan=plan,
        version=1,
        currency=market.currency,
        amount=Decimal(price),
        valid_from=datetime(2000, 1, 1, tzinfo=UTC),
    )
    return plan


def make_30day_plan(market: Market, *, price: str = "25.00", **fields) -> Plan:
    """The plan most tests renew: code us-30day, "30-Day Plan" / "30天套餐", 30 days, $25."""
    return make_plan(market, "us-30day", price=price, name_en="30-Day Plan", name_zh_hans="30天套餐", **fields)


def make_customer(
    email: str | None = None, *, language: str = "en", password: str = "secret-pass-1234", tz="America/New_York"
):
    email = email or f"customer{next(_seq)}@example.com"
    customer = Customer.objects.create(display_name=email.split("@")[0], preferred_language=language, time_zone=tz)
    user = User.objects.create_user(email, password, customer=customer)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return customer, user


def _iccid() -> str:
    return luhn_iccid(f"8901410{next(_seq):011d}")


def luhn_iccid(body: str) -> str:
    """An ICCID: ``body`` (digits starting 89) and its Luhn check digit."""
    return body + luhn.calc_check_digit(body)


def esim_batch_iccid(batch: int, n: int) -> str:
    """ICCIDs of eSIM test batches: one range per test module, so they never meet."""
    return luhn_iccid(f"89044100000000{batch}{n:03d}")


def make_line(
    customer: Customer,
    market: Market,
    plan: Plan,
    *,
    msisdn: str | None = None,
    sim_type: str = "esim",
    status: str | None = None,
) -> Line:
    """A line of ``customer`` on ``plan``; ``status`` set as stored (no lifecycle service runs)."""
    number = msisdn or f"+1202555{next(_seq) % 10000:04d}"
    extra = {"status": status} if status is not None else {}
    return Line.objects.create(
        msisdn=number,
        iccid=_iccid(),
        sim_type=sim_type,
        owner=customer,
        market=market,
        plan=plan,
        **extra,
    )


def card_details(number: str = SUCCESS_CARD, **fields) -> CardDetails:
    """What a customer types into the card form: ``number``, expiry December three years ahead,
    CVC 123, with ``fields`` changed (e.g. ``exp_year=2031, holder="Li Wei"``)."""
    values = dict(number=number, exp_month=12, exp_year=timezone.now().year + 3, cvc="123")
    return CardDetails(**{**values, **fields})


def make_saved_card(customer: Customer, *, token: str | None = None, **fields) -> PaymentMethod:
    """A saved sandbox Visa ending 4242, expiring 12/2039, with ``fields`` changed
    (``brand``, ``last4``, ``exp_month``, ``exp_year``, ``is_default``, ``is_backup``, ``removed_at``...)."""
    values = dict(gateway="sandbox", brand="visa", last4="4242", exp_month=12, exp_year=2039)
    return PaymentMethod.objects.create(customer=customer, token=token or f"tok_{next(_seq)}", **{**values, **fields})


STAFF_PASSWORD = "x-pass-12345"


def make_staff(
    group: str | None = None,
    email: str | None = None,
    *,
    permissions: tuple[str, ...] | list[str] = (),
    password: str = STAFF_PASSWORD,
) -> User:
    """A back office staff member (role "staff", is_staff): in the staff ``group`` of that name
    (backoffice/roles.py: support, finance, catalog, admin...) if given, and with the extra
    ``permissions`` given as "app_label.codename". Sign them in with ``login``."""
    user = User.objects.create_user(
        email or f"staff{next(_seq)}@example.com", password, role=User.Role.STAFF, is_staff=True
    )
    if group is not None:
        user.groups.add(Group.objects.get(name=group))
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def card_token(number: str = SUCCESS_CARD):
    gateway = SandboxGateway()
    return gateway, gateway.tokenize(card_details(number))


def renew(
    line: Line,
    plan: Plan,
    *,
    periods: int = 1,
    now: datetime | None = None,
    key: str | None = None,
    card: str = SUCCESS_CARD,
    promotion_code: str = "",
):
    """Create and pay a renewal order through the real services; returns (order, payment)."""
    order = order_create_renewal(
        customer=line.owner,
        line=line,
        plan=plan,
        periods=periods,
        idempotency_key=key or f"test-{next(_seq)}",
        now=now,
        promotion_code=promotion_code,
    )
    gateway, token = card_token(card)
    payment = order_pay_card(order=order, token=token, gateway=gateway, now=now)
    order.refresh_from_db()
    line.refresh_from_db()
    return order, payment


AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def login(client, user) -> None:
    """Sign ``user`` in; staff and agents as if they had also entered their TOTP code (they get a
    TOTP authenticator if they have none): the back office, admin and agent desk ask for both."""
    client.force_login(user, backend=AUTH_BACKEND)
    from refill.customers.middleware import needs_second_factor

    if needs_second_factor(user):
        import time

        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, generate_totp_secret())
        session = client.session
        session["account_authentication_methods_user"] = str(user.pk)
        session["account_authentication_methods"] = [
            {"method": "password", "at": time.time()},
            {"method": "mfa", "at": time.time(), "type": "totp"},
        ]
        session.save()


def make_promotion(market: Market, **fields):
    """A stackable automatic 10 % offer that started yesterday, with ``fields`` changed."""
    from refill.promotions.models import Promotion

    values = dict(market=market, name_en="Offer", name_zh_hans="优惠", kind="percent_off", percent=Decimal(10),
                  exclusive=False, starts_at=timezone.now() - timedelta(days=1))  # fmt: skip
    return Promotion.objects.create(**{**values, **fields})
