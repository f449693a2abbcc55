"""A new eSIM line paid for while no profile could be given to it.

The payment is never undone by a missing profile: the line is recorded as waiting (``NewLineWait``),
the customer is told what happens next in their language, staff see it on the inventory page, and
delivery is tried again whenever profiles are imported and on a schedule. A line still waiting
after ``REFILL_ESIM_REFUND_AFTER_HOURS`` is offered its money back (``esim_wait_refund``, through
the refund service).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.catalog.models import Plan
from refill.errors import RefillError
from refill.integrations.esim import es2plus
from refill.lines.models import Line
from refill.orders.models import Order, Refund, RefundReason
from refill.orders.pricing import renewal_plans
from refill.orders.refunds import order_refund, refundable
from refill.payments.models import Payment
from refill.subscriptions.models import Bucket, Period

from .models import NewLineWait
from .services import NoProfileInStock, esim_for_new_line
from .tasks import send_esim_waiting

logger = logging.getLogger(__name__)

# How long one sweep holds a waiting line while it tries it (an SM-DP+ call is at most a few
# timeouts): another scheduler's sweep skips it meanwhile, and takes it over if this one died.
LEASE = timedelta(minutes=5)


class RefundNotOffered(RefillError):
    code = "esim_refund_not_offered"
    message = _("A refund for this number is not offered: its eSIM is on its way or was already refunded.")


def refund_after() -> timedelta:
    return timedelta(hours=settings.REFILL_ESIM_REFUND_AFTER_HOURS)


def checkout_plans(line: Line) -> list:
    """The plans the portal's checkout offers a line: a new number's first purchase (the line is
    still pending) is an activation onto a base plan, never a "keep my number" plan."""
    plans = renewal_plans(line)
    return [plan for plan in plans if plan.kind == Plan.Kind.BASE] if line.status == "pending" else plans


def esim_wait_for(line: Line) -> NewLineWait | None:
    return NewLineWait.objects.filter(line=line).first()


def refund_offered(wait: NewLineWait | None, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(wait and wait.status == NewLineWait.Status.WAITING and wait.since + refund_after() <= now)


def waiting_context(line: Line) -> dict:
    """What a paid new line still waiting for its eSIM tells its customer (esim/_waiting.html):
    that it waits, until when before a refund is offered, and the refund once it is."""
    wait = esim_wait_for(line)
    return {
        "esim_wait": wait,
        "esim_waiting": wait is not None and wait.status == NewLineWait.Status.WAITING,
        "esim_refund_from": wait.since + refund_after() if wait else None,
        "esim_refund_offered": refund_offered(wait),
    }


def esim_wait_record(*, line: Line, reason: str, now: datetime | None = None) -> NewLineWait:
    """Record that ``line`` (paid for) is waiting for its eSIM, once; the customer is emailed what
    happens next, once. A later refusal only updates the reason staff see."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            wait, created = NewLineWait.objects.get_or_create(line=line, defaults={"reason": reason, "since": now})
    except IntegrityError:  # recorded at this moment by another worker
        wait, created = NewLineWait.objects.get(line=line), False
    if not created:
        NewLineWait.objects.filter(pk=wait.pk).exclude(reason=reason).update(reason=reason)
        return wait
    audit_record(actor=None, action="esim.waiting", obj=line, data={"reason": reason})
    logger.warning("line %s is paid for but waits for an eSIM profile (%s)", line.pk, reason)

    transaction.on_commit(lambda: send_esim_waiting.enqueue(wait.pk, "waiting"))
    return wait


