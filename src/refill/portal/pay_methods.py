"""The ways to pay a portal checkout (renewal, add-on) and the wallet top-up offer: which ones (the
market's setting, payments.selectors.market_methods), in which order (refill.domain.payment_methods),
named in the customer's language, with why one cannot be used, and what "wallet first, the rest by
card" takes from each.

The templates read these as they are (portal/_pay_with.html, portal/_quote.html, portal/wallet.html);
the order and the reasons are decided here, never in a template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from refill.domain import payment_methods as rule
from refill.domain.money import minor_units
from refill.formatting import money_text
from refill.ledger.services import wallet_balance
from refill.orders.models import Order
from refill.payments.models import Payment, PaymentMethod
from refill.payments.port import PROVIDER_WALLETS
from refill.payments.selectors import market_methods, provider_wallets_offered
from refill.payments.services import methods_for

from .forms import CardForm

# The ways to pay that need the card fields (templates/portal/_card_fields.html ``card_choices``).
CARD_CHOICES = (rule.NEW_CARD, rule.WALLET_CARD)


@dataclass(frozen=True)
class PayMethodOption:
    """One way to pay as the page shows it."""

    key: str  # what the form posts as pay_with
    testid: str
    label: str
    usable: bool = True
    why_not: str = ""  # why it cannot be used now (shown beside it, the radio disabled)
    note: str = ""  # a fact beside the name (what the wallet holds)
    is_default: bool = False  # the customer's default saved card
    last_used: bool = False

    @property
    def needs_card(self) -> bool:
        return self.key in CARD_CHOICES

    @property
    def is_provider(self) -> bool:
        """A provider wallet (Alipay, WeChat Pay...): a short name, shown two to a row."""
        return self.key in PROVIDER_WALLETS


def provider_wallets() -> dict[str, str]:
    """Provider wallets the configured gateway offers (redirect-and-return payments)."""
    return provider_wallets_offered()


def saved_card_label(method: PaymentMethod) -> str:
    """A saved card as the checkout names it, unmistakable for "A new card": "Visa •••• 4242,
    expires 12/29"; a saved provider wallet by its name."""
    if not method.last4 or not method.exp_month or not method.exp_year:
        return method.short_label
    return _("%(card)s, expires %(expiry)s") % {"card": method.short_label, "expiry": _expiry(method)}


def _expiry(method: PaymentMethod) -> str:
    return f"{method.exp_month:02d}/{method.exp_year % 100:02d}"


def _expired(method: PaymentMethod, today: date) -> bool:
    # A card is good until the end of its expiry month.
    return bool(
        method.exp_month and method.exp_year and (method.exp_year, method.exp_month) < (today.year, today.month)
    )


def last_used_key(customer, saved: list[PaymentMethod]) -> str | None:
    """The way ``customer`` paid their last paid order, as a checkout's key, when it can be chosen
    again: a saved card (matched by brand, last 4 and expiry), a provider wallet, the wallet, or
    the wallet with a card. A card typed and not saved cannot be offered again: None then, as for
    cash in a shop or nothing paid yet."""
    paid = Payment.objects.filter(
        order__customer=customer,
        order__payer=Order.Payer.OWNER,
        status=Payment.Status.SUCCEEDED,
        method__in=[Payment.Method.CARD, Payment.Method.WALLET],
        amount__gt=0,  # a free order records a wallet payment of nothing: not a choice
    ).order_by("-completed_at", "-pk")
    last = paid.first()
    if last is None:
        return None
    methods = set(paid.filter(order_id=last.order_id).values_list("method", flat=True))
    if methods == {Payment.Method.CARD, Payment.Method.WALLET}:
        return rule.WALLET_CARD
    if last.method == Payment.Method.WALLET:
        return rule.WALLET
    if last.card_brand in PROVIDER_WALLETS and not last.card_last4:
        return last.card_brand
    for method in saved:
        if (method.brand, method.last4, method.exp_month, method.exp_year) == (
            last.card_brand,
            last.card_last4,
            last.card_exp_month,
            last.card_exp_year,
        ):
            return f"saved-{method.pk}"
    return None


