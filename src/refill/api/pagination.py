"""Lists a page at a time (docs/api.md, "Pagination"): ``?limit=`` and ``?cursor=``, answered as
``{"items": [...], "next_cursor": "…" | null}``."""

from __future__ import annotations

import base64

from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError

MAX_LIMIT = 100


class InvalidCursor(RefillError):
    code = "invalid_cursor"
    message = _("This page cursor is not valid. Start again without it.")


def page_limit(limit: int) -> int:
    """The page size a caller asked for, within 1 to 100."""
    return max(1, min(limit, MAX_LIMIT))


def page(queryset, cursor: str, limit: int) -> tuple[list, str | None]:
    """Keyset pagination on the primary key: the items after ``cursor``, and the next cursor."""
    if cursor:
        try:
            after = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidCursor() from None
        queryset = queryset.filter(pk__gt=after)
    items = list(queryset.order_by("pk")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    next_cursor = base64.urlsafe_b64encode(str(items[-1].pk).encode()).decode().rstrip("=") if more else None
    return items, next_cursor
