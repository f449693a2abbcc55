"""A customer's personal data: the export ("download my data") and erasure ("delete my account").

Erasure anonymises; it never deletes financial records. Orders, payments, receipts, ledger entries
and audit rows stay (tax and accounting law, and the ledger invariants, need them), linked to a
customer row that no longer says who the person was. docs/privacy.md lists every field.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.models import AuditEvent
from refill.audit.services import audit_record
from refill.errors import RefillError
from refill.esim.models import EsimOrder, Profile
from refill.ledger.models import Account, JournalLine
from refill.ledger.services import account_balances
from refill.lines.models import Line
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.payments.models import Payment, PaymentMethod
from refill.payments.services import method_remove
from refill.renewals.autorenew import autorenew_update
from refill.renewals.models import AutoRenew
from refill.subscriptions.models import Bucket, Period
from refill.vouchers.models import RedemptionAttempt, Voucher

from .models import Customer, User

EXPORT_EVERY = timedelta(minutes=1)
EXPORT_ACTION = "privacy.export"
ERASE_ACTION = "privacy.erase"


class ExportTooSoon(RefillError):
    code = "export_too_soon"
    message = _("You downloaded your data less than a minute ago. Please wait a minute and try again.")


class ErasureRefused(RefillError):
    code = "erasure_refused"
    message = _("Your account cannot be deleted yet.")


class PeriodRunning(ErasureRefused):
    code = "erasure_period_running"
    message = _(
        "One of your lines has paid service that has not ended yet. You can ask again once it ends, "
        "or contact us if you want to give it up now."
    )


class WalletNotEmpty(ErasureRefused):
    code = "erasure_wallet_not_empty"
    message = _("Your wallet still holds money. Spend it on a renewal or contact us for a refund, then ask again.")


class PaymentPending(ErasureRefused):
    code = "erasure_payment_pending"
    message = _("A payment of yours is still being processed. Please try again once it has finished.")


def customer_is_erased(customer: Customer) -> bool:
    return AuditEvent.objects.filter(
        action=ERASE_ACTION, object_type=Customer._meta.label_lower, object_id=str(customer.pk)
    ).exists()


# Export ------------------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value) -> str | None:
    return str(value) if value is not None else None


def _wallet_accounts(customer: Customer):
    return Account.objects.filter(customer=customer, purpose__in=[Account.Purpose.WALLET, Account.Purpose.WALLET_HOLD])


def customer_data(customer: Customer) -> dict[str, Any]:
    """Everything Refill holds about ``customer``, as plain JSON-able data. Every query is filtered
    by the customer (or by lines and orders that are theirs): nothing of anyone else's is read."""
    lines = list(Line.objects.filter(owner=customer).select_related("plan", "market").order_by("pk"))
    line_ids = [line.pk for line in lines]
    orders = list(Order.objects.filter(customer=customer).prefetch_related("items", "items__plan").order_by("pk"))
    logins = list(User.objects.filter(customer=customer).order_by("pk"))
    own_logins = {user.pk for user in logins}
    auto_renew = {setting.line_id: setting for setting in AutoRenew.objects.filter(line_id__in=line_ids)}

    return {
        "format": "refill.personal-data/1",
        "generated_at": _iso(timezone.now()),
        "customer": {
            "id": customer.pk,
            "kind": customer.kind,
            "display_name": customer.display_name,
            "preferred_language": customer.preferred_language,
            "time_zone": customer.time_zone,
            "notify_email": customer.notify_email,
            "notify_sms": customer.notify_sms,
            "has_shop_pin": bool(customer.shop_pin_hash),
            "segments": list(customer.segments or []),
            "created_at": _iso(customer.created_at),
        },
        "logins": [
            {
                "id": user.pk,
                "email": user.email,
                "phone": user.phone,
                "phone_verified": user.phone_verified,
                "is_active": user.is_active,
                "date_joined": _iso(user.date_joined),
                "last_login": _iso(user.last_login),
            }
            for user in logins
        ],
        "lines": [
            {
                "id": line.pk,
                "msisdn": line.msisdn,
                "iccid": line.iccid,
                "sim_type": line.sim_type,
                "market": line.market.code,
                "plan": line.plan.code if line.plan_id else None,
                "status": line.status,
                "period_end": _iso(line.period_end),
                "label": line.label,
                "created_at": _iso(line.created_at),
                "auto_renew": _auto_renew(auto_renew.get(line.pk)),
            }
            for line in lines
        ],
        "periods": [
            {
                "line": period.line_id,
                "plan": period.plan.code,
                "sequence": period.sequence,
                "start": _iso(period.start),
                "end": _iso(period.end),
                "revoked_at": _iso(period.revoked_at),
            }
            for period in Period.objects.filter(line_id__in=line_ids).select_related("plan").order_by("line", "start")
        ],
        "buckets": [
            {
                "line": bucket.line_id,
                "kind": bucket.kind,
                "granted": bucket.granted,
                "used": bucket.used,
                "unlimited": bucket.unlimited,
                "valid_from": _iso(bucket.valid_from),
                "expires_at": _iso(bucket.expires_at),
                "source": bucket.source,
                "revoked_at": _iso(bucket.revoked_at),
            }
            for bucket in Bucket.objects.filter(line_id__in=line_ids).order_by("line", "pk")
        ],
        "orders": [
            {
                "id": order.pk,
                "line": order.line_id,
                "status": order.status,
                "currency": order.currency,
                "subtotal": _money(order.subtotal),
                "discount": _money(order.discount),
                "tax": _money(order.tax),
                "total": _money(order.total),
                "promotion_code": order.promotion_code,
                # That a guest or a partner paid, never who: the payer's address is theirs.
                "payer": order.payer,
                "created_at": _iso(order.created_at),
                "paid_at": _iso(order.paid_at),
                "items": [
                    {
                        "kind": item.kind,
                        "plan": item.plan.code if item.plan_id else None,
                        "periods": item.periods,
                        "free_periods": item.free_periods,
                        "unit_price": _money(item.unit_price),
                        "amount": _money(item.amount),
                    }
                    for item in order.items.all()
                ],
            }
            for order in orders
        ],
        # Method, brand and last four digits only: never a provider token or reference. A gift's
        # payment was made with the payer's card: its brand, digits and decline are the payer's.
        "payments": [
            {
                "order": payment.order_id,
                "method": payment.method,
                "status": payment.status,
                "amount": _money(payment.amount),
                "currency": payment.currency,
                "card_brand": payment.card_brand if own else None,
                "card_last4": payment.card_last4 if own else None,
                "decline_code": payment.decline_code if own else None,
                "created_at": _iso(payment.created_at),
                "completed_at": _iso(payment.completed_at),
            }
            for payment in Payment.objects.filter(order__customer=customer).select_related("order").order_by("pk")
            for own in [payment.order.payer == Order.Payer.OWNER]
        ],
        "saved_payment_methods": [
            {
                "brand": method.brand,
                "last4": method.last4,
                "exp_month": method.exp_month,
                "exp_year": method.exp_year,
                "is_default": method.is_default,
                "is_backup": method.is_backup,
                "created_at": _iso(method.created_at),
                "removed_at": _iso(method.removed_at),
            }
            for method in PaymentMethod.objects.filter(customer=customer).order_by("pk")
        ],
        "wallet_statement": [
            {
                "at": _iso(line.entry.created_at),
                "account": line.account.purpose,
                # As the customer sees it: money in is positive (the journal is debit-positive).
                "amount": _money(-line.amount if line.account.credit_normal else line.amount),
                "currency": line.currency,
                "cause": line.entry.cause,
                "memo": line.entry.memo,
            }
            for line in JournalLine.objects.filter(account__in=_wallet_accounts(customer))
            .select_related("entry", "account")
            .order_by("entry__created_at", "pk")
        ],
        # PINs are stored only as hashes: the serial identifies the card.
        "refill_pins_redeemed": [
            {
                "serial": voucher.serial,
                "pin": "•" * 12,
                "face_value": _money(voucher.face_value),
                "currency": voucher.currency,
                "redeemed_at": _iso(voucher.redeemed_at),
            }
            for voucher in Voucher.objects.filter(redeemed_by=customer).order_by("redeemed_at", "pk")
        ],
        "notifications": [
            {
                "rule": notice.rule,
                "channel": notice.channel,
                "status": notice.status,
                "recipient": notice.recipient,
                "subject": notice.subject,
                "body": notice.body,
                "created_at": _iso(notice.created_at),
                "sent_at": _iso(notice.sent_at),
            }
            for notice in Notification.objects.filter(customer=customer).order_by("pk")
        ],
        # ICCID and state; the activation code (a credential to download the profile) never.
        "esim_profiles": [
            {
                "iccid": profile.iccid,
                "line": profile.line_id,
                "state": profile.smdp_state,
                "network_state": profile.network_state,
                "downloads": profile.downloads,
                "assigned_at": _iso(profile.assigned_at),
            }
            for profile in Profile.objects.filter(line_id__in=line_ids).order_by("pk")
        ],
        "esim_orders": [
            {
                "line": order.line_id,
                "reason": order.reason,
                "status": order.status,
                "eid": order.eid,
                "created_at": _iso(order.created_at),
                "installed_at": _iso(order.installed_at),
            }
            for order in EsimOrder.objects.filter(line_id__in=line_ids).order_by("pk")
        ],
        "audit_events": [
            {
                "at": _iso(event.at),
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "actor": _actor_seen_by_customer(event, own_logins),
                "reason": event.reason,
            }
            for event in _audit_about(customer, logins, lines, orders).select_related("actor")
        ],
    }


