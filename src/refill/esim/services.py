"""Getting a line's eSIM profile onto a phone: orders at the SM-DP+, re-issues, the ready pool and
new eSIM lines (the SM-DP+'s download progress notifications are in ``smdp_notifications``).

Each order is recorded (with the functionCallIdentifiers it will use) before the SM-DP+ is called,
and the calls happen outside any transaction: an order left half-way by a crash or an unreachable
SM-DP+ is finished by ``esim_orders_resume``, which sends the same calls again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.domain.activation import ActivationCode
from refill.domain.esim import (
    NetworkState,
    SmdpState,
    check_transition,
)
from refill.domain.lifecycle import LineStatus
from refill.errors import RefillError
from refill.integrations.esim import es2plus
from refill.lines.models import Line, PoolNumber
from refill.lines.services import line_transition
from refill.orders.models import Order
from refill.payments.models import Payment

from .models import EsimOrder, Profile
from .tasks import send_esim_ready

logger = logging.getLogger(__name__)

OPEN = [EsimOrder.Status.ORDERING, EsimOrder.Status.RELEASED, EsimOrder.Status.DOWNLOADED]


class NotAnEsimLine(RefillError):
    code = "not_an_esim_line"
    message = _("This line uses a physical SIM card, not an eSIM.")


class NoProfileInStock(RefillError):
    code = "esim_out_of_stock"
    message = _("No eSIM profile is ready right now. Please try again later or contact support.")


class DownloadInProgress(RefillError):
    code = "esim_download_in_progress"
    message = _("This eSIM is being downloaded to a phone right now. Please wait a few minutes and try again.")


class ReissueNotAllowed(RefillError):
    code = "esim_reissue_not_allowed"
    message = _("This line's number is no longer kept, so its eSIM cannot be installed again.")


class EsimNotPaid(RefillError):
    code = "esim_not_paid"
    message = _(
        "This number is not paid for yet. Its eSIM's activation code comes once the first payment has gone through."
    )


def esim_code_may_leave(line: Line) -> bool:
    """Whether the line's activation code may be shown, emailed or re-issued: never before the
    line was first paid for (a new line is pending until then; its profile is only held)."""
    return line.status != "pending"


def _tell(order: EsimOrder) -> None:
    """Email the customer their activation code once the order has one (after the commit)."""
    if order.line_id and order.reason != EsimOrder.Reason.POOL and order.status == EsimOrder.Status.RELEASED:
        transaction.on_commit(lambda: send_esim_ready.enqueue(order.pk))


def _client() -> es2plus.Es2Client:
    return es2plus.get_client()


def _limit() -> int:
    return settings.REFILL_SMDP["DOWNLOAD_LIMIT"]


def _move(profile: Profile, state: SmdpState, now: datetime) -> None:
    check_transition(SmdpState(profile.smdp_state), state)
    if profile.smdp_state != state:
        profile.smdp_state, profile.smdp_state_at = state, now


def _new_order(profile: Profile, line: Line | None, reason: str, now: datetime) -> EsimOrder:
    return EsimOrder.objects.create(
        profile=profile,
        line=line,
        reason=reason,
        download_call_id=es2plus.Es2Client.new_call_id(),
        confirm_call_id=es2plus.Es2Client.new_call_id(),
        created_at=now,
    )


def _send(order: EsimOrder, client: es2plus.Es2Client, eid: str = "") -> EsimOrder:
    """DownloadOrder then ConfirmOrder (released at once) for a recorded order; records the
    matching ID. The same calls (same identifiers) may be sent any number of times."""
    profile = order.profile
    try:
        client.download_order(call_id=order.download_call_id, iccid=profile.iccid, eid=eid)
        confirmed = client.confirm_order(call_id=order.confirm_call_id, iccid=profile.iccid, release=True, eid=eid)
    except es2plus.SmdpUnavailable:
        raise  # left "ordering": esim_orders_resume sends the same calls again
    except es2plus.Es2Error as exc:
        now = timezone.now()
        with transaction.atomic():
            EsimOrder.objects.filter(pk=order.pk, status=EsimOrder.Status.ORDERING).update(
                status=EsimOrder.Status.FAILED, error_code=exc.code, finished_at=now
            )
        order.refresh_from_db()
        raise
    now = timezone.now()
    with transaction.atomic():
        order = EsimOrder.objects.select_for_update().select_related("profile").get(pk=order.pk)
        if order.status != EsimOrder.Status.ORDERING:
            return order  # finished by someone else meanwhile
        profile = Profile.objects.select_for_update().get(pk=order.profile_id)
        if SmdpState(profile.smdp_state) not in (SmdpState.ALLOCATED, SmdpState.LINKED, SmdpState.CONFIRMED):
            _move(profile, SmdpState.LINKED if eid else SmdpState.ALLOCATED, now)
        _move(profile, SmdpState.RELEASED, now)
        profile.save(update_fields=["smdp_state", "smdp_state_at"])
        order.profile = profile
        order.matching_id = confirmed.matching_id
        order.smdp_address = confirmed.smdp_address or settings.REFILL_SMDP["ADDRESS"]
        order.eid = confirmed.eid or eid
        order.status, order.released_at = EsimOrder.Status.RELEASED, now
        order.save(update_fields=["matching_id", "smdp_address", "eid", "status", "released_at"])
    logger.info("eSIM order %s released for %s (%s)", order.pk, profile.iccid, order.activation_code.masked)
    return order


def _ready(profile_type: str):
    """Orders released in advance for nobody yet, oldest first, locked as they are taken."""
    return (
        EsimOrder.objects.select_for_update(skip_locked=True)
        .filter(
            reason=EsimOrder.Reason.POOL,
            line__isnull=True,
            status=EsimOrder.Status.RELEASED,
            profile__line__isnull=True,
            profile__profile_type=profile_type,
        )
        .order_by("released_at", "pk")
    )


def _in_stock(profile_type: str):
    """Profiles in stock with no order under way, locked as they are taken."""
    return (
        Profile.objects.select_for_update(skip_locked=True)
        .filter(smdp_state=SmdpState.AVAILABLE, line__isnull=True, profile_type=profile_type)
        .exclude(orders__status__in=OPEN)
        .order_by("pk")
    )


def _take_from_pool(line: Line, profile_type: str, now: datetime) -> EsimOrder | None:
    """A profile released in advance (with its matching ID), now assigned to ``line``."""
    with transaction.atomic():
        order = _ready(profile_type).first()
        if order is None:
            return None
        profile = Profile.objects.select_for_update().get(pk=order.profile_id)
        profile.line, profile.assigned_at = line, now
        profile.network_state, profile.network_state_at = NetworkState.ACTIVE, now
        profile.save(update_fields=["line", "assigned_at", "network_state", "network_state_at"])
        order.line, order.reason = line, EsimOrder.Reason.NEW_LINE
        order.save(update_fields=["line", "reason"])
        order.profile = profile
        return order


def _take_from_stock(profile_type: str, line: Line | None, reason: str, now: datetime) -> EsimOrder:
    with transaction.atomic():
        profile = _in_stock(profile_type).first()
        if profile is None:
            raise NoProfileInStock()
        if line is not None:
            profile.line, profile.assigned_at = line, now
            profile.network_state, profile.network_state_at = NetworkState.ACTIVE, now
            profile.save(update_fields=["line", "assigned_at", "network_state", "network_state_at"])
        return _new_order(profile, line, reason, now)


def esim_for_new_line(*, line: Line, profile_type: str, actor=None) -> EsimOrder:
    """Give a new eSIM line its profile: one kept ready if there is one (no SM-DP+ call: its QR is
    there at once), otherwise one from stock, ordered now. The line takes the profile's ICCID."""
    if line.sim_type != Line.SimType.ESIM:
        raise NotAnEsimLine()
    existing = EsimOrder.objects.filter(line=line, status__in=[*OPEN, EsimOrder.Status.INSTALLED]).first()
    if existing is not None:
        _tell(existing)
        return existing  # asked twice: the same order
    now = timezone.now()
    assigned = Profile.objects.filter(line=line).first()
    if assigned is not None:
        # Reserved for the line when it was opened: ordered now, on its first payment.
        try:
            with transaction.atomic():
                order = _new_order(assigned, line, EsimOrder.Reason.NEW_LINE, now)
        except IntegrityError:
            order = EsimOrder.objects.get(profile=assigned, status__in=OPEN)
        order.profile = assigned
    else:
        order = _take_from_pool(line, profile_type, now)
    if order is None:
        order = _take_from_stock(profile_type, line, EsimOrder.Reason.NEW_LINE, now)
    with transaction.atomic():
        Line.objects.filter(pk=line.pk).update(iccid=order.profile.iccid)
        line.iccid = order.profile.iccid
        audit_record(actor=actor, action="esim.assigned", obj=order.profile, data={"line": line.pk})
    if order.status == EsimOrder.Status.ORDERING:
        order = _send(order, _client())
    _tell(order)
    return order


