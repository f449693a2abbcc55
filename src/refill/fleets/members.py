"""A business's people: administrators and viewers added (with an invitation to set a password),
their role changed, their access taken away; never the last administrator."""

from __future__ import annotations

import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.customers.models import User

from .access import require_admin
from .errors import FleetRefused
from .models import FleetMember

logger = logging.getLogger(__name__)


def member_add(*, customer, user, email: str, role: str) -> FleetMember:
    """Give someone a login to the business's fleet, as administrator or viewer. They are sent an
    invitation to set their password (the password reset flow proves the address is theirs)."""
    require_admin(user, customer)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise FleetRefused(_("Enter a valid email address.")) from None
    if role not in FleetMember.Role.values:
        raise FleetRefused(_("Choose a role."))
    if User.objects.filter(email__iexact=email).exists():
        raise FleetRefused(_("This address already has a login. Ask your operator to move it to your business."))
    with transaction.atomic():
        login = User.objects.create_user(email, None, customer=customer)
        EmailAddress.objects.create(user=login, email=email, verified=False, primary=True)
        member = FleetMember.objects.create(user=login, role=role)
        audit_record(actor=user, action="fleet.member_add", obj=member, data={"email": email, "role": role})
        transaction.on_commit(lambda: _invite(member, user))
    return member


def _invite(member: FleetMember, inviter) -> None:
    customer = member.user.customer
    context = {
        "business": customer,
        "inviter": inviter.email or "",
        "email": member.user.email,
        "reset_url": f"{settings.REFILL_PUBLIC_URL}/accounts/password/reset/",
    }
    with translation.override(customer.preferred_language):
        context["role"] = str(member.get_role_display())
        subject = render_to_string("notifications/fleet_invite_subject.txt", context).strip()
        body = render_to_string("notifications/fleet_invite.txt", context)
    try:
        send_mail(subject, body, None, [member.user.email])
    except Exception:
        # The login exists; an administrator can invite again (or the person can reset the password).
        logger.exception("fleet member %s: the invitation could not be sent", member.pk)


def _lock_members(customer) -> None:
    """One change of the business's people at a time (so two cannot remove the last two admins)."""
    list(
        FleetMember.objects.select_for_update(of=("self",))
        .filter(user__customer=customer)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _admins_left(customer, without: FleetMember) -> int:
    return (
        FleetMember.objects.filter(user__customer=customer, user__is_active=True, role=FleetMember.Role.ADMIN)
        .exclude(pk=without.pk)
        .count()
    )


def member_set_role(*, member: FleetMember, user, role: str) -> FleetMember:
    customer = member.user.customer
    require_admin(user, customer)
    if role not in FleetMember.Role.values:
        raise FleetRefused(_("Choose a role."))
    with transaction.atomic():
        _lock_members(customer)
        if role != FleetMember.Role.ADMIN and not _admins_left(customer, member):
            raise FleetRefused(_("A business keeps at least one administrator."))
        before = member.role
        member.role = role
        member.save(update_fields=["role"])
        audit_record(actor=user, action="fleet.member_role", obj=member, data={"before": before, "after": role})
    return member


def member_remove(*, member: FleetMember, user) -> None:
    """Take a person's access away: their login is closed (kept, for the audit trail)."""
    customer = member.user.customer
    require_admin(user, customer)
    if member.user_id == user.pk:
        raise FleetRefused(_("You cannot remove yourself."))
    with transaction.atomic():
        _lock_members(customer)
        if member.role == FleetMember.Role.ADMIN and not _admins_left(customer, member):
            raise FleetRefused(_("A business keeps at least one administrator."))
        login = member.user
        login.is_active = False
        login.save(update_fields=["is_active"])
        audit_record(actor=user, action="fleet.member_remove", obj=member, data={"email": login.email})
        member.delete()
