"""Staff pages: trial balance, customer statements, refill PIN batches, promotions and the rest.
Every change goes through a service that writes its audit row."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from refill.apikeys.models import SCOPES, ApiKey
from refill.apikeys.services import apikey_create, apikey_revoke
from refill.catalog.models import Market
from refill.customers.models import Customer
from refill.customers.staff import require_perm
from refill.errors import RefillError
from refill.formatting import money_text
from refill.ledger.models import JournalEntry
from refill.ledger.services import InsufficientFunds, LedgerError, entry_correct, wallet_adjust
from refill.ops.safetext import clean_text, csv_response
from refill.orders.models import Order
from refill.orders.refunds import order_refund, refundable
from refill.payments.models import ProviderEvent
from refill.payments.services import provider_event_process
from refill.promotions import staff as promotions_staff
from refill.promotions.models import Promotion
from refill.vouchers.models import Voucher, VoucherBatch
from refill.vouchers.services import pins_csv, voucher_batch_generate, voucher_batch_import, voucher_void

from .forms import (
    CHANNELS,
    AdjustmentForm,
    PromotionForm,
    RefundForm,
    VoucherGenerateForm,
    VoucherImportForm,
)
from .selectors import (
    PromotionState,
    customer_statement,
    promotion_redemption_totals,
    promotion_redemptions,
    promotion_state,
    promotions_list,
    trial_balance,
)


@require_perm("ledger.view_journalentry")
def trial_balance_view(request: HttpRequest) -> HttpResponse:
    data = trial_balance()
    if request.GET.get("format") == "csv":
        response, writer = csv_response("trial-balance.csv")
        writer.writerow(["currency", "account", "kind", "debits", "credits", "balance"])
        for currency, bucket in data.items():
            for row in bucket["rows"]:
                writer.writerow([currency, row.account.code, row.account.kind, row.debits, row.credits, row.balance])
            writer.writerow([currency, "TOTAL", "", bucket["debits"], bucket["credits"], ""])
        return response
    return render(request, "backoffice/trial_balance.html", {"currencies": data})


@require_perm("ledger.view_journalentry")
def statement_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    adjust_form = AdjustmentForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and not request.user.has_perm("ledger.adjust_wallet"):
        raise PermissionDenied
    if request.method == "POST" and adjust_form.is_valid():
        try:
            wallet_adjust(
                customer=customer,
                currency=adjust_form.cleaned_data["currency"],
                amount=adjust_form.cleaned_data["amount"],
                reason=adjust_form.cleaned_data["reason"],
                key=f"adjust:{adjust_form.cleaned_data['idempotency_key']}",
                actor=request.user,
            )
        except LedgerError as exc:
            adjust_form.add_error(
                None,
                _("The wallet does not hold that much.")
                if isinstance(exc, InsufficientFunds)
                else _("Enter a non-zero amount and a reason."),
            )
        else:
            messages.success(request, _("The wallet was adjusted."))
            return redirect("backoffice:statement", pk=customer.pk)
    data = customer_statement(customer)
    if request.GET.get("format") == "csv":
        response, writer = csv_response(f"statement-customer-{customer.pk}.csv")
        writer.writerow(["section", "currency", "at", "what", "reference", "change", "balance"])
        for currency, rows in data["movements"].items():
            for row in rows:
                writer.writerow(
                    [
                        "wallet",
                        currency,
                        row["at"].isoformat(),
                        row["cause"],
                        row["reference"],
                        row["change"],
                        row["balance"],
                    ]
                )
        # Orders and their payments, so the statement reconciles with what was bought and paid.
        for order in data["orders"]:
            paid = "; ".join(f"{p.method} {p.amount} {p.status}" for p in order.payments.all())
            receipt = order.receipt.display_number if hasattr(order, "receipt") else ""
            writer.writerow(
                [
                    "order",
                    order.currency,
                    order.created_at.isoformat(),
                    order.status,
                    f"order:{order.pk} {receipt} {paid}".strip(),
                    order.total,
                    "",
                ]
            )
        return response
    status = 400 if request.method == "POST" else 200
    return render(
        request, "backoffice/statement.html", {"customer": customer, "adjust_form": adjust_form, **data}, status=status
    )


@require_perm("vouchers.view_voucherbatch")
def vouchers_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "backoffice/vouchers.html",
        {
            "batches": VoucherBatch.objects.select_related("created_by")[:100],
            "generate_form": VoucherGenerateForm(),
            "import_form": VoucherImportForm(),
        },
    )


@require_perm("vouchers.add_voucherbatch")
@require_POST
def vouchers_generate(request: HttpRequest) -> HttpResponse:
    form = VoucherGenerateForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "backoffice/vouchers.html",
            {"batches": VoucherBatch.objects.all()[:100], "generate_form": form, "import_form": VoucherImportForm()},
            status=400,
        )
    try:
        batch, pins = voucher_batch_generate(actor=request.user, **form.cleaned_data)
    except RefillError as exc:
        form.add_error(None, str(exc))
        return render(
            request,
            "backoffice/vouchers.html",
            {"batches": VoucherBatch.objects.all()[:100], "generate_form": form, "import_form": VoucherImportForm()},
            status=400,
        )
    # The only time these PINs exist in the clear: straight into the download, never stored.
    response = HttpResponse(pins_csv(batch, pins), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch.code}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters("pasted")
@require_perm("vouchers.add_voucherbatch")
@require_POST
def vouchers_import(request: HttpRequest) -> HttpResponse:
    form = VoucherImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        report = voucher_batch_import(text=form.csv_text(), note=form.cleaned_data["note"], actor=request.user)
        if report.created:
            messages.success(request, _("%(count)s refill PINs imported.") % {"count": report.created})
    return render(
        request,
        "backoffice/vouchers.html",
        {
            "batches": VoucherBatch.objects.all()[:100],
            "generate_form": VoucherGenerateForm(),
            "import_form": form,
            "report": report,
        },
        status=200 if form.is_valid() else 400,
    )


def _refund_message(request: HttpRequest, refund) -> None:
    """Say in a sentence what happened to the money (not "Refund Refunded.")."""
    if refund.status == "succeeded":
        amount = money_text(refund.amount, refund.currency)
        if refund.card_amount and refund.wallet_amount:
            text = _("Refunded %(amount)s: %(card)s to the card and %(wallet)s to the wallet.") % {
                "amount": amount,
                "card": money_text(refund.card_amount, refund.currency),
                "wallet": money_text(refund.wallet_amount, refund.currency),
            }
        elif refund.wallet_amount:
            text = _("Refunded %(amount)s to the wallet.") % {"amount": amount}
        else:
            text = _("Refunded %(amount)s to the card.") % {"amount": amount}
        messages.success(request, text)
    elif refund.status == "pending":
        messages.success(
            request, _("The refund is being processed: the order shows it once the payment provider confirms it.")
        )
    else:
        messages.error(request, _("The refund failed: the payment provider refused it and nothing was refunded."))


@require_perm("orders.add_refund")
def refund_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("customer", "line"), pk=pk)
    form = RefundForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            refund = order_refund(
                order=order,
                amount=form.cleaned_data["amount"],
                destination=form.cleaned_data["destination"],
                reason_code=form.cleaned_data["reason_code"],
                note=form.cleaned_data["note"],
                idempotency_key=f"backoffice:{form.cleaned_data['idempotency_key']}",
                actor=request.user,
            )
        except RefillError as exc:
            error = str(exc)
        else:
            _refund_message(request, refund)
            return redirect("backoffice:refund", pk=order.pk)
    context = {
        "order": order,
        "form": form,
        "error": error,
        "refundable": refundable(order),
        "refunds": order.refunds.select_related("credit_note"),
        "receipt": getattr(order, "receipt", None),
    }
    return render(request, "backoffice/refund.html", context, status=400 if error or form.errors else 200)


@require_perm("vouchers.change_voucher")
@require_POST
def vouchers_void(request: HttpRequest) -> HttpResponse:
    """Void one PIN (by serial) or every unused PIN of a batch (by batch code), with a reason."""
    reference = clean_text(request.POST.get("reference") or "").strip()
    reason = clean_text(request.POST.get("reason") or "").strip()
    vouchers = list(Voucher.objects.filter(serial=reference)) or list(
        Voucher.objects.filter(batch__code=reference, state=Voucher.State.ACTIVE)
    )
    if not reason or not vouchers:
        messages.error(request, _("Give a serial or batch code that exists, and a reason."))
    else:
        voided = sum(voucher_void(voucher=voucher, reason=reason, actor=request.user) for voucher in vouchers)
        messages.success(request, _("%(count)s refill PINs voided.") % {"count": voided})
    return redirect("backoffice:vouchers")


@require_perm("ledger.adjust_wallet")
@require_POST
def entry_correct_view(request: HttpRequest, entry_id) -> HttpResponse:
    entry = get_object_or_404(JournalEntry, pk=entry_id)
    reason = clean_text(request.POST.get("reason") or "").strip()
    try:
        entry_correct(entry=entry, reason=reason, actor=request.user)
    except LedgerError:
        messages.error(
            request,
            _(
                "This entry cannot be reversed (only adjustments, with a reason, while the wallet "
                "still holds the money)."
            ),
        )
    else:
        messages.success(request, _("The adjustment was reversed."))
    customer_id = entry.lines.filter(account__customer__isnull=False).values_list("account__customer_id", flat=True)
    return redirect("backoffice:statement", pk=customer_id.first()) if customer_id else redirect("backoffice:index")


@require_perm("payments.view_providerevent")
def provider_events_view(request: HttpRequest) -> HttpResponse:
    events = ProviderEvent.objects.all()[:200]
    return render(request, "backoffice/provider_events.html", {"events": events})


@require_perm("payments.change_providerevent")
@require_POST
def provider_event_replay(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(ProviderEvent, pk=pk)
    event = provider_event_process(event_pk=event.pk, replay=True, actor=request.user)
    messages.success(request, _("Event replayed: %(status)s.") % {"status": event.get_status_display()})
    return redirect("backoffice:provider_events")


@require_perm("apikeys.view_apikey")
def apikeys_view(request: HttpRequest) -> HttpResponse:
    """Partner and network API keys: create one (its text is shown this once), revoke one."""
    created_text, error = "", ""
    if request.method == "POST":
        if not request.user.has_perm("apikeys.add_apikey"):
            raise PermissionDenied
        if "revoke" in request.POST:
            key = get_object_or_404(ApiKey, pk=request.POST.get("revoke"))
            apikey_revoke(key=key, actor=request.user, reason=clean_text(request.POST.get("reason", ""))[:200])
            messages.success(request, _("The key %(name)s is revoked.") % {"name": key.name})
            return redirect("backoffice:apikeys")
        try:
            key, created_text = apikey_create(
                name=clean_text(request.POST.get("name", "")),
                kind=request.POST.get("kind", ApiKey.Kind.PARTNER),
                scopes=request.POST.getlist("scopes"),
                actor=request.user,
            )
        except RefillError as exc:
            error = str(exc)
    response = render(
        request,
        "backoffice/apikeys.html",
        {
            "keys": ApiKey.objects.select_related("created_by")[:200],
            "scopes": SCOPES,
            "kinds": ApiKey.Kind.choices,
            "created_text": created_text,
            "error": error,
        },
        status=400 if error else 200,
    )
    response["Cache-Control"] = "no-store"  # a new key's text is on this page once
    return response


# Promotions -------------------------------------------------------------------------------------

# The promotion form in sections, as the page shows it.
PROMOTION_SECTIONS = (
    (gettext_lazy("The offer"), ("market", "name_en", "name_zh_hans", "code", "kind", "priority", "exclusive")),
    (
        gettext_lazy("What it gives"),
        tuple(name for name in promotions_staff.PROMOTION_GIVES if name not in ("market", "code", "kind")),
    ),
    (gettext_lazy("When"), ("starts_at", "ends_at", "paused")),
    (
        gettext_lazy("Who can use it"),
        ("plans", "min_periods", "channels", "segments", "new_customers_only", "first_order_only"),
    ),
    (gettext_lazy("Limits and budget"), ("limit_total", "limit_per_customer", "limit_per_line", "budget")),
)
REDEMPTIONS_PER_PAGE = 50


def _promotion_form_page(request: HttpRequest, form: PromotionForm, promotion: Promotion | None) -> HttpResponse:
    sections = [(title, [form[name] for name in names]) for title, names in PROMOTION_SECTIONS]
    return render(
        request,
        "backoffice/promotion_form.html",
        {"form": form, "promotion": promotion, "sections": sections},
        status=400 if form.errors else 200,
    )


@require_perm("promotions.view_promotion")
def promotions_view(request: HttpRequest) -> HttpResponse:
    """Promotions by market and state, with what they have used of their limit and budget and what
    their paid redemptions cost."""
    market_pk = request.GET.get("market", "")
    market = Market.objects.filter(pk=market_pk).first() if market_pk.isdigit() else None
    state = request.GET.get("state", "")
    if state not in PromotionState.values:
        state = ""
    return render(
        request,
        "backoffice/promotions.html",
        {
            "promotions": promotions_list(market=market, state=state),
            "markets": Market.objects.order_by("name"),
            "states": PromotionState.choices,
            "market": market,
            "state": state,
        },
    )


@require_perm("promotions.add_promotion")
def promotion_create_view(request: HttpRequest) -> HttpResponse:
    form = PromotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            promotion = promotions_staff.promotion_create(
                values=form.promotion_values(), plans=form.cleaned_data["plans"], actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The promotion was created."))
            return redirect("backoffice:promotion_detail", pk=promotion.pk)
    return _promotion_form_page(request, form, None)


@require_perm("promotions.change_promotion")
def promotion_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion.objects.select_related("market"), pk=pk)
    # The form gets its own copy: validating it writes the typed values onto its instance.
    form = PromotionForm(request.POST or None, instance=Promotion.objects.select_related("market").get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            changed = promotions_staff.promotion_update(
                promotion=promotion,
                values=form.promotion_values(),
                plans=form.cleaned_data["plans"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The promotion was saved.") if changed else _("Nothing was changed."))
            return redirect("backoffice:promotion_detail", pk=promotion.pk)
    return _promotion_form_page(request, form, promotion)


@require_perm("promotions.view_promotion")
def promotion_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A promotion's settings, its redemptions (a page at a time, or all as CSV) and their totals."""
    promotion = get_object_or_404(
        Promotion.objects.select_related("market", "addon_plan").prefetch_related("plans"), pk=pk
    )
    redemptions = promotion_redemptions(promotion)
    if request.GET.get("format") == "csv":
        response, writer = csv_response(f"promotion-{promotion.pk}-redemptions.csv")
        writer.writerow(
            ["order", "customer", "customer_name", "msisdn", "status", "discount", "cost", "currency", "created_at",
             "settled_at"]
        )  # fmt: skip
        for redemption in redemptions.iterator(chunk_size=1000):
            order = redemption.order
            writer.writerow(
                [
                    order.pk,
                    order.customer_id,
                    str(order.customer),
                    order.line.msisdn if order.line else "",
                    redemption.status,
                    redemption.discount,
                    redemption.cost,
                    promotion.market.currency,
                    redemption.created_at.isoformat(),
                    redemption.settled_at.isoformat() if redemption.settled_at else "",
                ]
            )
        return response
    page = Paginator(redemptions, REDEMPTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/promotion_detail.html",
        {
            "promotion": promotion,
            "state": promotion_state(promotion),
            "totals": promotion_redemption_totals(promotion),
            "page": page,
            "channel_labels": [label for value, label in CHANNELS if value in promotion.channels],
        },
    )


def _promotion_pause_or_resume(request: HttpRequest, pk: int, *, pause: bool) -> HttpResponse:
    promotion = get_object_or_404(Promotion, pk=pk)
    if pause and promotions_staff.promotion_pause(promotion=promotion, actor=request.user):
        messages.success(request, _("The promotion is paused: no new order takes it."))
    elif pause:
        messages.info(request, _("The promotion was already paused."))
    elif promotions_staff.promotion_resume(promotion=promotion, actor=request.user):
        messages.success(request, _("The promotion is no longer paused: it applies inside its window."))
    else:
        messages.info(request, _("The promotion was not paused."))
    return redirect("backoffice:promotion_detail", pk=promotion.pk)


@require_perm("promotions.change_promotion")
@require_POST
def promotion_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _promotion_pause_or_resume(request, pk, pause=True)


@require_perm("promotions.change_promotion")
@require_POST
def promotion_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _promotion_pause_or_resume(request, pk, pause=False)