def esim_current_order(line: Line) -> EsimOrder | None:
    """The order the customer's phone uses or last used."""
    return (
        EsimOrder.objects.filter(line=line).exclude(status=EsimOrder.Status.CANCELLED).select_related("profile").first()
    )


@dataclass(frozen=True)
class EsimView:
    """A line's eSIM as its owner sees it (the portal and the API show the same)."""

    order: EsimOrder | None
    profile: Profile | None
    code: ActivationCode | None  # only while it can be installed: released, and the line paid for
    downloads_left: int | None


def esim_view(line: Line) -> EsimView:
    order = esim_current_order(line)
    profile = Profile.objects.filter(line=line).first()
    installable = order is not None and order.status == EsimOrder.Status.RELEASED and esim_code_may_leave(line)
    return EsimView(
        order=order,
        profile=profile,
        code=order.activation_code if installable else None,
        downloads_left=max(_limit() - profile.downloads, 0) if profile else None,
    )


def esim_reissue(*, line: Line, actor=None, reason: str = EsimOrder.Reason.REISSUE) -> EsimOrder:
    """A new activation code for the line's profile (a new phone, or installing it again): the old
    order is cancelled if no phone has downloaded it, and the SM-DP+'s re-download limit is
    checked here first, so the customer is told before anything is asked of it."""
    if line.sim_type != Line.SimType.ESIM:
        raise NotAnEsimLine()
    if not esim_code_may_leave(line):
        raise EsimNotPaid()
    if LineStatus(line.status) in (LineStatus.AGING, LineStatus.AVAILABLE, LineStatus.PORTED_OUT):
        raise ReissueNotAllowed()
    profile = Profile.objects.filter(line=line).first()
    if profile is None:
        raise NoProfileInStock()
    if profile.downloads >= _limit():
        raise es2plus.DownloadLimitReached()
    client = _client()
    old = EsimOrder.objects.filter(profile=profile, status__in=OPEN).first()
    if old is not None and old.status == EsimOrder.Status.DOWNLOADED:
        raise DownloadInProgress()
    if old is not None:
        if not old.cancel_call_id:
            EsimOrder.objects.filter(pk=old.pk, cancel_call_id="").update(cancel_call_id=client.new_call_id())
            old.refresh_from_db()
        if old.status == EsimOrder.Status.RELEASED or old.matching_id:
            client.cancel_order(call_id=old.cancel_call_id, iccid=profile.iccid, available=True)
        elif old.status == EsimOrder.Status.ORDERING:
            # Never answered: finish or undo it at the SM-DP+ with the same calls, then cancel.
            try:
                old = _send(old, client)
                client.cancel_order(call_id=old.cancel_call_id, iccid=profile.iccid, available=True)
            except es2plus.InvalidTransition:
                pass  # nothing was ordered there
        now = timezone.now()
        with transaction.atomic():
            locked = Profile.objects.select_for_update().get(pk=profile.pk)
            if SmdpState(locked.smdp_state) in (SmdpState.ALLOCATED, SmdpState.LINKED, SmdpState.CONFIRMED,
                                                SmdpState.RELEASED):  # fmt: skip
                _move(locked, SmdpState.AVAILABLE, now)
                locked.save(update_fields=["smdp_state", "smdp_state_at"])
            EsimOrder.objects.filter(pk=old.pk, status__in=OPEN).update(
                status=EsimOrder.Status.CANCELLED, finished_at=now
            )
    now = timezone.now()
    try:
        with transaction.atomic():
            order = _new_order(profile, line, reason, now)
            audit_record(actor=actor, action=f"esim.{reason}", obj=profile, data={"line": line.pk, "order": order.pk})
    except IntegrityError:
        raise DownloadInProgress() from None  # another re-issue of this line at the same moment
    order = _send(order, client)
    _tell(order)
    return order


