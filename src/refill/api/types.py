"""Bounded field types for the API's schemas: every number a request may carry fits the column it
is stored in (or the arithmetic it enters), so a value out of range is refused where it arrives,
as a 422 ``invalid_request`` problem naming the field, and never reaches the database or a
``Decimal`` operation as a server error (issue 24).

Use these instead of bare ``int`` and ``Decimal`` in any schema, path or query parameter of
the API (every app's ``api.py`` router): ``tests/integration/api/test_bounded_types.py`` fails on a bare one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

# Django's columns: BigAutoField keys and PositiveBigIntegerField are 64-bit signed in every
# database Refill supports; PositiveSmallIntegerField is at most 32767 everywhere.
BIGINT_MAX = 2**63 - 1
SMALLINT_MAX = 32767

# Money columns are DecimalField(max_digits=12, decimal_places=4): at most 99,999,999.9999.
MONEY_DIGITS = 12
MONEY_PLACES = 4

Money = Annotated[Decimal, Field(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, allow_inf_nan=False, ge=0)]
"""An amount of money as stored (finite, not negative, at most 12 digits, 4 of them decimals).
Whether it is in whole minor units of its currency is the service's rule, which names the unit."""

Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
"""A row's key (a path or body id): anything else cannot name a row, and is refused unread."""

Count = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
"""A count or a quantity stored in a 64-bit column."""

UsageAmount = Annotated[int, Field(ge=0, le=10**12)]
"""One usage record's amount (MB, minutes or messages). 10^12 MB is an exabyte: more than any
record a network sends, and a thousand of them still sum inside a 64-bit column (SQLite's SUM
refuses an overflow)."""

CardDatePart = Annotated[int, Field(ge=0, le=9999)]
"""A card's expiry month or year: the gateway refuses a wrong month or a past date in words; the
columns hold at most four digits."""

SmallInt = Annotated[int, Field(ge=-SMALLINT_MAX, le=SMALLINT_MAX)]
"""A small number (days, a page size) clamped by the view: bounded so it can never overflow."""


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _in_our_time(value: datetime) -> datetime:
    # 9999-12-31T23:59:59-12:00 is a valid ISO 8601 moment that leaves the calendar in UTC, as the
    # database stores it (OverflowError); no record Refill takes is that far from today anyway.
    try:
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        inside = EARLIEST <= moment.astimezone(UTC) < LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise ValueError("Must be a moment between 2000 and 2100")
    return value


Moment = Annotated[datetime, AfterValidator(_in_our_time)]
"""A moment a record happened or is due: between the years 2000 and 2100 (in UTC)."""