def _lease(wait_pk: int, now: datetime) -> bool:
    """Take the line for this sweep, unless another one holds it."""
    return bool(
        NewLineWait.objects.filter(pk=wait_pk, status=NewLineWait.Status.WAITING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )


def esim_waiting_lines_deliver(*, now: datetime | None = None) -> int:
    """Try again to give each waiting line its eSIM (a profile kept ready, or one from stock) and
    offer a refund to those waiting too long. Returns how many got their eSIM now. Safe to run
    twice, late, or on two schedulers at once: each line is leased to one run at a time, and a
    line's profile is taken once (``esim_for_new_line`` returns the order already made)."""
    now = now or timezone.now()
    delivered = 0
    for wait_pk in NewLineWait.objects.filter(status=NewLineWait.Status.WAITING).values_list("pk", flat=True):
        if not _lease(wait_pk, now):
            continue
        wait = NewLineWait.objects.select_related("line").get(pk=wait_pk)
        reason = ""
        try:
            esim_for_new_line(line=wait.line, profile_type=settings.REFILL_ESIM_PROFILE_TYPE)
        except NoProfileInStock as refused:
            reason = refused.code
        except es2plus.Es2Error as refused:
            reason = refused.code
            logger.warning("line %s: eSIM still not delivered (%r)", wait.line_id, refused)
        except IntegrityError:
            reason = "taken_meanwhile"  # its profile was taken by another run at this moment
        changes = {"attempts": wait.attempts + 1, "last_attempt_at": now, "lease_until": None}
        if reason:
            NewLineWait.objects.filter(pk=wait_pk).update(reason=reason, **changes)
            continue
        NewLineWait.objects.filter(pk=wait_pk).update(status=NewLineWait.Status.DELIVERED, finished_at=now, **changes)
        audit_record(
            actor=None, action="esim.delivered_late", obj=wait.line, data={"waited_since": wait.since.isoformat()}
        )
        delivered += 1
    _offer_refunds(now)
    return delivered


def _offer_refunds(now: datetime) -> None:
    due = NewLineWait.objects.filter(
        status=NewLineWait.Status.WAITING, refund_offered_at__isnull=True, since__lte=now - refund_after()
    )
    for wait_pk in due.values_list("pk", flat=True):
        # Marked by one run only: the customer is emailed once.
        if NewLineWait.objects.filter(pk=wait_pk, refund_offered_at__isnull=True).update(refund_offered_at=now):
            send_esim_waiting.enqueue(wait_pk, "refund_offer")


def esim_wait_refund(*, line: Line, actor=None, now: datetime | None = None) -> list:
    """The customer of a line still waiting for its eSIM past the operator's time takes their money
    back: every paid order of the line is refunded in full through the refund service (to the card
    or wallet it came from; cash to the wallet), its paid time ends now, and no eSIM is sent any
    more. Asked twice, the refunds already made are returned."""
    now = now or timezone.now()
    wait = esim_wait_for(line)
    if wait is not None and wait.status == NewLineWait.Status.REFUNDED:
        return list(Refund.objects.filter(idempotency_key__startswith=f"esim-wait:{wait.pk}:"))
    if not refund_offered(wait, now) or not _lease(wait.pk, now):
        raise RefundNotOffered()
    refunds = []
    try:
        for order in Order.objects.filter(line=line, status=Order.Status.PAID).order_by("pk"):
            amount = refundable(order)
            if amount <= Decimal(0):
                continue
            cash = order.payments.filter(status=Payment.Status.SUCCEEDED, method=Payment.Method.CASH).exists()
            refunds.append(
                order_refund(
                    order=order,
                    amount=amount,
                    destination=Refund.Destination.WALLET if cash else Refund.Destination.ORIGINAL,
                    reason_code=RefundReason.NOT_DELIVERED,  # the customer reads it in their language
                    reason="eSIM not delivered: the customer took the refund offered",
                    idempotency_key=f"esim-wait:{wait.pk}:order:{order.pk}",
                    actor=actor,
                    now=now,
                )
            )
    finally:
        NewLineWait.objects.filter(pk=wait.pk).update(lease_until=None)
    with transaction.atomic():
        _end_paid_time(line, now)
        NewLineWait.objects.filter(pk=wait.pk).update(status=NewLineWait.Status.REFUNDED, finished_at=now)
        audit_record(actor=actor, action="esim.wait_refunded", obj=line, data={"refunds": [r.pk for r in refunds]})
    return refunds


def _end_paid_time(line: Line, now: datetime) -> None:
    """The refunded line's periods stop counting from now (marked, never deleted), as a revoking
    refund does: the line then lapses like any unpaid line and its number is released in time."""
    locked = Line.objects.select_for_update().get(pk=line.pk)
    for period in Period.objects.filter(line=locked, revoked_at__isnull=True, end__gt=now):
        period.revoked_at = max(now, period.start)
        period.save(update_fields=["revoked_at"])
        Bucket.objects.filter(period=period, revoked_at__isnull=True).update(revoked_at=period.revoked_at)
    if locked.period_end is None or locked.period_end > now:
        locked.period_end = now
        locked.save(update_fields=["period_end"])
