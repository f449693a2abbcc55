"""Usage from the network: records applied once each to the line's buckets, first-expiring-first;
usage no bucket covers is overage (blocked, or throttled for a plan with unlimited data). Crossing
75 %, 90 % or 100 % of a bucket owes the customer their usage notice at once."""

from __future__ import annotations

import json
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.catalog.models import Plan
from refill.domain.allowances import USAGE_THRESHOLDS
from refill.errors import RefillError
from refill.events import emit_many
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
            valid.append((index, usage, _micros(usage.occurred_at)))
    if not valid:
        return outcomes
    with transaction.atomic(), connection.cursor() as cursor:
        sql = _Sql(cursor)
        lines = sql.lines({usage.msisdn for _, usage, _at in valid})
        held = [record for record in valid if record[1].msisdn in lines]
        elsewhere = [record for record in valid if record[1].msisdn not in lines]
        if elsewhere:
            known = sql.known([usage.record_id for _, usage, _at in elsewhere])
            for index, usage, _at in elsewhere:
                outcomes[index] = Outcome(usage.record_id, "duplicate" if usage.record_id in known else "unknown_line")
        # Stored first, once each (the unique record id decides between racing batches), then taken
        # from the buckets; a record whose id was already stored is a duplicate.
        fresh = sql.insert(held, lines, now)
        mine = []
        for record in held:
            index, usage, _at = record
            if usage.record_id in fresh:
                mine.append(record)
            else:
                outcomes[index] = Outcome(usage.record_id, "duplicate")
        if mine:
            crossed = _take(sql, mine, lines, outcomes)
            # Who reacts (the customer's usage notice; a network link later) subscribes to these
            # events: usage recording knows none of them. One batched insert per kind.
            if crossed:
                emit_many("bucket.threshold_crossed", crossed, now=now)
                if depleted := [c for c in crossed if c["percent"] == 100]:
                    emit_many("bucket.depleted", depleted, now=now)
    return outcomes


def _micros(value: datetime) -> int:
    """Microseconds since the epoch: compared a thousand times a batch, an int is much cheaper than
    an aware datetime (whose every comparison asks both time zones for their offsets)."""
    return (value - EPOCH) // ONE_MICROSECOND


def _instant(micros: int) -> datetime:
    """The aware datetime of ``micros`` microseconds since the epoch (the inverse of _micros)."""
    return EPOCH + micros * ONE_MICROSECOND


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
NEVER = 2**62


def _take(sql: _Sql, mine: list[tuple[int, Usage, int]], lines: dict, outcomes: list) -> list[dict]:
    """Take each record from its line's buckets valid at its time, first to expire first, in the
    order the records happened; what is left is overage. Returns the buckets that crossed a usage
    notice threshold (the highest crossed, in percent; 100 is a bucket used up), as event rows."""
    timed = sorted(mine, key=itemgetter(2))
    wanted = {(lines[usage.msisdn][0], usage.kind) for _index, usage, _at in mine}
    by_line: dict[tuple[int, str], list[list]] = defaultdict(list)
    # [pk, line, kind, granted, used, unlimited, valid_from, expires_at, revoked_at or NEVER, used
    # before], the times in microseconds since the epoch
    for row in sorted(sql.buckets(wanted, timed[0][2], timed[-1][2]), key=itemgetter(7, 0)):
        if (row[1], row[2]) in wanted:
            by_line[(row[1], row[2])].append([*row, row[4]])
    changed: dict[int, list] = {}
    overages = []
    for index, usage, at in timed:
        line_id, throttle = lines[usage.msisdn]
        left, throttled_over = usage.amount, 0
        if usage.kind != Bucket.Kind.DATA:
            throttle = None
        for bucket in by_line[(line_id, usage.kind)]:
            if left == 0:
                break
            if not (bucket[6] <= at < bucket[7]) or bucket[8] <= at:
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
    crossed = []
    for pk, bucket in changed.items():
        if bucket[5] or bucket[3] <= 0:
            continue
        percent = next((t for t in USAGE_THRESHOLDS if bucket[9] * 100 < bucket[3] * t <= bucket[4] * 100), None)
        if percent is not None:
            crossed.append(
                {"line_id": bucket[1], "bucket_id": pk, "kind": bucket[2], "percent": percent,
                 "granted": bucket[3], "used": bucket[4]}
            )  # fmt: skip
    return crossed


