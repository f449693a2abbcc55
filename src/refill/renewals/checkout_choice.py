"""What every checkout face (portal, shop counter, the guest refill) does the same way with the
customer's choice before an order exists: the price panel's quote with a promotion code that may
not apply, and the idempotency key that names the form *and* the choice.

One place so that the portal and the counter cannot drift: the price shown without an unknown code
and the reason beside it, and a key under which a double click replays one order while a changed
choice after a decline makes a new order instead of a conflict."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from refill.catalog.models import Plan
from refill.errors import RefillError
from refill.lines.models import Line
from refill.orders.pricing import PromotedQuote, renewal_quote_promoted
from refill.promotions.errors import PromotionUnknown


@dataclass(frozen=True)
class ChoiceQuote:
    """The quote for a choice (None when it cannot be had), why it cannot be had, and why the typed
    promotion code does not apply (the quote is then the price without it)."""

    quote: PromotedQuote | None
    error: str | None
    code_error: str | None


def choice_quote(*, line: Line, plan: Plan, periods: int, code: str, channel: str) -> ChoiceQuote:
    try:
        try:
            quote = renewal_quote_promoted(line=line, plan=plan, periods=periods, code=code, channel=channel)
        except PromotionUnknown as exc:
            quote = renewal_quote_promoted(line=line, plan=plan, periods=periods, channel=channel)
            return ChoiceQuote(quote, None, str(exc))
    except RefillError as exc:
        return ChoiceQuote(None, str(exc), None)
    return ChoiceQuote(quote, None, str(quote.code_refusal) if quote.code_refusal else None)


def choice_key(*parts: object, limit: int) -> str:
    """The choice (plan, periods, code…) as part of an idempotency key, at most ``limit``
    characters: as written when it fits, else a digest of it (the key's column is bounded)."""
    chosen = ":".join(str(part) for part in parts)
    if len(chosen) > limit:
        chosen = hashlib.sha256(chosen.encode()).hexdigest()[:limit]
    return chosen
