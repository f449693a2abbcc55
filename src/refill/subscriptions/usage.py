"""Usage from the network: records applied once each to the line's buckets, first-expiring-first;
usage no bucket covers is overage (blocked, or throttled for a plan with unlimited data). Crossing
75 %, 90 % or 100 % of a bucket owes the customer their usage notice at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.bulk import bulk_insert, bulk_set, unsaved

from .models import Bucket, UsageRecord

MAX_BATCH = 1000
KINDS = set(Bucket.Kind.values)


class BadUsageBatch(RefillError):
    code = "bad_usage_batch"
    message = _("Send between 1 and 1,000 usage records at a time.")


@dataclass(frozen=True)
class Usage:
    record_id: str
    msisdn: str
    kind: str
    amount: int
    occurred_at: datetime


@dataclass(frozen=True)
class Outcome:
    record_id: str
    status: str  # applied, duplicate, unknown_line, invalid
    overage: int = 0
    action: str = ""  # for overage: blocked or throttled


def _invalid(usage: Usage) -> bool:
    return (
        not usage.record_id
        or len(usage.record_id) > 64
        or usage.kind not in KINDS
        or usage.amount < 0
        or timezone.is_naive(usage.occurred_at)
    )


def usage_apply(records: list[Usage], *, now: datetime | None = None) -> list[Outcome]:
    """Apply a batch of network records in one transaction and a few statements. Records already
    seen (by id) change nothing; each answer says what became of its record."""
    from refill.notifications.reminders import usage_notices_for

    if not 1 <= len(records) <= MAX_BATCH:
        raise BadUsageBatch()
    now = now or timezone.now()
    outcomes: dict[int, Outcome] = {}
    valid = []
    seen_in_batch: set[str] = set()
    for index, usage in enumerate(records):
        if _invalid(usage):
            outcomes[index] = Outcome(usage.record_id[:64], "invalid")
        elif usage.record_id in seen_in_batch:
            outcomes[index] = Outcome(usage.record_id, "duplicate")
        else:
            seen_in_batch.add(usage.record_id)
            valid.append((index, usage))
    touched: list[int] = []
    with transaction.atomic():
        known = set(
            UsageRecord.objects.filter(record_id__in=[u.record_id for _, u in valid]).values_list(
                "record_id", flat=True
            )
        )
        fresh = []
        for index, usage in valid:
            if usage.record_id in known:
                outcomes[index] = Outcome(usage.record_id, "duplicate")
            else:
                fresh.append((index, usage))
        # Plain rows, not model objects: a batch reads a few thousand of them.
        lines = {
            msisdn: (pk, throttle)
            for msisdn, pk, throttle in Line.objects.filter(msisdn__in={u.msisdn for _, u in fresh})
            .exclude(status__in=["available", "ported_out"])
            .values_list("msisdn", "pk", "plan__throttle_after_mb")
        }
        mine = [(index, usage) for index, usage in fresh if usage.msisdn in lines]
        for index, usage in fresh:
            if usage.msisdn not in lines:
                outcomes[index] = Outcome(usage.record_id, "unknown_line")
        if mine:
            earliest = min(u.occurred_at for _, u in mine)
            latest = max(u.occurred_at for _, u in mine)
            wanted = {(lines[u.msisdn][0], u.kind) for _, u in mine}
            rows = (
                Bucket.objects.select_for_update()
                .filter(line_id__in={line for line, _ in wanted}, kind__in={kind for _, kind in wanted})
                .filter(valid_from__lte=latest, expires_at__gt=earliest)
                .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=earliest))
                .order_by("pk")  # the one lock order
                .values_list(
                    "pk", "line_id", "kind", "granted", "used", "unlimited", "valid_from", "expires_at", "revoked_at"
                )  # fmt: skip
            )
            by_line: dict[tuple[int, str], list[list]] = defaultdict(list)
            for row in sorted(rows, key=lambda r: (r[7], r[0])):  # first to expire first
                if (row[1], row[2]) in wanted:
                    by_line[(row[1], row[2])].append(list(row))
            changed: dict[int, list] = {}
            stored = []
            for index, usage in sorted(mine, key=lambda pair: pair[1].occurred_at):
                line_id, throttle = lines[usage.msisdn]
                left, throttled_over = usage.amount, 0
                if usage.kind != Bucket.Kind.DATA:
                    throttle = None
                for bucket in by_line[(line_id, usage.kind)]:
                    if left == 0:
                        break
                    pk, _, _, granted, used, unlimited, valid_from, expires_at, revoked_at = bucket
                    if not (valid_from <= usage.occurred_at < expires_at) or (
                        revoked_at is not None and revoked_at <= usage.occurred_at
                    ):
                        continue
                    take = left if unlimited else min(left, granted - used)
                    if take > 0:
                        bucket[4] = used = used + take
                        left -= take
                        changed[pk] = bucket
                        if unlimited and throttle is not None and used > throttle:
                            # Unlimited data past the fair-use mark: still carried, at a lower speed.
                            throttled_over += min(take, used - throttle)
                action = "blocked" if left else ("throttled" if throttled_over else "")
                left += throttled_over
                stored.append(
                    unsaved(
                        UsageRecord,
                        record_id=usage.record_id,
                        line_id=line_id,
                        kind=usage.kind,
                        amount=usage.amount,
                        occurred_at=usage.occurred_at,
                        overage=left,
                        received_at=now,
                    )  # fmt: skip
                )
                outcomes[index] = Outcome(usage.record_id, "applied", left, action)
            bulk_set([unsaved(Bucket, id=pk, used=bucket[4]) for pk, bucket in changed.items()], ["used"])
            bulk_insert(stored)
            touched = list(changed)
        if touched:
            usage_notices_for(touched, now=now)
    return [outcomes[index] for index in range(len(records))]


def usage_daily(line: Line, *, days: int = 30, now: datetime | None = None) -> list[dict]:
    """Usage per day (in the customer's time zone) and kind, for charts: the last ``days`` days."""
    import zoneinfo

    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(line.owner.time_zone or line.market.time_zone)
    since = (now.astimezone(zone) - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        UsageRecord.objects.filter(line=line, occurred_at__gte=since, occurred_at__lte=now)
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("day", "kind")
        .annotate(total=Sum("amount"))
        .order_by("day", "kind")
    )
    days_out: dict = {}
    for row in rows:
        entry = days_out.setdefault(row["day"], {"date": row["day"], "data": 0, "voice": 0, "sms": 0})
        entry[row["kind"]] = row["total"]
    return list(days_out.values())
