"""Many auto-renew lines at once, for the chaos test and bench/renewals.py: customers, lines whose
period ends at ``end`` (as if imported with their expiry from an earlier system, so nothing is owed
for them yet), auto-renew on, and one saved sandbox card each, written with bulk inserts."""

from __future__ import annotations

from stdnum import luhn

SUCCESS_TOKEN = "tok_sandbox_success_x"


def seed_autorenew_lines(*, market, plan, count: int, end, tokens=(SUCCESS_TOKEN,), offset: int = 0, batch=5000):
    from refill.customers.models import Customer
    from refill.lines.models import Line
    from refill.payments.models import PaymentMethod
    from refill.renewals.models import AutoRenew

    lines = []
    for start in range(0, count, batch):
        size = min(batch, count - start)
        numbers = range(offset + start, offset + start + size)
        customers = Customer.objects.bulk_create(
            Customer(display_name=f"seeded {n}", notify_email=False, notify_sms=True) for n in numbers
        )
        chunk = Line.objects.bulk_create(
            Line(
                msisdn=f"+1212{2000000 + n:07d}",
                iccid=_iccid(n),
                sim_type="esim",
                owner=customer,
                market=market,
                plan=plan,
                status="active",
                period_end=end,
            )
            for n, customer in zip(numbers, customers, strict=True)
        )
        AutoRenew.objects.bulk_create(AutoRenew(line=line, enabled=True, use_wallet=False) for line in chunk)
        PaymentMethod.objects.bulk_create(
            PaymentMethod(
                customer=customer,
                gateway="sandbox",
                token=tokens[n % len(tokens)],
                brand="visa",
                last4=f"{n % 10000:04d}",
                exp_month=12,
                exp_year=2039,
                is_default=True,
            )
            for n, customer in zip(numbers, customers, strict=True)
        )
        lines.extend(chunk)
    return lines


def _iccid(n: int) -> str:
    body = f"8901{n:014d}"
    return body + luhn.calc_check_digit(body)
