from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from refill.catalog.models import Market
from refill.domain.lifecycle import LineStatus, check_transition
from refill.events import emit_many
from refill.ops.bulk import bulk_insert, unsaved

from .models import Line, LineStatusChange, PoolNumber


def line_move(*, line: Line, target: LineStatus, cause: str, reference: str = "") -> LineStatusChange | None:
    """Move a locked line along the lifecycle; returns the (unsaved) record of why, or None if it
    is already there. ``line_transition`` saves it; batch work saves many at once."""
    current = LineStatus(line.status)
    if current == target:
        return None
    check_transition(current, target)
    line.status = target
    line.status_changed_at = timezone.now()
    return unsaved(LineStatusChange, line=line, from_status=current, to_status=target, cause=cause, reference=reference)


def line_transition(*, line: Line, target: LineStatus, cause: str, reference: str = "") -> bool:
    """Move a locked line along the lifecycle and record why. Returns False if already there."""
    change = line_move(line=line, target=target, cause=cause, reference=reference)
    if change is not None:
        line_changes_save([change])
    return change is not None


def line_changes_save(changes: list[LineStatusChange]) -> None:
    """Record moves ``line_move`` made (in one INSERT) and say so: one ``line.status_changed``
    event per move (written only if some handler takes it: a partner webhook endpoint)."""
    bulk_insert(changes)
    _changes_emit([(c.line_id, c.line.msisdn, c.from_status, c.to_status, c.cause, c.at) for c in changes])


def _changes_emit(moves: list[tuple]) -> None:
    """The ``line.status_changed`` events of (line id, number, from, to, cause, at) moves; the
    payload is what partners' webhook has always carried."""
    if moves:
        emit_many(
            "line.status_changed",
            [
                {"line_id": pk, "msisdn": msisdn, "from_status": source, "to_status": target, "cause": cause, "at": at}
                for pk, msisdn, source, target, cause, at in moves
            ],
        )


# The timers of domain.md, each measured from the end of the last paid period: (from, to, cause,
# the market's days that must have passed since the period end).
TIMED_TRANSITIONS = [
    (LineStatus.GRACE, LineStatus.SUSPENDED, "grace_ended", ("grace_days",)),
    (LineStatus.SUSPENDED, LineStatus.DEACTIVATED, "suspension_ended", ("grace_days", "suspend_days")),
    (
        LineStatus.DEACTIVATED,
        LineStatus.AGING,
        "reactivation_window_ended",
        ("grace_days", "suspend_days", "reactivation_days"),
    ),
    (
        LineStatus.AGING,
        LineStatus.AVAILABLE,
        "number_aged",
        ("grace_days", "suspend_days", "reactivation_days", "aging_days"),
    ),
]


def line_lapse_catch_up(*, line: Line, now: datetime, cause: str, reference: str = "") -> int:
    """Apply to one locked line, at once, the lifecycle transitions the sweep would apply to it
    at ``now``: for a change that ends its paid time (a refund) the line's state follows in the same
    transaction instead of a minute later. The first move (to grace) is recorded with ``cause`` and
    ``reference``; any timer already run out after it with its own cause, as the sweep does. Only
    what is due is applied, so calling it again, or the sweep afterwards, changes nothing more."""
    moved = 0
    steps = [(LineStatus.GRACE, cause, reference)] + [(target, timed, "") for _, target, timed, _ in TIMED_TRANSITIONS]
    for target, step_cause, step_reference in steps:
        if not _still_due(line, target, now):
            continue
        source = line.status
        if step_cause != cause and moved == 0:
            step_cause, step_reference = cause, reference
        line_transition(line=line, target=target, cause=step_cause, reference=step_reference)
        line.save(update_fields=["status", "status_changed_at"])
        _pool_follow([(line.pk, source, line.msisdn, line.market_id)], target, now)
        moved += 1
    return moved