def _actor_seen_by_customer(event: AuditEvent, own_logins: set[int]) -> str:
    """Who did it, as the customer may be told: their own login as it was recorded; anyone else by
    what they are (staff, a shop agent, another customer, a guest who paid a gift, a partner's key,
    the system), never by their address, IP address or key, which are those people's data."""
    if event.actor_id is not None:
        if event.actor_id in own_logins:
            return event.actor_label
        if event.actor.is_staff or event.actor.role == User.Role.STAFF:
            return "staff"
        return "shop agent" if event.actor.role == User.Role.AGENT else "another customer"
    label = event.actor_label
    if label.startswith("guest "):
        return "guest"
    if label.startswith("API key "):
        return "partner"
    return "system" if label == "system" else "someone else"


def _auto_renew(setting) -> dict | None:
    if setting is None:
        return None
    return {
        "enabled": setting.enabled,
        "cap_per_renewal": _money(setting.cap_per_renewal),
        "cap_per_month": _money(setting.cap_per_month),
    }


def _audit_about(customer: Customer, logins: list, lines: list, orders: list):
    about = Q(object_type=Customer._meta.label_lower, object_id=str(customer.pk))
    for objects in (logins, lines, orders):
        if objects:
            label = objects[0]._meta.label_lower
            about |= Q(object_type=label, object_id__in=[str(obj.pk) for obj in objects])
    return AuditEvent.objects.filter(about).order_by("at", "pk")