def pay_options(
    *,
    customer,
    currency: str,
    market_code: str,
    total: Decimal | None,
    wallet: Decimal | None = None,
    saved: list[PaymentMethod] | None = None,
    with_wallet: bool = True,
    language: str | None = None,
) -> list[PayMethodOption]:
    """The ways to pay ``total`` (None: not priced yet), in the order offered. ``with_wallet``
    False for a wallet top-up (the wallet cannot pay into itself)."""
    saved = methods_for(customer) if saved is None else saved
    language = language or translation.get_language() or ""
    today = timezone.localdate()
    offered: list[PayMethodOption] = []
    if with_wallet:
        wallet = wallet_balance(customer, currency) if wallet is None else wallet
        offered += _wallet_options(wallet, total, currency)
    for method in saved:
        expired = _expired(method, today)
        offered.append(
            PayMethodOption(
                key=f"saved-{method.pk}",
                testid=f"pay-saved-{method.pk}",
                label=saved_card_label(method),
                usable=not expired,
                why_not=_("This card has expired.") if expired else "",
                is_default=method.is_default,
            )
        )
    offered.append(PayMethodOption(key=rule.NEW_CARD, testid="pay-card", label=_("A new card")))
    for code, name in provider_wallets().items():
        offered.append(PayMethodOption(key=code, testid=f"pay-{code}", label=str(name)))

    last = last_used_key(customer, saved)
    # The market's setting (issue 28): the ways it switched off are not offered, the others follow
    # its order; a market without one keeps the defaults.
    market = market_methods(market_code)
    preferred = rule.preference_for(
        market=market_code, language=language, market_preferences=market.preferences(market_code)
    )
    by_key = {option.key: option for option in offered}
    ordered = rule.pay_options_ordered(
        [rule.PayOption(option.key, option.usable) for option in offered],
        last_used=last,
        preferred=preferred,
        offered=market.offered,
    )
    return [_marked(by_key[option.key], last) for option in ordered]


def _marked(option: PayMethodOption, last: str | None) -> PayMethodOption:
    if option.key != last or not option.usable:
        return option
    return PayMethodOption(**{**option.__dict__, "last_used": True})


def _wallet_options(wallet: Decimal, total: Decimal | None, currency: str) -> list[PayMethodOption]:
    """The wallet alone, and the wallet with a card for the rest. An empty wallet is not offered;
    "wallet first" only when the wallet holds some but not all of the total."""
    if wallet <= 0:
        return []
    holds = _("Holds %(balance)s") % {"balance": money_text(wallet, currency)}
    if total is not None and wallet < total:
        alone = PayMethodOption(
            key=rule.WALLET,
            testid="pay-wallet",
            label=_("My wallet"),
            usable=False,
            why_not=_("Holds %(balance)s, less than the %(total)s total.")
            % {"balance": money_text(wallet, currency), "total": money_text(total, currency)},
        )
        split = PayMethodOption(
            key=rule.WALLET_CARD, testid="pay-wallet-card", label=_("Wallet first, the rest by card")
        )
        return [alone, split]
    alone = PayMethodOption(key=rule.WALLET, testid="pay-wallet", label=_("My wallet"), note=holds)
    if total is None:
        return [
            alone,
            PayMethodOption(key=rule.WALLET_CARD, testid="pay-wallet-card", label=_("Wallet first, the rest by card")),
        ]
    return [alone]


def pay_chosen(options: list[PayMethodOption], asked: str | None) -> str:
    """The way shown chosen: ``asked`` (posted back) when offered and usable, else the first usable
    one, else a new card."""
    chosen = rule.pay_option_chosen([rule.PayOption(option.key, option.usable) for option in options], asked)
    return chosen or rule.NEW_CARD


def pay_split(pay_with: str, wallet: Decimal, total: Decimal | None, currency: str) -> rule.WalletSplit | None:
    """What "wallet first, the rest by card" takes from each, when it is the way chosen."""
    if pay_with != rule.WALLET_CARD or total is None or wallet <= 0:
        return None
    return rule.wallet_card_split(wallet, total, currency)


def checkout_pay_context(line, quote, pay_with: str | None, card_form) -> dict:
    """What the "How to pay" part of a checkout shows (portal/_pay_with.html) and the price panel's
    split (portal/_quote.html). ``quote`` is anything with a ``quote`` (the priced order), or None."""
    currency = line.market.currency
    wallet = wallet_balance(line.owner, currency)
    total = quote.quote.total.amount if quote is not None else None
    saved = methods_for(line.owner)
    options = pay_options(
        customer=line.owner,
        currency=currency,
        market_code=line.market.code,
        total=total,
        wallet=wallet,
        saved=saved,
    )
    chosen = pay_chosen(options, pay_with)
    return {
        "card_form": card_form or CardForm(),
        "wallet_balance": wallet,
        "pay_with": chosen,
        "pay_options": options,
        "pay_split": pay_split(chosen, wallet, total, currency),
        "provider_wallets": provider_wallets(),
        "saved_methods": saved,
        "card_choices": " ".join(CARD_CHOICES),
        # The total in minor units, for the provider's wallet button (Apple Pay, Google Pay), which
        # shows the amount in the browser's own payment sheet (static/refill/browser-card.js).
        "pay_total_minor": int(total.scaleb(minor_units(currency))) if total is not None else None,
        "pay_currency": currency,
    }