def lines_lapse_sweep(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Apply every lifecycle transition that is due, and only those, so running the sweep twice,
    late, or on several machines changes nothing more; after downtime one pass catches up, step
    by step in order (each step recorded with its cause):

    - active or retained lines whose paid period ended go to grace;
    - grace → suspended → deactivated → aging → available by the market's timers (days after the
      period end: grace, + suspension, + reactivation window, + number aging); a number entering
      aging is put in the pool, where it becomes available again when aging ends;
    - at a period boundary, a line whose running period is the retention plan becomes retained,
      and a retained line whose running period is a base plan becomes active again.

    The timed transitions are applied in sets: each batch of due lines is locked (skipping lines
    another worker holds), moved with one UPDATE and recorded with one INSERT.
    """
    now = now or timezone.now()
    moved = 0
    ended = Line.objects.filter(status__in=[LineStatus.ACTIVE, LineStatus.RETAINED], period_end__lte=now)
    moved += _move_set(ended, LineStatus.GRACE, "period_ended", now, batch)
    for market in Market.objects.all():
        for source, target, cause, timers in TIMED_TRANSITIONS:
            days = sum(getattr(market, timer) for timer in timers)
            due = Line.objects.filter(market=market, status=source, period_end__lte=now - timedelta(days=days))
            moved += _move_set(due, target, cause, now, batch)
    moved += _period_boundaries(now, batch)
    return moved


def _move_set(due, target: LineStatus, cause: str, now: datetime, batch: int) -> int:
    """Move the lines of ``due`` to ``target`` in batches."""
    if connection.vendor == "postgresql":
        return _move_set_postgres(due, target, cause, batch)
    moved = 0
    while True:
        with transaction.atomic():
            locked = due.order_by("pk").select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked
            )
            rows = list(locked.values_list("pk", "status", "msisdn", "market_id")[:batch])
            if not rows:
                return moved
            ids = [pk for pk, *_ in rows]
            sources = {status for _, status, *_ in rows}
            # Recorded at the moment it happens; ``now`` only decides what is due.
            at = timezone.now()
            changed = Line.objects.filter(pk__in=ids, status__in=sources).update(status=target, status_changed_at=at)
            if changed != len(ids):
                # Another process moved some of them first (only possible without row locks, on
                # SQLite): undo this batch and take the lines one at a time instead.
                transaction.set_rollback(True)
                return moved + _move_each(ids, target, cause, now)
            LineStatusChange.objects.bulk_create(
                LineStatusChange(line_id=pk, from_status=status, to_status=target, cause=cause, at=at)
                for pk, status, *_ in rows
            )
            _changes_emit([(pk, msisdn, status, target, cause, at) for pk, status, msisdn, _ in rows])
            _pool_follow(rows, target, at)
            moved += changed
        if len(rows) < batch:
            return moved


def _move_set_postgres(due, target: LineStatus, cause: str, batch: int) -> int:
    """The same as the general path in one statement per batch: lock the due lines (skipping those
    another worker holds), move them, record each move and let their numbers follow, together."""
    q = connection.ops.quote_name
    line, change, pool = (q(model._meta.db_table) for model in (Line, LineStatusChange, PoolNumber))
    moved = 0
    while True:
        with transaction.atomic():
            at = timezone.now()
            locked = due.order_by("pk").values("id", "status").select_for_update(skip_locked=True)[:batch]
            inner, inner_params = locked.query.sql_with_params()
            follow, follow_params = "", []
            if target == LineStatus.AGING:
                follow = (
                    f", pooled AS (INSERT INTO {pool} (msisdn, market_id, status, released_line_id) "
                    "SELECT msisdn, market_id, %s, id FROM moved ON CONFLICT (msisdn) DO UPDATE SET "
                    "market_id = excluded.market_id, status = excluded.status, "
                    "released_line_id = excluded.released_line_id RETURNING 1)"
                )
                follow_params = [PoolNumber.Status.AGING]
            elif target == LineStatus.AVAILABLE:
                follow = (
                    f", freed AS (UPDATE {pool} AS p SET status = %s, available_since = %s FROM moved "
                    "WHERE p.msisdn = moved.msisdn RETURNING 1)"
                )
                follow_params = [PoolNumber.Status.AVAILABLE, at]
            sql = (
                f"WITH due AS ({inner}), "
                f"moved AS (UPDATE {line} AS l SET status = %s, status_changed_at = %s FROM due "
                "WHERE l.id = due.id RETURNING l.id, l.msisdn, l.market_id, due.status AS from_status), "
                f"changes AS (INSERT INTO {change} (line_id, from_status, to_status, cause, reference, at) "
                "SELECT id, from_status, %s, %s, '', %s FROM moved RETURNING 1)"
                # Every data-modifying CTE runs to completion whether read or not (PostgreSQL).
                f"{follow} SELECT id, msisdn, from_status FROM moved ORDER BY id"
            )
            params = [*inner_params, target, at, target, cause, at, *follow_params]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                moves = cursor.fetchall()
            count = len(moves)
            _changes_emit([(pk, msisdn, source, target, cause, at) for pk, msisdn, source in moves])
        moved += count
        if count < batch:
            return moved


def _move_each(ids: list[int], target: LineStatus, cause: str, now: datetime) -> int:
    moved = 0
    for pk in ids:
        with transaction.atomic():
            line = Line.objects.select_related("market").select_for_update(of=("self",)).get(pk=pk)
            if _still_due(line, target, now):
                source = line.status
                line_transition(line=line, target=target, cause=cause)
                line.save(update_fields=["status", "status_changed_at"])
                _pool_follow([(line.pk, source, line.msisdn, line.market_id)], target, now)
                moved += 1
    return moved


def _pool_follow(rows, target: LineStatus, now: datetime) -> None:
    """Numbers follow their lines: into the pool (aging) when the reactivation window ends, and
    available for new activations when aging ends."""
    if target == LineStatus.AGING:
        PoolNumber.objects.bulk_create(
            [
                PoolNumber(msisdn=msisdn, market_id=market_id, status=PoolNumber.Status.AGING, released_line_id=pk)
                for pk, _, msisdn, market_id in rows
            ],
            update_conflicts=True,
            unique_fields=["msisdn"],
            update_fields=["market", "status", "released_line"],
        )
    elif target == LineStatus.AVAILABLE:
        PoolNumber.objects.filter(msisdn__in=[msisdn for _, _, msisdn, _ in rows]).update(
            status=PoolNumber.Status.AVAILABLE, available_since=now
        )


def _period_boundaries(now: datetime, batch: int) -> int:
    due: list[tuple[int, LineStatus, str]] = []
    running = {"periods__start__lte": now, "periods__end__gt": now}
    for pk in Line.objects.filter(status=LineStatus.ACTIVE, periods__plan__kind="retention", **running).values_list(
        "pk", flat=True
    )[:batch]:
        due.append((pk, LineStatus.RETAINED, "retention_period_started"))
    for pk in Line.objects.filter(status=LineStatus.RETAINED, periods__plan__kind="base", **running).values_list(
        "pk", flat=True
    )[:batch]:
        due.append((pk, LineStatus.ACTIVE, "base_period_started"))
    moved = 0
    for pk, target, cause in due:
        moved += _move_each([pk], target, cause, now)
    return moved


def number_assign(*, market) -> str | None:
    """Take an available number from the pool for a new activation (each number to one taker)."""
    with transaction.atomic():
        number = (
            PoolNumber.objects.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
            .filter(market=market, status=PoolNumber.Status.AVAILABLE)
            .order_by("available_since", "pk")
            .first()
        )
        if number is None:
            return None
        taken = PoolNumber.objects.filter(pk=number.pk, status=PoolNumber.Status.AVAILABLE).update(
            status=PoolNumber.Status.ASSIGNED
        )
        return number.msisdn if taken else None


def _still_due(line: Line, target: LineStatus, now: datetime) -> bool:
    status = LineStatus(line.status)
    if target == LineStatus.GRACE:
        return (
            status in (LineStatus.ACTIVE, LineStatus.RETAINED)
            and line.period_end is not None
            and line.period_end <= now
        )
    for source, timed_target, _cause, timers in TIMED_TRANSITIONS:
        if target == timed_target:
            days = sum(getattr(line.market, timer) for timer in timers)
            return status == source and line.period_end is not None and line.period_end + timedelta(days=days) <= now
    current = line.periods.filter(start__lte=now, end__gt=now).select_related("plan").first()
    if current is None:
        return False
    if target == LineStatus.RETAINED:
        return status == LineStatus.ACTIVE and current.plan.kind == "retention"
    return status == LineStatus.RETAINED and current.plan.kind == "base"