def customer_export(*, customer: Customer, actor) -> dict[str, Any]:
    """The customer's data for download; audited, and at most once a minute (it reads a lot)."""
    with transaction.atomic():
        # The customer row is locked so that two downloads at once cannot both pass the check.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        recent = AuditEvent.objects.filter(
            action=EXPORT_ACTION,
            object_type=Customer._meta.label_lower,
            object_id=str(customer.pk),
            at__gte=timezone.now() - EXPORT_EVERY,
        )
        if recent.exists():
            raise ExportTooSoon()
        data = customer_data(customer)
        audit_record(actor=actor, action=EXPORT_ACTION, obj=customer)
    return data


# Erasure -----------------------------------------------------------------------------------------


def erasure_blockers(customer: Customer, *, now=None) -> list[ErasureRefused]:
    """Why ``customer`` cannot be anonymised now (empty when they can)."""
    now = now or timezone.now()
    blockers: list[ErasureRefused] = []
    if Period.objects.filter(line__owner=customer, revoked_at__isnull=True, end__gt=now).exists():
        blockers.append(PeriodRunning())
    balances = account_balances(list(_wallet_accounts(customer)))
    if any(balance != Decimal(0) for balance in balances.values()):
        blockers.append(WalletNotEmpty())
    unsettled = [Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]
    if Payment.objects.filter(order__customer=customer, status__in=unsettled).exists():
        blockers.append(PaymentPending())
    return blockers