class _Sql:
    """The statements of usage_apply, for PostgreSQL and SQLite (rows of values).

    On PostgreSQL a batch's buckets are joined from a JSON recordset, which the planner takes for
    about a hundred rows, so it probes the buckets' indexes key by key (a thousand probes of hot
    pages). An array would tell it the exact thousand, and on tables below some hundred thousand
    rows it would scan and hash the whole table instead, three times slower. Lines are looked up
    by ``= ANY`` of an array (a hashed filter, cheaper than the join here), and inserts, which join
    nothing, take one array literal a column: cheaper to build and to read than JSON."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"
        q = connection.ops.quote_name
        self.line, self.plan, self.bucket, self.record = (
            q(model._meta.db_table) for model in (Line, Plan, Bucket, UsageRecord)
        )

    @staticmethod
    def _array(values) -> str:
        """A PostgreSQL array literal, built in one join (psycopg would dump a list value by value,
        in Python)."""
        return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"

    def _in(self, values) -> tuple[str, list]:
        """``IN`` a set of values: on PostgreSQL ``= ANY`` of one text array, on SQLite one
        placeholder each."""
        if self.postgres:
            return "= ANY(%s::text[])", [self._array(values)]
        values = list(values)
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

    def insert(self, held: list[tuple[int, Usage, int]], lines: dict, now: datetime) -> set[str]:
        """Store the records not stored before (in record id order: one lock order for racing
        batches); returns the ids stored now."""
        if not held:
            return set()
        columns = "(record_id, line_id, kind, amount, occurred_at, overage, received_at)"
        rows = sorted((usage.record_id, lines[usage.msisdn][0], usage.kind, usage.amount, at) for _, usage, at in held)
        if self.postgres:
            # One array a column, taken in the order sent; the times as microseconds since the epoch
            # (exact: an interval times an integer below 2**53).
            self.cursor.execute(
                f"INSERT INTO {self.record} {columns} "
                "SELECT r, l, k, a, timestamptz 'epoch' + o * interval '1 microsecond', 0, %s "
                "FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::bigint[]) "
                "WITH ORDINALITY AS v(r, l, k, a, o, n) ORDER BY n ON CONFLICT (record_id) DO NOTHING "
                "RETURNING record_id",
                [now, *(self._array(column) for column in zip(*rows, strict=True))],
            )
            return {row[0] for row in self.cursor.fetchall()}
        stored: set[str] = set()
        when = self._when(now)
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            self.cursor.execute(
                f"INSERT INTO {self.record} {columns} VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, 0, %s)"] * len(chunk))
                + " ON CONFLICT (record_id) DO NOTHING RETURNING record_id",
                [
                    value
                    for record_id, line, kind, amount, at in chunk
                    for value in (record_id, line, kind, amount, self._when(_instant(at)), when)
                ],
            )
            stored.update(row[0] for row in self.cursor.fetchall())
        return stored

    def buckets(self, wanted: set[tuple[int, str]], earliest: int, latest: int) -> list[tuple]:
        """The buckets of these (line, kind) pairs that may cover the batch (times in microseconds
        since the epoch, as are the buckets' in the rows), locked in primary-key order (the one
        lock order)."""
        columns = "id, line_id, kind, granted, used, unlimited"
        # Valid at some time of the batch: [earliest, latest].
        window = "AND valid_from <= %s AND expires_at > %s AND (revoked_at IS NULL OR revoked_at > %s)"
        times = [self._when(_instant(at)) for at in (latest, earliest, earliest)]
        if self.postgres:
            pairs = "(line_id, kind) IN (SELECT l, k FROM json_to_recordset(%s::json) AS v(l bigint, k text))"
            params = [json.dumps([{"l": line, "k": kind} for line, kind in wanted])]
            micros = "(EXTRACT(EPOCH FROM {}) * 1000000)::bigint"
            self.cursor.execute(
                f"SELECT {columns}, {micros.format('valid_from')}, {micros.format('expires_at')}, "
                f"COALESCE({micros.format('revoked_at')}, {NEVER}) FROM {self.bucket} WHERE {pairs} {window} "
                "ORDER BY id FOR UPDATE",
                [*params, *times],
            )
            return self.cursor.fetchall()
        pairs, params = self._in({line for line, _kind in wanted})
        self.cursor.execute(
            f"SELECT {columns}, valid_from, expires_at, revoked_at FROM {self.bucket} WHERE line_id {pairs} {window} "
            "ORDER BY id",
            [*params, *times],
        )
        return [
            (*row[:5], bool(row[5]), _micros(aware(row[6])), _micros(aware(row[7])),
             _micros(aware(row[8])) if row[8] else NEVER)
            for row in self.cursor.fetchall()
        ]  # fmt: skip

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