def esim_pool_fill(*, low_water: int | None = None) -> int:
    """Keep ``low_water`` released profiles ready per profile type in stock; returns how many were
    ordered now. Safe to run twice or on two machines (stock rows are taken with SKIP LOCKED)."""
    low_water = settings.REFILL_SMDP["POOL_LOW_WATER"] if low_water is None else low_water
    ready = dict(
        EsimOrder.objects.filter(
            reason=EsimOrder.Reason.POOL,
            line__isnull=True,
            status__in=[EsimOrder.Status.ORDERING, EsimOrder.Status.RELEASED],
        )
        .values("profile__profile_type")
        .annotate(n=Count("pk"))
        .values_list("profile__profile_type", "n")
    )
    types = (
        Profile.objects.filter(smdp_state=SmdpState.AVAILABLE, line__isnull=True)
        .values_list("profile_type", flat=True)
        .distinct()
    )
    client, ordered = _client(), 0
    for profile_type in sorted(set(types)):
        for _missing in range(max(low_water - ready.get(profile_type, 0), 0)):
            try:
                order = _take_from_stock(profile_type, None, EsimOrder.Reason.POOL, timezone.now())
            except NoProfileInStock:
                break
            try:
                _send(order, client)
            except es2plus.SmdpUnavailable:
                logger.warning("eSIM pool: the SM-DP+ is not answering; %s left for the next run", profile_type)
                return ordered
            except es2plus.Es2Error as exc:
                logger.warning("eSIM pool: profile %s refused (%r)", order.profile.iccid, exc)
                continue
            ordered += 1
    return ordered