def _forget_logins_elsewhere(users) -> None:
    """What names the customer's logins outside their own rows: the address a gift refill they
    paid as a guest was receipted to (the order itself is the recipient's, and is kept), and the
    login-attempt records kept against brute force."""
    emails = [user.email.lower() for user in users if user.email]
    names = [*emails, *(user.phone for user in users if user.phone)]
    if emails:
        guest_orders = Order.objects.filter(payer=Order.Payer.GUEST)
        for email in emails:
            guest_orders.filter(payer_email__iexact=email).update(payer_email="", payer_ip=None)
    if names:
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username__in=names).delete()


def customer_erase(*, customer: Customer, actor, reason: str = "asked by the customer") -> Customer:
    """Anonymise ``customer``: personal data erased, logins disabled, saved cards forgotten; money
    records kept. Refuses (the first ``ErasureRefused``) while service or money is outstanding."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        blockers = erasure_blockers(customer)
        if blockers:
            raise blockers[0]
        users = list(User.objects.filter(customer=customer).order_by("pk"))
        _forget_logins_elsewhere(users)
        for user in users:
            EmailAddress.objects.filter(user=user).delete()
            Authenticator.objects.filter(user=user).delete()
            # ``.invalid`` is reserved (RFC 2606): the address can never reach anyone, and it keeps
            # the "email or phone" constraint without holding either.
            user.email = f"erased-{user.pk}@erased.invalid"
            user.phone = None
            user.phone_verified = False
            user.is_active = False
            # A new password hash also ends every open session (Django checks the session's hash).
            user.set_unusable_password()
            user.save()

        # Audit rows written from here on name the actor by the anonymised login, not the address.
        actor = next((user for user in users if user.pk == getattr(actor, "pk", None)), actor)

        lines = list(Line.objects.filter(owner=customer).order_by("pk"))
        # Lines stay with the anonymised customer and lapse through the normal lifecycle (grace,
        # suspended, deactivated, number aging); nothing may renew them automatically any more.
        for setting in AutoRenew.objects.filter(line__in=lines, enabled=True).select_related("line").order_by("pk"):
            autorenew_update(line=setting.line, actor=actor, reason=ERASE_ACTION, enabled=False)
        Line.objects.filter(pk__in=[line.pk for line in lines]).update(label="")

        for method in PaymentMethod.objects.filter(customer=customer, removed_at__isnull=True).order_by("pk"):
            method_remove(method=method, actor=actor)
        # The provider token and holder name are what make a saved card usable and personal.
        PaymentMethod.objects.filter(customer=customer).update(token="", provider_customer="", holder="")

        Notification.objects.filter(customer=customer, status=Notification.Status.PENDING).update(
            status=Notification.Status.SKIPPED
        )
        Notification.objects.filter(customer=customer).update(recipient="", subject="", body="")
        RedemptionAttempt.objects.filter(customer=customer).update(ip_address=None)

        customer.display_name = ""
        customer.shop_pin_hash = ""
        customer.segments = []
        customer.notify_email = False
        customer.notify_sms = False
        customer.save(update_fields=["display_name", "shop_pin_hash", "segments", "notify_email", "notify_sms"])
        audit_record(
            actor=actor,
            action=ERASE_ACTION,
            obj=customer,
            reason=reason,
            data={"logins": len(users), "lines": len(lines)},
        )
    return customer
