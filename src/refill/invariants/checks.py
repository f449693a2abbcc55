"""Invariant checks over the whole database (domain.md invariants 1-5 and 10), used by
`manage.py ledger_check`, by CI on the demo data, and after every database test.

They compare the journal with what caused its entries (orders, payments, refunds, vouchers,
promotions), so they live above all of those apps: the ledger itself knows its causes only as
references and checks only its own books (``refill.ledger.checks``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from refill.domain.money import quantize
from refill.ledger.checks import check_entries, check_non_negative
from refill.ledger.models import Account, JournalEntry, JournalLine
from refill.ledger.services import account_balance
from refill.orders.models import CreditNote, Order, OrderItem, Receipt, Refund
from refill.payments.models import Payment
from refill.promotions.models import Promotion, Redemption
from refill.subscriptions.models import Bucket, Period
from refill.vouchers.models import Voucher

STALE_AFTER = timedelta(hours=24)


def check_holds() -> list[str]:
    """Wallet money on hold equals the wallet parts of payments, and top-up refunds, in progress."""
    problems = []
    pending = defaultdict(Decimal)
    for customer_id, currency, amount in Payment.objects.filter(
        method="wallet", status__in=["pending", "unknown"]
    ).values_list("order__customer_id", "currency", "amount"):
        pending[(customer_id, currency)] += Decimal(amount)
    for customer_id, currency, amount in Refund.objects.filter(
        status=Refund.Status.PENDING, order__line__isnull=True
    ).values_list("order__customer_id", "currency", "amount"):
        pending[(customer_id, currency)] += Decimal(amount)
    for account in Account.objects.filter(purpose=Account.Purpose.WALLET_HOLD):
        held = account_balance(account)
        if held != quantize(pending[(account.customer_id, account.currency)], account.currency):
            problems.append(
                f"{account.code} holds {held} but payments in progress hold "
                f"{pending[(account.customer_id, account.currency)]}"
            )
    return problems


def check_orders() -> list[str]:
    problems = []
    captures = Counter(JournalEntry.objects.filter(cause=JournalEntry.Cause.ORDER).values_list("cause_id", flat=True))
    capture_totals = defaultdict(Decimal)
    for cause_id, amount in JournalLine.objects.filter(entry__cause=JournalEntry.Cause.ORDER, amount__gt=0).values_list(
        "entry__cause_id", "amount"
    ):
        capture_totals[cause_id] += Decimal(amount)
    periods = Counter(Period.objects.values_list("order_item__order_id", flat=True))
    for order in Order.objects.prefetch_related("items", "payments"):
        key = str(order.pk)
        paid = order.status == Order.Status.PAID
        if paid and order.total > 0 and captures[key] != 1:
            problems.append(f"paid order {order.pk} has {captures[key]} capture entries (want 1)")
        if not paid and captures[key]:
            problems.append(f"unpaid order {order.pk} has a capture entry")
        if paid and quantize(capture_totals[key], order.currency) != order.total:
            problems.append(f"order {order.pk}: capture {capture_totals[key]} != total {order.total}")
        wanted = sum(i.periods + i.free_periods for i in order.items.all() if i.kind == "renewal") if paid else 0
        if periods[order.pk] != wanted:
            problems.append(f"order {order.pk} ({order.status}) has {periods[order.pk]} periods (want {wanted})")
        succeeded = [p for p in order.payments.all() if p.status == Payment.Status.SUCCEEDED]
        if not paid and succeeded:
            problems.append(f"order {order.pk} has a successful payment but is {order.status}")
    successes = Payment.objects.values("order_id", "method").annotate(n=Count("pk", filter=Q(status="succeeded")))
    for row in successes.filter(n__gt=1):
        problems.append(f"order {row['order_id']} has {row['n']} successful {row['method']} payments")
    paid_sums = defaultdict(Decimal)
    for order_id, amount in Payment.objects.filter(status="succeeded").values_list("order_id", "amount"):
        paid_sums[order_id] += Decimal(amount)
    for order in Order.objects.filter(status=Order.Status.PAID):
        if quantize(paid_sums[order.pk], order.currency) != order.total:
            problems.append(f"paid order {order.pk}: payments {paid_sums[order.pk]} != total {order.total}")
    return problems


def check_addons() -> list[str]:
    """Add-on passes (rule 5): a paid add-on order granted its buckets (each naming its item, on the
    order's line) and no period; an unpaid one granted nothing. A bucket names only an add-on item."""
    problems = []
    granted: dict[int, list[int]] = defaultdict(list)  # order -> the lines of its buckets
    for order_id, line_id in Bucket.objects.filter(order_item__isnull=False).values_list(
        "order_item__order_id", "line_id"
    ):
        granted[order_id].append(line_id)
    addon_orders = Order.objects.filter(items__kind=OrderItem.Kind.ADDON).distinct()
    # The one paid add-on order without buckets: its line stopped running before the payment was
    # confirmed, and it was refunded in full for that (refill.orders.refunds.addon_refund_undelivered).
    given_back = {
        int(key.rpartition(":")[2]): amount
        for key, amount in Refund.objects.filter(
            idempotency_key__startswith="addon-undelivered:", status__in=["succeeded", "pending"]
        ).values_list("idempotency_key", "amount")
    }
    for order_id, status, line_id, total in addon_orders.values_list("pk", "status", "line_id", "total"):
        buckets = granted.pop(order_id, [])
        if status == Order.Status.PAID and not buckets and given_back.get(order_id) != total:
            problems.append(f"paid add-on order {order_id} has no add-on buckets")
        if status != Order.Status.PAID and buckets:
            problems.append(f"add-on order {order_id} ({status}) has {len(buckets)} add-on buckets")
        if any(bucket_line != line_id for bucket_line in buckets):
            problems.append(f"add-on order {order_id} has buckets on another line")
    for order_id in granted:
        problems.append(f"order {order_id} is not an add-on order but has add-on buckets")
    return problems


def check_goodwill() -> list[str]:
    """A goodwill order (refill.renewals.goodwill) moves no money: its total is 0, no other payment
    was taken for it, and it has no journal entry and no refund."""
    problems = []
    given = set(Payment.objects.filter(method=Payment.Method.GOODWILL).values_list("order_id", flat=True))
    if not given:
        return problems
    for pk, total in Order.objects.filter(pk__in=given).values_list("pk", "total"):
        if total != 0:
            problems.append(f"goodwill order {pk} has a total of {total} (want 0)")
    taken = Payment.objects.filter(order_id__in=given).exclude(method=Payment.Method.GOODWILL)
    for order_id in taken.exclude(status=Payment.Status.FAILED).values_list("order_id", flat=True).distinct():
        problems.append(f"goodwill order {order_id} has a payment other than its goodwill one")
    booked = JournalEntry.objects.filter(
        cause__in=[JournalEntry.Cause.ORDER, JournalEntry.Cause.PROMOTION], cause_id__in=[str(pk) for pk in given]
    )
    for cause_id in booked.values_list("cause_id", flat=True).distinct():
        problems.append(f"goodwill order {cause_id} has a journal entry (it moved no money)")
    for order_id in Refund.objects.filter(order_id__in=given).values_list("order_id", flat=True).distinct():
        problems.append(f"goodwill order {order_id} has a refund (nothing was paid)")
    return problems


def check_promotions() -> list[str]:
    """Redemptions follow their orders (final only when paid, never held by a paid order), each
    promotion's counters are its active redemptions, and each paid order's promotion entry books
    exactly their cost."""
    problems = []
    for pk, order_id, status, order_status in Redemption.objects.values_list(
        "pk", "order_id", "status", "order__status"
    ):
        if (status == Redemption.Status.REDEEMED) != (order_status == Order.Status.PAID):
            problems.append(f"redemption {pk} is {status} but order {order_id} is {order_status}")
    active = Redemption.objects.filter(status__in=[Redemption.Status.HELD, Redemption.Status.REDEEMED])
    counts = {
        row["promotion"]: row for row in active.values("promotion").annotate(n=Count("pk"), cost=Sum("cost")).order_by()
    }
    for promotion in Promotion.objects.all():
        row = counts.get(promotion.pk, {"n": 0, "cost": Decimal(0)})
        if promotion.redeemed != row["n"] or promotion.spent != row["cost"]:
            problems.append(
                f"promotion {promotion.pk} counts {promotion.redeemed} redemptions costing {promotion.spent}, "
                f"its redemptions are {row['n']} costing {row['cost']}"
            )
    costs = defaultdict(Decimal)
    for order_id, cost in Redemption.objects.filter(status=Redemption.Status.REDEEMED).values_list("order_id", "cost"):
        costs[str(order_id)] += Decimal(cost)
    booked = defaultdict(Decimal)
    for cause_id, amount in JournalLine.objects.filter(
        entry__cause=JournalEntry.Cause.PROMOTION, amount__gt=0
    ).values_list("entry__cause_id", "amount"):
        booked[cause_id] += Decimal(amount)
    for order_id in set(costs) | set(booked):
        if costs[order_id] != booked[order_id]:
            problems.append(f"order {order_id}: promotion cost {costs[order_id]} but {booked[order_id]} booked")
    return problems


def check_receipts() -> list[str]:
    problems = []
    paid = set(Order.objects.filter(status=Order.Status.PAID).values_list("pk", flat=True))
    receipted = Counter(Receipt.objects.values_list("order_id", flat=True))
    for order_id in paid:
        if receipted[order_id] != 1:
            problems.append(f"paid order {order_id} has {receipted[order_id]} receipts (want 1)")
    for receipt in Receipt.objects.select_related("order"):
        if receipt.order_id not in paid:
            problems.append(f"receipt {receipt.pk} belongs to unpaid order {receipt.order_id}")
        if receipt.total != receipt.order.total or receipt.currency != receipt.order.currency:
            problems.append(f"receipt {receipt.pk} total differs from its order")
    problems += _series_gaps(Receipt, "receipt")
    return problems


def check_vouchers() -> list[str]:
    """The voucher float equals the face value of PINs still usable; each redeemed PIN has exactly
    one redemption entry."""
    problems = []
    usable = defaultdict(Decimal)
    for currency, value in Voucher.objects.filter(state=Voucher.State.ACTIVE).values_list("currency", "face_value"):
        usable[currency] += Decimal(value)
    for account in Account.objects.filter(purpose=Account.Purpose.VOUCHER_FLOAT):
        if account_balance(account) != quantize(usable[account.currency], account.currency):
            problems.append(
                f"{account.code} is {account_balance(account)} but usable PINs are worth {usable[account.currency]}"
            )
    redeemed = set(Voucher.objects.filter(state=Voucher.State.REDEEMED).values_list("pk", flat=True))
    entries = Counter(
        int(key.split(":")[1])
        for key in JournalEntry.objects.filter(
            idempotency_key__endswith=":redeem", cause=JournalEntry.Cause.VOUCHER
        ).values_list("idempotency_key", flat=True)
    )
    for pk in redeemed | set(entries):
        if pk not in redeemed or entries[pk] != 1:
            problems.append(f"voucher {pk}: state and redemption entries disagree")
    return problems


def check_refunds() -> list[str]:
    problems = []
    refunded = defaultdict(Decimal)
    for refund in Refund.objects.filter(status=Refund.Status.SUCCEEDED).select_related("order"):
        refunded[refund.order_id] += refund.amount
        if refunded[refund.order_id] > refund.order.total:
            problems.append(f"order {refund.order_id} is refunded {refunded[refund.order_id]}, more than its total")
        entry = JournalEntry.objects.filter(idempotency_key=f"refund:{refund.pk}").first()
        debit = (
            sum((Decimal(line.amount) for line in entry.lines.all() if line.amount > 0), Decimal(0)) if entry else None
        )
        if debit is None or quantize(debit, refund.currency) != refund.amount:
            problems.append(f"refund {refund.pk} has no ledger entry of its amount")
    return problems


def check_credit_notes() -> list[str]:
    """Exactly one credit note per refund that succeeded (none for any other), of the refund's
    amount, and each series gap-free (as receipts are)."""
    problems = []
    succeeded = set(Refund.objects.filter(status=Refund.Status.SUCCEEDED).values_list("pk", flat=True))
    for pk, refund_id, status, amount, refunded in CreditNote.objects.values_list(
        "pk", "refund_id", "refund__status", "amount", "refund__amount"
    ):
        if status != Refund.Status.SUCCEEDED:
            problems.append(f"credit note {pk} belongs to refund {refund_id}, which is {status}")
        if amount != refunded:
            problems.append(f"credit note {pk} is for {amount}, its refund {refund_id} for {refunded}")
        succeeded.discard(refund_id)
    for refund_id in sorted(succeeded):
        problems.append(f"refund {refund_id} succeeded but has no credit note")
    problems += _series_gaps(CreditNote, "credit note")
    return problems


def check_period_gaps() -> list[str]:
    """Invariant 5 for a line shown active (or retained): its periods follow each other with no
    gap, unless a period restarted the line after a lapse (it then starts when it was paid). A
    period that begins later than it was paid, after the time before it ended, is a hole in
    service the line's status does not show: left by revoking a period and not moving up the ones
    paid after it. Revoked periods count until they were revoked."""
    problems = []
    spans = defaultdict(list)
    rows = Period.objects.filter(line__status__in=["active", "retained"]).values_list(
        "line_id", "start", "end", "revoked_at", "order_item__order__paid_at"
    )
    for line_id, start, end, revoked_at, paid_at in rows:
        stop = min(end, revoked_at) if revoked_at is not None else end
        if stop > start:
            spans[line_id].append((start, stop, paid_at))
    for line_id, line_spans in spans.items():
        line_spans.sort()
        reached = None
        for start, stop, paid_at in line_spans:
            if reached is not None and start > reached and (paid_at is None or start > paid_at):
                problems.append(
                    f"line {line_id} is shown active but has no period from {reached:%Y-%m-%d %H:%M} "
                    f"to {start:%Y-%m-%d %H:%M} UTC"
                )
            reached = stop if reached is None else max(reached, stop)
    return problems


def check_stale() -> list[str]:
    """Payments and refunds still open after a day need reconciliation: flag them for staff."""
    cutoff = timezone.now() - STALE_AFTER
    problems = [
        f"payment {pk} has been {status} since {created:%Y-%m-%d %H:%M} UTC; reconcile it with the provider"
        for pk, status, created in Payment.objects.filter(
            status__in=["pending", "unknown", "requires_action"], created_at__lt=cutoff
        ).values_list("pk", "status", "created_at")
    ]
    problems += [
        f"refund {pk} has been pending since {created:%Y-%m-%d %H:%M} UTC; reconcile it with the provider"
        for pk, created in Refund.objects.filter(status="pending", created_at__lt=cutoff).values_list(
            "pk", "created_at"
        )
    ]
    return problems


def run_all() -> list[str]:
    """Every invariant, the ledger's own first."""
    return (
        check_entries()
        + check_non_negative()
        + check_holds()
        + check_orders()
        + check_addons()
        + check_promotions()
        + check_receipts()
        + check_vouchers()
        + check_refunds()
        + check_credit_notes()
        + check_period_gaps()
        + check_stale()
    )


def _series_gaps(model, label: str) -> list[str]:
    """Numbered documents of ``model`` (receipts, credit notes) run 1, 2, 3 … in each series."""
    numbers = defaultdict(list)
    for series_id, number in model.objects.exclude(number=None).values_list("series_id", "number"):
        numbers[series_id].append(number)
    problems = []
    for series_id, values in numbers.items():
        values.sort()
        if values != list(range(1, len(values) + 1)):
            problems.append(f"{label} series {series_id} is not gap-free: {values[:10]}...")
    return problems