def esim_orders_resume(*, older_than_seconds: int = 60) -> int:
    """Send again the calls of orders left half-way (a crash, or an SM-DP+ that did not answer)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    client, done = _client(), 0
    for order in EsimOrder.objects.filter(status=EsimOrder.Status.ORDERING, created_at__lt=cutoff).select_related(
        "profile"
    ):
        try:
            _tell(_send(order, client, order.eid))
            done += 1
        except es2plus.Es2Error as exc:
            logger.warning("eSIM order %s not finished: %r", order.pk, exc)
    return done


def esim_profiles_follow_lines() -> int:
    """Keep each assigned profile's network state in step with its line's lifecycle."""
    wanted = {
        NetworkState.INACTIVE: [LineStatus.PENDING],  # not paid for yet
        NetworkState.ACTIVE: [LineStatus.ACTIVE],
        NetworkState.BARRED: [LineStatus.GRACE, LineStatus.SUSPENDED, LineStatus.DEACTIVATED, LineStatus.RETAINED],
        NetworkState.RETIRED: [LineStatus.AGING, LineStatus.AVAILABLE, LineStatus.PORTED_OUT],
    }
    now, changed = timezone.now(), 0
    for state, statuses in wanted.items():
        changed += Profile.objects.filter(Q(line__status__in=statuses) & ~Q(network_state=state)).update(
            network_state=state, network_state_at=now
        )
    return changed


# New eSIM lines bought in the portal.


class NoNumberAvailable(RefillError):
    code = "no_number_available"
    message = _("This number is no longer available. Please choose another one.")


UNPAID_KEPT_FOR = timedelta(hours=24)


def esim_line_open(*, customer, market, plan, msisdn: str = "", actor=None) -> Line:
    """A new eSIM line for ``customer``, waiting for its first payment: a number from the market's
    pool (``msisdn``, or the next one) and an eSIM profile are held for it. One released in advance
    is taken if there is one, so that the activation code is there as soon as it is paid. Nothing
    is held when either is missing."""
    now = timezone.now()
    profile_type = settings.REFILL_ESIM_PROFILE_TYPE
    with transaction.atomic():
        numbers = PoolNumber.objects.select_for_update(skip_locked=True).filter(
            market=market, status=PoolNumber.Status.AVAILABLE
        )
        number = (numbers.filter(msisdn=msisdn) if msisdn else numbers.order_by("available_since", "pk")).first()
        if number is None:
            raise NoNumberAvailable()
        ready = _ready(profile_type).first()
        profile = (
            Profile.objects.select_for_update().get(pk=ready.profile_id) if ready else _in_stock(profile_type).first()
        )
        if profile is None:
            raise NoProfileInStock()
        number.status = PoolNumber.Status.ASSIGNED
        number.save(update_fields=["status"])
        line = Line.objects.create(
            msisdn=number.msisdn, iccid=profile.iccid, sim_type=Line.SimType.ESIM, owner=customer, market=market,
            plan=plan, status=LineStatus.PENDING, created_at=now,
        )  # fmt: skip
        profile.line, profile.assigned_at = line, now
        profile.save(update_fields=["line", "assigned_at"])
        if ready is not None:
            ready.line, ready.reason = line, EsimOrder.Reason.NEW_LINE
            ready.save(update_fields=["line", "reason"])
        audit_record(actor=actor, action="line.opened", obj=line, data={"msisdn": line.msisdn, "iccid": profile.iccid})
    return line


def esim_deliver_new_lines(line_ids: list[int]) -> int:
    """After a new eSIM line's first payment: its profile goes on the network, is ordered (unless it
    was released in advance) and its activation code is emailed; a line that cannot get one now is
    recorded as waiting (``newlines``). Safe to run again."""
    delivered = 0
    now = timezone.now()
    for line in Line.objects.filter(pk__in=line_ids, sim_type=Line.SimType.ESIM):
        Profile.objects.filter(line=line).exclude(network_state=NetworkState.ACTIVE).update(
            network_state=NetworkState.ACTIVE, network_state_at=now
        )
        try:
            esim_for_new_line(line=line, profile_type=settings.REFILL_ESIM_PROFILE_TYPE)
            delivered += 1
        except es2plus.SmdpUnavailable:
            logger.warning("line %s: the SM-DP+ is not answering; esim_orders_resume will finish it", line.pk)
        except (NoProfileInStock, es2plus.Es2Error) as refused:
            # Paid for, and nothing to give it now: it waits (the customer and staff are told) and
            # esim_waiting_lines_deliver tries again when profiles arrive. The task itself succeeds.
            from .newlines import esim_wait_record

            esim_wait_record(line=line, reason=refused.code)
    return delivered


def esim_unpaid_lines_release(*, now: datetime | None = None) -> int:
    """New lines not paid within a day give back their number (to the pool, available at once:
    nobody used it) and their eSIM profile (to stock, or to the ready pool if it was released)."""
    now = now or timezone.now()
    stale = Line.objects.filter(status=LineStatus.PENDING, created_at__lt=now - UNPAID_KEPT_FOR).exclude(
        orders__status=Order.Status.PAID
    ).exclude(orders__payments__status__in=[Payment.Status.PENDING, Payment.Status.UNKNOWN,
                                            Payment.Status.REQUIRES_ACTION])  # fmt: skip
    released = 0
    for candidate in stale.values_list("pk", flat=True):
        with transaction.atomic():
            line = Line.objects.select_for_update().get(pk=candidate)
            if line.status != LineStatus.PENDING:
                continue
            line_transition(line=line, target=LineStatus.AVAILABLE, cause="not_paid")
            line.save(update_fields=["status", "status_changed_at"])
            PoolNumber.objects.filter(msisdn=line.msisdn, status=PoolNumber.Status.ASSIGNED).update(
                status=PoolNumber.Status.AVAILABLE, available_since=now
            )
            Order.objects.filter(line=line, status__in=[Order.Status.AWAITING_PAYMENT, Order.Status.FAILED]).update(
                status=Order.Status.CANCELLED
            )
            profile = Profile.objects.select_for_update().filter(line=line).first()
            if profile is not None:
                profile.line, profile.assigned_at = None, None
                profile.network_state, profile.network_state_at = NetworkState.INACTIVE, now
                profile.save(update_fields=["line", "assigned_at", "network_state", "network_state_at"])
                EsimOrder.objects.filter(profile=profile, line=line, status=EsimOrder.Status.RELEASED).update(
                    line=None, reason=EsimOrder.Reason.POOL
                )
            audit_record(actor=None, action="line.released_unpaid", obj=line, data={"msisdn": line.msisdn})
            released += 1
    return released
