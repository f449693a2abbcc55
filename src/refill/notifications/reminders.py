"""The reminder rules of domain.md, swept on a schedule. Each reminder is owed once per (line, rule,
period) through ``notice``: a sweep that runs twice, late, or on two machines owes nothing twice,
and one that missed hours sends only the reminder that still applies (a line found two days from
its end gets the three-day reminder, not the seven-day one as well)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from refill.catalog.models import Market
from refill.domain.allowances import USAGE_THRESHOLDS
from refill.domain.lifecycle import LineStatus
from refill.events import emit_many
from refill.lines.models import Line
from refill.subscriptions.models import Bucket

from .services import notice

# Expiry windows are each market's ``reminder_days`` (days before the end; the smallest window
# that applies wins). "Will renew on … for …" is said once, this long before the end.
AUTORENEW_NOTICE = timedelta(days=3)
RELEASE_WARNING = timedelta(days=3)


def _owe(line: Line, rule: str, context: dict, now: datetime, *, key: str = "", template: str = "") -> int:
    """Owe ``rule`` for this line's current period (``key`` names the reminder when several rules
    share one, like the expiry windows); returns how many notices were newly owed."""
    subject = f"line:{line.pk}:{line.period_end:%Y%m%d%H%M%S}:{key or rule}"
    owed = notice(
        rule=rule, subject_key=subject, customer=line.owner, line=line, context=context, now=now, template=template
    )
    return len(owed)


def _auto_renew_covers(line: Line) -> bool:
    settings = getattr(line, "auto_renew", None)
    return bool(settings and settings.enabled)


# Why a line reminder may have lost its reason by the time it is sent (kept in Notification.error).
RENEWED = "no longer applies: the line was renewed or its period changed"
COVERED = "no longer applies: auto-renew will renew the line"
NOT_COVERED = "no longer applies: auto-renew was turned off"
MOVED_ON = "no longer applies: the line's status changed"

# The status a line must still be in for each lifecycle notice to be true.
STATUS_FOR = {
    "expired": LineStatus.GRACE,
    "grace_ending": LineStatus.GRACE,
    "suspended": LineStatus.SUSPENDED,
    "number_release": LineStatus.DEACTIVATED,
}


def reminder_gone(notification, line: Line | None) -> str | None:
    """Why an owed line reminder is no longer true now, or None while it is (and for any other
    notice). Asked by the delivery just before sending: an SMS held overnight by quiet hours, or
    an email retried after the mail server was down, may go out hours after it was owed, when the
    customer has renewed or turned auto-renew on meanwhile. A reminder is about one period
    (its subject key names the period's end): once the line's end has moved, it is not sent."""
    rule, parts = notification.rule, notification.subject_key.split(":")
    expiry = rule.startswith("expiry_")
    if line is None or len(parts) != 4 or parts[0] != "line" or parts[1] != str(line.pk):
        return None
    if not (expiry or rule == "autorenew_upcoming" or rule in STATUS_FOR):
        return None
    if line.period_end is None or f"{line.period_end:%Y%m%d%H%M%S}" != parts[2]:
        return RENEWED
    if expiry:
        if line.status not in (LineStatus.ACTIVE, LineStatus.RETAINED):
            return MOVED_ON
        return COVERED if _auto_renew_covers(line) else None
    if rule == "autorenew_upcoming":
        return None if _auto_renew_covers(line) else NOT_COVERED
    return None if line.status == STATUS_FOR[rule] else MOVED_ON


def _expiring_announce(expiring: list[tuple[dict, str]], now: datetime) -> list:
    """The ``line.expiring`` events of a chunk of lines (each once per period and window)."""
    if expiring:
        emit_many("line.expiring", [p for p, _ in expiring], now=now, keys=[k for _, k in expiring])
    return []


def reminders_sweep(*, now: datetime | None = None) -> int:
    """Owe every reminder that is due now; returns how many were newly owed."""
    now = now or timezone.now()
    owed = 0
    live = Line.objects.select_related("owner", "market", "plan", "auto_renew")
    # Expiry in each market's reminder days (7, 3 and 1 by default), or "will renew on … for …"
    # when auto-renew is on. The widest window of any market bounds the one query (the index's
    # range); each market's own widest window keeps out the lines no reminder is owed yet.
    windows = {pk: sorted(days) for pk, days in Market.objects.values_list("pk", "reminder_days")}
    reaches: dict[timedelta, list[int]] = {}
    for pk, days in windows.items():
        reaches.setdefault(max(timedelta(days=max(days, default=0)), AUTORENEW_NOTICE), []).append(pk)
    within = Q(pk__in=[])
    for reach, markets in reaches.items():
        within |= Q(market_id__in=markets, period_end__lte=now + reach)
    ending = live.filter(
        within,
        status__in=[LineStatus.ACTIVE, LineStatus.RETAINED],
        period_end__gt=now,
        period_end__lte=now + max(reaches, default=AUTORENEW_NOTICE),
    )
    expiring: list[tuple[dict, str]] = []  # line.expiring webhooks, once per line, period and window
    for line in ending.iterator(chunk_size=500):
        days = next((d for d in windows.get(line.market_id, ()) if line.period_end <= now + timedelta(days=d)), None)
        if days is not None:
            expiring.append(
                (
                    {
                        "line_id": line.pk,
                        "customer_id": line.owner_id,
                        "msisdn": line.msisdn,
                        "period_end": line.period_end,
                        "days": days,
                        "auto_renew": _auto_renew_covers(line),
                    },
                    f"line.expiring:{line.pk}:{line.period_end:%Y%m%d%H%M%S}:{days}",
                )
            )
        if len(expiring) >= 500:
            expiring = _expiring_announce(expiring, now)
        if not _auto_renew_covers(line):
            if days is not None:
                context = {"days": days, "end": line.period_end}
                owed += _owe(line, f"expiry_{days}d", context, now, key="expiry", template="expiry")
        elif line.period_end <= now + AUTORENEW_NOTICE:
            # Auto-renew will cover it: say when and for how much, once per period (at three days).
            price = line.plan.current_price(line.market.currency, now)
            renew_at = line.period_end - timedelta(hours=line.market.auto_renew_lead_hours)
            owed += _owe(line, "autorenew_upcoming", {"renew_at": renew_at, "price": price}, now)
    _expiring_announce(expiring, now)
    for market in Market.objects.all():
        grace, suspension = timedelta(days=market.grace_days), timedelta(days=market.suspend_days)
        # Expired (in grace), and grace ending within a day.
        for line in live.filter(market=market, status=LineStatus.GRACE).iterator(chunk_size=500):
            ends = line.period_end + grace
            owed += _owe(line, "expired", {"grace_end": ends}, now)
            if ends - now <= timedelta(days=1):
                owed += _owe(line, "grace_ending", {"grace_end": ends}, now)
        for line in live.filter(market=market, status=LineStatus.SUSPENDED).iterator(chunk_size=500):
            owed += _owe(line, "suspended", {"until": line.period_end + grace + suspension}, now)
        window_end = grace + suspension + timedelta(days=market.reactivation_days)
        releasing = live.filter(
            market=market, status=LineStatus.DEACTIVATED, period_end__lte=now + RELEASE_WARNING - window_end
        )
        for line in releasing.iterator(chunk_size=500):
            owed += _owe(line, "number_release", {"release_at": line.period_end + window_end}, now)
    owed += _usage(now)
    return owed


def usage_notices_for(bucket_ids: list[int], *, now: datetime) -> int:
    """The usage notices owed for these buckets now (called as usage is applied)."""
    return _usage(now, bucket_ids)


def _usage(now: datetime, bucket_ids: list[int] | None = None) -> int:
    """Usage at 75 %, 90 % and 100 % of a bucket: once per bucket and threshold, the highest crossed."""
    owed = 0
    buckets = Bucket.objects.all() if bucket_ids is None else Bucket.objects.filter(pk__in=bucket_ids)
    running = (
        buckets.filter(unlimited=False, granted__gt=0, revoked_at__isnull=True, valid_from__lte=now, expires_at__gt=now)
        .alias(used_hundredths=F("used") * 100)
        .filter(used_hundredths__gte=F("granted") * min(USAGE_THRESHOLDS))
    )
    for bucket in running.select_related("line", "line__owner", "line__market").iterator(chunk_size=500):
        percent = next(t for t in USAGE_THRESHOLDS if bucket.used * 100 >= bucket.granted * t)
        line = bucket.line
        owed += len(
            notice(
                rule=f"usage_{percent}",
                subject_key=f"bucket:{bucket.pk}:{percent}",
                customer=line.owner,
                line=line,
                context={"bucket": bucket, "percent": percent},
                now=now,
                template="usage",
            )
        )
    return owed
