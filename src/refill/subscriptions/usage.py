"""Usage from the network: records applied once each to the line's buckets, first-expiring-first;
usage no bucket covers is overage (blocked, or throttled for a plan with unlimited data). Crossing
75 %, 90 % or 100 % of a bucket owes the customer their usage notice at once."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.catalog.models import Plan
from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.bulk import aware

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
    """Apply a batch of network records in one transaction and a few statements (plain SQL: a
    batch is a thousand records, and the ORM's cost per row would be most of the work). Records
    already seen (by id) change nothing; each answer says what became of its record."""
    from refill.notifications.reminders import usage_notices_for

    if not 1 <= len(records) <= MAX_BATCH:
        raise BadUsageBatch()
    now = now or timezone.now()
    outcomes: list[Outcome | None] = [None] * len(records)
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
    if not valid:
        return outcomes
    with transaction.atomic(), connection.cursor() as cursor:
        sql = _Sql(cursor)
        lines = sql.lines({usage.msisdn for _, usage in valid})
        held = [(index, usage) for index, usage in valid if usage.msisdn in lines]
        elsewhere = [(index, usage) for index, usage in valid if usage.msisdn not in lines]
        if elsewhere:
            known = sql.known([usage.record_id for _, usage in elsewhere])
            for index, usage in elsewhere:
                outcomes[index] = Outcome(usage.record_id, "duplicate" if usage.record_id in known else "unknown_line")
        # Stored first, once each (the unique record id decides between racing batches), then taken
        # from the buckets; a record whose id was already stored is a duplicate.
        fresh = sql.insert(held, lines, now)
        mine = []
        for index, usage in held:
            if usage.record_id in fresh:
                mine.append((index, usage))
            else:
                outcomes[index] = Outcome(usage.record_id, "duplicate")
        if mine:
            crossed = _take(sql, mine, lines, outcomes)
            if crossed:
                usage_notices_for(crossed, now=now)
    return outcomes


def _take(sql: _Sql, mine: list[tuple[int, Usage]], lines: dict, outcomes: list) -> list[int]:
    """Take each record from its line's buckets valid at its time, first to expire first, in the
    order the records happened; what is left is overage. Returns the buckets that crossed a usage
    notice threshold."""
    from refill.notifications.reminders import USAGE_THRESHOLDS

    earliest = min(usage.occurred_at for _, usage in mine)
    latest = max(usage.occurred_at for _, usage in mine)
    wanted = {(lines[usage.msisdn][0], usage.kind) for _index, usage in mine}
    by_line: dict[tuple[int, str], list[list]] = defaultdict(list)
    # [pk, line, kind, granted, used, unlimited, valid_from, expires_at, revoked_at, used before]
    for row in sorted(sql.buckets(wanted, earliest, latest), key=lambda r: (r[7], r[0])):
        if (row[1], row[2]) in wanted:
            by_line[(row[1], row[2])].append([*row, row[4]])
    changed: dict[int, list] = {}
    overages = []
    for index, usage in sorted(mine, key=lambda pair: pair[1].occurred_at):
        line_id, throttle = lines[usage.msisdn]
        left, throttled_over, at = usage.amount, 0, usage.occurred_at
        if usage.kind != Bucket.Kind.DATA:
            throttle = None
        for bucket in by_line[(line_id, usage.kind)]:
            if left == 0:
                break
            if not (bucket[6] <= at < bucket[7]) or (bucket[8] is not None and bucket[8] <= at):
                continue
            granted, used, unlimited = bucket[3], bucket[4], bucket[5]
            take = left if unlimited else min(left, granted - used)
            if take > 0:
                bucket[4] = used = used + take
                left -= take
                changed[bucket[0]] = bucket
                if unlimited and throttle is not None and used > throttle:
                    # Unlimited data past the fair-use mark: still carried, at a lower speed.
                    throttled_over += min(take, used - throttle)
        action = "blocked" if left else ("throttled" if throttled_over else "")
        left += throttled_over
        if left:
            overages.append((usage.record_id, left))
        outcomes[index] = Outcome(usage.record_id, "applied", left, action)
    sql.set_used([(pk, bucket[4]) for pk, bucket in changed.items()])
    sql.set_overage(overages)
    return [
        pk
        for pk, bucket in changed.items()
        if not bucket[5]
        and bucket[3] > 0
        and any(bucket[9] * 100 < bucket[3] * t <= bucket[4] * 100 for t in USAGE_THRESHOLDS)
    ]


class _Sql:
    """The statements of usage_apply, for PostgreSQL (arrays) and SQLite (rows of values)."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"
        q = connection.ops.quote_name
        self.line, self.plan, self.bucket, self.record = (
            q(model._meta.db_table) for model in (Line, Plan, Bucket, UsageRecord)
        )

    def _in(self, values, cast: str = "text") -> tuple[str, list]:
        """``IN`` a set of values: on PostgreSQL ``= ANY`` of one array literal (psycopg would dump a
        list value by value, in Python; the planner uses the index for it), on SQLite one
        placeholder each."""
        values = list(values)
        if self.postgres:
            quoted = ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
            return f"= ANY(%s::{cast}[])", ["{" + quoted + "}"]
        return f"IN ({', '.join(['%s'] * len(values))})", values

    def _when(self, value: datetime):
        return value if self.postgres else connection.ops.adapt_datetimefield_value(value)

    def lines(self, msisdns: set[str]) -> dict[str, tuple[int, int | None]]:
        where, params = self._in(msisdns)
        self.cursor.execute(
            f"SELECT l.msisdn, l.id, p.throttle_after_mb FROM {self.line} l "
            f"LEFT JOIN {self.plan} p ON p.id = l.plan_id "
            f"WHERE l.msisdn {where} AND l.status NOT IN ('available', 'ported_out')",
            params,
        )
        return {msisdn: (pk, throttle) for msisdn, pk, throttle in self.cursor.fetchall()}

    def known(self, record_ids: list[str]) -> set[str]:
        where, params = self._in(record_ids)
        self.cursor.execute(f"SELECT record_id FROM {self.record} WHERE record_id {where}", params)
        return {row[0] for row in self.cursor.fetchall()}

    def insert(self, held: list[tuple[int, Usage]], lines: dict, now: datetime) -> set[str]:
        """Store the records not stored before (in record id order: one lock order for racing
        batches); returns the ids stored now."""
        if not held:
            return set()
        columns = "(record_id, line_id, kind, amount, occurred_at, overage, received_at)"
        if self.postgres:
            rows = sorted(
                (usage.record_id, lines[usage.msisdn][0], usage.kind, usage.amount, usage.occurred_at.isoformat())
                for _, usage in held
            )
            self.cursor.execute(
                f"INSERT INTO {self.record} {columns} SELECT r, l, k, a, o, 0, %s "
                "FROM json_to_recordset(%s::json) AS v(r text, l bigint, k text, a bigint, o timestamptz) "
                "ORDER BY r ON CONFLICT (record_id) DO NOTHING RETURNING record_id",
                [now, json.dumps([dict(zip("rlkao", row, strict=True)) for row in rows])],
            )
            return {row[0] for row in self.cursor.fetchall()}
        rows = sorted(
            (usage.record_id, lines[usage.msisdn][0], usage.kind, usage.amount, self._when(usage.occurred_at))
            for _, usage in held
        )
        stored: set[str] = set()
        when = self._when(now)
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            self.cursor.execute(
                f"INSERT INTO {self.record} {columns} VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, 0, %s)"] * len(chunk))
                + " ON CONFLICT (record_id) DO NOTHING RETURNING record_id",
                [value for row in chunk for value in (*row, when)],
            )
            stored.update(row[0] for row in self.cursor.fetchall())
        return stored

    def buckets(self, wanted: set[tuple[int, str]], earliest: datetime, latest: datetime) -> list[tuple]:
        """The buckets of these (line, kind) pairs that may cover the batch, locked in primary-key
        order (the one lock order)."""
        if self.postgres:
            pairs = "(line_id, kind) IN (SELECT l, k FROM json_to_recordset(%s::json) AS v(l bigint, k text))"
            params = [json.dumps([{"l": line, "k": kind} for line, kind in wanted])]
        else:
            pairs, params = self._in({line for line, _kind in wanted})
            pairs = f"line_id {pairs}"
        self.cursor.execute(
            "SELECT id, line_id, kind, granted, used, unlimited, valid_from, expires_at, revoked_at "
            f"FROM {self.bucket} WHERE {pairs} AND valid_from <= %s AND expires_at > %s "
            "AND (revoked_at IS NULL OR revoked_at > %s) ORDER BY id" + (" FOR UPDATE" if self.postgres else ""),
            [*params, self._when(latest), self._when(earliest), self._when(earliest)],
        )
        rows = self.cursor.fetchall()
        if self.postgres:
            return rows
        return [
            (pk, line, kind, granted, used, bool(unlimited), aware(start), aware(end), aware(revoked))
            for pk, line, kind, granted, used, unlimited, start, end, revoked in rows
        ]

    def set_used(self, pairs: list[tuple[int, int]]) -> None:
        self._set(self.bucket, "id", "bigint", "used", pairs)

    def set_overage(self, pairs: list[tuple[str, int]]) -> None:
        self._set(self.record, "record_id", "text", "overage", pairs)

    def _set(self, table: str, key: str, key_type: str, column: str, pairs: list[tuple]) -> None:
        """``column`` of the rows whose ``key`` is each pair's first, to its second: one statement."""
        if not pairs:
            return
        if self.postgres:
            self.cursor.execute(
                f"UPDATE {table} AS t SET {column} = v.value FROM json_to_recordset(%s::json) "
                f"AS v(key {key_type}, value bigint) WHERE t.{key} = v.key",
                [json.dumps([{"key": k, "value": value} for k, value in pairs])],
            )
        else:
            self.cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {key} = %s", [(v, k) for k, v in pairs])


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
