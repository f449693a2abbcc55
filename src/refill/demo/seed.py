"""Demo data: markets, a plan catalog with versioned prices, and customers whose lines were
renewed through the real renewal service (backdated), so every period has its paid order.

It loads every app's rows through their own services, so it sits above all of them (``manage.py
demo_seed``, from this app): reference data such as the catalog knows nothing of sales."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from stdnum import luhn
from stdnum.iso7064 import mod_97_10

from refill.agentdesk.models import Shop, ShopAgent
from refill.catalog.models import Market, Plan, PlanPrice
from refill.catalog.services import market_pay_methods_update
from refill.customers.models import Customer, User
from refill.domain import payment_methods as pay_rule
from refill.domain.identifiers import normalize_iccid, normalize_msisdn
from refill.esim.inventory import inventory_import
from refill.esim.models import EsimOrder, Profile
from refill.fleets.models import FleetMember, GroupedLine, LineGroup
from refill.help.demo import articles_seed
from refill.integrations.payments.sandbox import SandboxGateway
from refill.lines.models import Line, PoolNumber
from refill.lines.services import lines_lapse_sweep
from refill.orders.checkout import order_create_renewal
from refill.orders.paying import order_pay_card
from refill.payments.port import CardDetails
from refill.payments.selectors import pay_methods_unavailable
from refill.payments.services import method_add
from refill.promotions.models import Promotion
from refill.renewals.autorenew import autorenew_update
from refill.subscriptions.models import Bucket
from refill.support.demo import tickets_seed
from refill.vouchers.services import pins_csv, voucher_batch_generate, voucher_redeem

from .today import today_seed

GB = 1024

# Each demo market's ways to pay, in its order (the back office's "Ways to pay"); the others are off.
# US customers pay by card first, then Apple Pay and PayPal; China's pay with their wallet, 支付宝
# and 微信支付 before cards, and PayPal and Apple Pay are switched off there.
DEMO_WAYS_TO_PAY = {
    "us": ["saved", "card", "apple_pay", "paypal", "wallet", "wallet_card", "alipay", "wechat_pay", "pin"],
    "cn": ["wallet", "alipay", "wechat_pay", "card", "saved", "wallet_card", "pin"],
}

# code, kind, en, zh, validity kind, count, data MB (None = unlimited), minutes, sms, price, max prepaid, rollover
US_PLANS = [
    ("us-daily", "base", "Day Pass", "日套餐", "days", 1, 1 * GB, 100, 100, "1.50", 30, "expire"),
    ("us-week", "base", "7-Day Plan", "7天套餐", "days", 7, 5 * GB, 500, 500, "7.00", 12, "expire"),
    ("us-30day", "base", "30-Day Plan", "30天套餐", "days", 30, 20 * GB, None, None, "25.00", 12, "expire"),
    ("us-month", "base", "Monthly Unlimited", "包月无限", "months", 1, None, None, None, "35.00", 12, "once"),
    ("us-annual", "base", "Annual Plan", "年度套餐", "years", 1, 240 * GB, None, None, "300.00", 2, "expire"),
    ("us-keep", "retention", "Keep My Number", "保号套餐", "days", 30, 0, 0, 0, "2.00", 12, "expire"),
    ("us-data-5gb", "addon", "5 GB Data Booster", "5GB 流量加油包", "days", 30, 5 * GB, 0, 0, "10.00", 12, "expire"),
]
CN_PLANS = [
    ("cn-daily", "base", "Day Pass", "日套餐", "days", 1, 1 * GB, 30, 30, "5.00", 30, "expire"),
    ("cn-30day", "base", "30-Day Plan", "30天套餐", "days", 30, 30 * GB, 500, 200, "68.00", 12, "expire"),
    ("cn-month", "base", "Monthly Plan", "月套餐", "months", 1, 40 * GB, 1000, 300, "88.00", 12, "once"),
    ("cn-annual", "base", "Annual Plan", "年度套餐", "years", 1, 480 * GB, None, None, "880.00", 2, "expire"),
    ("cn-keep", "retention", "Keep My Number", "保号套餐", "months", 1, 0, 0, 0, "8.00", 12, "expire"),
    ("cn-voice-300", "addon", "300-Minute Voice Pack", "300分钟语音包", "days", 30, 0, 300, 0, "20.00", 12, "expire"),
]

DEMO_PASSWORDS = {
    "demo@example.com": "demo-pass-1234",
    "admin@example.com": "admin-pass-1234",
    "agent@example.com": "agent-pass-1234",
    "li.wei@example.com": "demo-pass-1234",
    "support@example.com": "staff-pass-1234",
    "finance@example.com": "staff-pass-1234",
    "catalog@example.com": "staff-pass-1234",
    "fleet@example.com": "fleet-pass-1234",
    "fleet.viewer@example.com": "fleet-pass-1234",
}


def _plans(market: Market, rows, since) -> None:
    for order, (code, kind, en, zh, vkind, count, data, voice, sms, price, max_ahead, rollover) in enumerate(rows):
        plan, _ = Plan.objects.update_or_create(
            code=code,
            defaults=dict(
                market=market,
                kind=kind,
                name_en=en,
                name_zh_hans=zh,
                validity_kind=vkind,
                validity_count=count,
                data_mb=data,
                voice_minutes=voice,
                sms=sms,
                max_prepaid_periods=max_ahead,
                rollover=rollover,
                sort_order=order,
                throttle_after_mb=100 * GB if data is None else None,
            ),
        )
        PlanPrice.objects.get_or_create(
            plan=plan, currency=market.currency, version=1, defaults={"amount": Decimal(price), "valid_from": since}
        )


def _user(
    email: str,
    *,
    role: str,
    customer: Customer | None = None,
    staff: bool = False,
    phone: str | None = None,
    group: str = "",
) -> User:
    user = User.objects.create_user(
        email,
        DEMO_PASSWORDS[email],
        role=role,
        customer=customer,
        is_staff=staff,
        is_superuser=staff and not group,
        phone=phone,
        phone_verified=bool(phone),
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _line(owner, market, plan, msisdn, iccid, sim_type, label="") -> Line:
    return Line.objects.create(
        msisdn=normalize_msisdn(msisdn, market.region),
        iccid=normalize_iccid(iccid),
        sim_type=sim_type,
        owner=owner,
        market=market,
        plan=plan,
        label=label,
    )


def _renew(line: Line, plan_code: str, *, at, periods: int = 1, key: str) -> None:
    gateway = SandboxGateway()
    token = gateway.tokenize(_demo_card())
    plan = Plan.objects.get(code=plan_code)
    order = order_create_renewal(
        customer=line.owner,
        line=line,
        plan=plan,
        periods=periods,
        idempotency_key=key,
        now=at,
        language=line.owner.preferred_language,
    )
    order_pay_card(order=order, token=token, gateway=gateway, now=at)


# Staff and agents need a second factor (TOTP). The demo's share one known secret, so anyone trying
# the demo can add it to an authenticator app, or ask `manage.py demo_totp` for the current code.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _demo_totp(user: User) -> None:
    TOTP.activate(user, DEMO_TOTP_SECRET)


def _demo_card():
    return CardDetails(number="4242424242424242", exp_month=12, exp_year=timezone.now().year + 4, cvc="123")


def _use(line: Line, *, data_mb: int = 0, minutes: int = 0, sms: int = 0) -> None:
    for kind, amount in ((Bucket.Kind.DATA, data_mb), (Bucket.Kind.VOICE, minutes), (Bucket.Kind.SMS, sms)):
        bucket = Bucket.objects.filter(line=line, kind=kind, unlimited=False).order_by("expires_at", "pk").first()
        if bucket and amount:
            bucket.used = min(amount, bucket.granted)
            bucket.save(update_fields=["used"])


def demo_seed(stdout=None) -> bool:
    """Load the demo data once. Returns False (and changes nothing) if it is already there."""
    if not settings.REFILL_DEMO:
        raise RuntimeError("demo data is disabled in these settings (REFILL_DEMO is off)")
    if User.objects.filter(email="demo@example.com").exists():
        return False
    now = timezone.now()
    since = now - timedelta(days=400)
    with transaction.atomic():
        us = Market.objects.create(
            code="us",
            name="United States",
            region="US",
            currency="USD",
            time_zone="America/New_York",
            tax_rate=Decimal("0"),
            tax_inclusive=False,
        )
        cn = Market.objects.create(
            code="cn",
            name="Mainland China",
            name_zh_hans="中国大陆",
            region="CN",
            currency="CNY",
            time_zone="Asia/Shanghai",
            tax_rate=Decimal("0.06"),
            tax_inclusive=True,
        )
        _plans(us, US_PLANS, since)
        _plans(cn, CN_PLANS, since)
        # A price change: the 7-day plan cost $8.00 until 60 days ago; orders before that keep $8.00.
        week = Plan.objects.get(code="us-week")
        PlanPrice.objects.filter(plan=week, version=1).update(
            amount=Decimal("8.00"), valid_until=now - timedelta(days=60)
        )
        PlanPrice.objects.create(
            plan=week, currency="USD", version=2, amount=Decimal("7.00"), valid_from=now - timedelta(days=60)
        )

        demo = Customer.objects.create(
            display_name="Demo Customer", preferred_language="en", time_zone="America/New_York"
        )
        _user("demo@example.com", role=User.Role.CUSTOMER, customer=demo)
        admin = _user("admin@example.com", role=User.Role.STAFF, staff=True)
        agent = _user("agent@example.com", role=User.Role.AGENT)
        for user in (admin, agent):
            _demo_totp(user)
        ShopAgent.objects.create(
            user=agent, shop=Shop.objects.create(code="dc-main", name="Refill Shop, 14th Street", market=us)
        )
        _ways_to_pay([us, cn], admin)
        for role in ("support", "finance", "catalog"):  # one staff member per back office role
            _demo_totp(_user(f"{role}@example.com", role=User.Role.STAFF, staff=True, group=role))
        li = Customer.objects.create(display_name="李伟", preferred_language="zh-hans", time_zone="Asia/Shanghai")
        _user("li.wei@example.com", role=User.Role.CUSTOMER, customer=li)

        p30 = Plan.objects.get(code="us-30day")
        esim = _line(demo, us, p30, "(202) 555-0143", "8901410321111851072", "esim", "My phone")
        _renew(esim, "us-30day", at=now - timedelta(days=10), key="demo-esim-1")
        _use(esim, data_mb=6 * GB + 300)

        physical = _line(
            demo, us, Plan.objects.get(code="us-week"), "(415) 555-0199", "8931070820307245732", "physical", "Old phone"
        )
        _renew(physical, "us-week", at=now - timedelta(days=9), key="demo-physical-1")
        _use(physical, data_mb=4 * GB, minutes=120, sms=40)

        cn_plan = Plan.objects.get(code="cn-30day")
        travel = _line(demo, cn, cn_plan, "+86 138 0013 8000", "89860012345678901238", "esim", "China travel")
        _renew(travel, "cn-30day", at=now - timedelta(days=28), key="demo-travel-1")
        _use(travel, data_mb=22 * GB, minutes=310, sms=12)

        li_line = _line(li, cn, Plan.objects.get(code="cn-month"), "+86 139 1234 5678", "89860098765432109876", "esim")
        _renew(li_line, "cn-month", at=now - timedelta(days=3), key="demo-li-1")

        # The physical line's 7-day period ended two days ago: the sweep moves it to grace.
        lines_lapse_sweep(now=now)

        # Numbers to choose from for "Get a new number".
        for market, numbers in (
            (us, [f"+1202555016{n}" for n in range(10)]),
            (cn, [f"+86138001381{n:02d}" for n in range(6)]),
        ):
            for msisdn in numbers:
                PoolNumber.objects.create(
                    msisdn=normalize_msisdn(msisdn),
                    market=market,
                    status=PoolNumber.Status.AVAILABLE,
                    available_since=now,
                )

        # A saved card, and auto-renew on the travel line (its period ends in two days): the running
        # scheduler renews it a day before its end. Monthly plans keep the number when unpaid.
        method_add(customer=demo, gateway=SandboxGateway(), card=_demo_card())
        autorenew_update(line=travel, actor=None, enabled=True, cap_per_month=Decimal("300.00"))
        for code, keep in (("us-30day", "us-keep"), ("cn-30day", "cn-keep"), ("cn-month", "cn-keep")):
            Plan.objects.filter(code=code).update(retention_plan=Plan.objects.get(code=keep))

        _promotions(us, cn, now)
        fleet = _fleet(us, now)
        # Every demo eSIM line's own profile is on record (installed on its phone): none of them
        # takes one from stock, which is left whole for "Get a new number".
        _esim_inventory([esim, travel, li_line, *fleet], now)

        # Money to try the wallet and refill PINs with: $15 on the demo wallet from a redeemed PIN,
        # and a few unused PINs written to var/demo-pins.csv (demo only; real PINs are shown once).
        batch, pins = voucher_batch_generate(count=4, face_value="15.00", currency="USD", note="demo")
        voucher_redeem(pin=pins[0][1], customer=demo)
        (settings.VAR_DIR / "demo-pins.csv").write_text(pins_csv(batch, pins[1:]))
        cn_batch, cn_pins = voucher_batch_generate(count=2, face_value="50.00", currency="CNY", note="demo")
        (settings.VAR_DIR / "demo-pins-cny.csv").write_text(pins_csv(cn_batch, cn_pins))

        # The help centre's common articles (both languages) and a few support requests.
        articles_seed()
        tickets_seed()
        # Activity dated now, so the back office's first page has today's figures.
        today_seed(us=us, now=now)
    return True


def _ways_to_pay(markets: list[Market], admin: User) -> None:
    """Each market's ways to pay (DEMO_WAYS_TO_PAY), through the back office's own service; a way
    the configured payment adapters cannot take stays off, as the back office would keep it."""
    unavailable = pay_methods_unavailable()
    for market in markets:
        wanted = [way for way in DEMO_WAYS_TO_PAY[market.code] if way not in unavailable]
        market_pay_methods_update(
            market=market,
            methods=[(way, True) for way in wanted] + [(way, False) for way in pay_rule.FAMILIES if way not in wanted],
            cannot_switch_on=unavailable,
            actor=admin,
            reason="Demo: the ways customers in this market pay",
        )


def _fleet(us: Market, now) -> list[Line]:
    """A business with 24 lines in three groups, renewed on different days (so some end soon), an
    administrator and a viewer, and a saved card for its bulk renewals."""
    acme = Customer.objects.create(
        kind=Customer.Kind.BUSINESS,
        display_name="Acme Logistics",
        preferred_language="en",
        time_zone="America/New_York",
    )
    FleetMember.objects.create(user=_user("fleet@example.com", role=User.Role.CUSTOMER, customer=acme), role="admin")
    FleetMember.objects.create(
        user=_user("fleet.viewer@example.com", role=User.Role.CUSTOMER, customer=acme), role="viewer"
    )
    groups = {name: LineGroup.objects.create(customer=acme, name=name) for name in ("Warehouse", "Trucks", "Office")}
    plan = Plan.objects.get(code="us-30day")
    lines = []
    for n in range(24):
        group = "Warehouse" if n < 8 else "Trucks" if n < 20 else "Office"
        body = f"890141032112{n:06d}"
        line = _line(
            acme, us, plan, f"+1 202 555 02{n:02d}", body + luhn.calc_check_digit(body), "esim", f"{group} {n + 1}"
        )
        GroupedLine.objects.create(line=line, group=groups[group])
        _renew(line, "us-30day", at=now - timedelta(days=27 - n), key=f"demo-fleet-{n}")
        _use(line, data_mb=(n % 7 + 1) * GB // 2, minutes=10 * n, sms=n)
        lines.append(line)
    method_add(customer=acme, gateway=SandboxGateway(), card=_demo_card())
    return lines


def _promotions(us: Market, cn: Market, now) -> None:
    """Offers running now (after the demo's past orders): an automatic one in each market and a code
    (docs/promotions.md)."""
    started, ends = now - timedelta(days=7), now + timedelta(days=60)
    holiday = Promotion.objects.create(
        market=us, name_en="Holiday bonus: 10 GB extra", name_zh_hans="假日赠送 10 GB 流量",
        kind=Promotion.Kind.BONUS_ALLOWANCE, bonus_data_mb=10 * GB, exclusive=False, priority=50,
        starts_at=started, ends_at=ends, budget=Decimal("5000.00"),
    )  # fmt: skip
    holiday.plans.set(Plan.objects.filter(code__in=["us-30day", "us-month"]))
    Promotion.objects.create(
        market=us, code="SAVE10", name_en="10% off with SAVE10", name_zh_hans="SAVE10 立减 10%",
        kind=Promotion.Kind.PERCENT_OFF, percent=Decimal(10), exclusive=False, priority=100,
        starts_at=started, ends_at=ends, limit_per_customer=3, limit_total=10000,
    )  # fmt: skip
    three = Promotion.objects.create(
        market=cn, name_en="Buy 2 months, get 1 free", name_zh_hans="买两个月送一个月",
        kind=Promotion.Kind.EXTRA_PERIODS, buy_periods=2, free_periods=1, exclusive=False, priority=50,
        starts_at=started, ends_at=ends,
    )  # fmt: skip
    three.plans.set(Plan.objects.filter(code="cn-month"))
    Promotion.objects.create(
        market=cn, code="HUANYING", name_en="¥10 off with HUANYING", name_zh_hans="HUANYING 立减 10 元",
        kind=Promotion.Kind.AMOUNT_OFF, amount=Decimal(10), exclusive=False, priority=100,
        starts_at=started, ends_at=ends, limit_per_line=1,
    )  # fmt: skip


def _esim_inventory(installed: list[Line], now) -> None:
    """A SIM vendor batch: the demo's eSIM lines' own profiles (installed on their phones) and 30
    in stock for new lines and the ready pool. The bundled SM-DP+ simulator learns each profile
    the first time Refill orders it."""

    def _eid(n: int) -> str:
        base = f"890490320070088826000000000{n:03d}"
        return base + mod_97_10.calc_check_digits(base)

    stock = [f"8901410999000000{n:02d}" for n in range(30)]
    rows = [(line.iccid, f"3102600000{index:05d}") for index, line in enumerate(installed)]
    rows += [(body + luhn.calc_check_digit(body), f"3102601000{n:05d}") for n, body in enumerate(stock)]
    content = "iccid,imsi,profile_type\n" + "".join(f"{iccid},{imsi},consumer\n" for iccid, imsi in rows)
    inventory_import(file_name="demo-vendor-batch.csv", content=content.encode(), vendor="Demo SIM Co.")
    for index, line in enumerate(installed):
        profile = Profile.objects.get(iccid=line.iccid)
        Profile.objects.filter(pk=profile.pk).update(
            line=line, assigned_at=line.created_at, smdp_state="installed", smdp_state_at=now,
            network_state="active", network_state_at=now, downloads=1,
            eid=_eid(index),
        )  # fmt: skip
        EsimOrder.objects.create(
            profile=profile, line=line, reason=EsimOrder.Reason.NEW_LINE, status=EsimOrder.Status.INSTALLED,
            smdp_address=settings.REFILL_SMDP["ADDRESS"], matching_id=f"DEMO-{index + 1:04d}-INSTALLED",
            download_call_id=f"demo-download-{index}", confirm_call_id=f"demo-confirm-{index}",
            released_at=line.created_at, downloaded_at=line.created_at, installed_at=line.created_at,
        )  # fmt: skip
