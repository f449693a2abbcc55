"""Staff roles: what support, finance, catalog managers and admins may do in the back office.

Each role is a Django group holding exactly the permissions below, made (and brought back to this
list) after every migrate, so the code is the one place roles are defined. A staff member's role is
their group; superusers have every permission and are meant for the install itself, not daily work.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

SUPPORT = "support"
FINANCE = "finance"
CATALOG = "catalog"
ADMIN = "admin"

ROLE_NAMES = {
    SUPPORT: _("Support"),
    FINANCE: _("Finance"),
    CATALOG: _("Catalog manager"),
    ADMIN: _("Administrator"),
}

_CUSTOMERS = ["backoffice.view_customer", "audit.view_auditevent"]
_CUSTOMER_ACTIONS = ["backoffice.act_for_customer"]
_MONEY = [
    "ledger.view_journalentry",
    "ledger.adjust_wallet",
    "orders.add_refund",
    "vouchers.view_voucherbatch",
    "vouchers.add_voucherbatch",
    "vouchers.change_voucher",
    "payments.view_providerevent",
    "payments.change_providerevent",
]
_CATALOG = [
    "catalog.view_market",
    "catalog.change_market",
    "catalog.view_plan",
    "catalog.add_plan",
    "catalog.change_plan",
    "catalog.view_planprice",
    "catalog.add_planprice",
    "catalog.change_planprice",
    "promotions.view_promotion",
    "promotions.add_promotion",
    "promotions.change_promotion",
]
_REPORTS = ["backoffice.view_reports"]
# Support requests (refill.support): the queue and tickets; acting = assign, status, note, reply.
_TICKETS = ["support.view_ticket"]
_TICKET_ACTIONS = ["support.change_ticket"]
_INTEGRATIONS = [
    "apikeys.view_apikey",
    "apikeys.add_apikey",
    "webhooks.view_webhookdelivery",
    "webhooks.change_webhookdelivery",
    "webhooks.add_webhookendpoint",
    "webhooks.delete_webhookendpoint",
    "esim.view_profile",
    "esim.add_profilebatch",
    "esim.change_stockalert",  # the low-stock threshold of each profile type
]

# The help centre's articles: every role reads them; support and admins write and publish them.
_HELP = ["help.view_article"]
_HELP_EDIT = ["help.add_article", "help.change_article", "help.publish_article"]

ROLES: dict[str, list[str]] = {
    # Helps customers: finds them, sees everything about them, acts for them (resend, re-issue,
    # goodwill, bucket adjustment, auto-renew), never moves money.
    SUPPORT: [
        *_CUSTOMERS,
        *_CUSTOMER_ACTIONS,
        *_TICKETS,
        *_TICKET_ACTIONS,
        *_HELP,
        *_HELP_EDIT,
        "esim.view_profile",
        "promotions.view_promotion",
    ],
    # Money: refunds, wallet adjustments, refill PINs, provider events, statements, reports.
    FINANCE: [*_CUSTOMERS, *_TICKETS, *_MONEY, *_REPORTS, *_HELP, "promotions.view_promotion"],
    # Plans, prices, markets and promotions, and the reports that show what they do.
    CATALOG: [*_CATALOG, *_REPORTS, *_HELP],
    ADMIN: [
        *_CUSTOMERS,
        *_CUSTOMER_ACTIONS,
        *_TICKETS,
        *_TICKET_ACTIONS,
        *_MONEY,
        *_CATALOG,
        *_REPORTS,
        *_INTEGRATIONS,
        *_HELP,
        *_HELP_EDIT,
    ],
}


def roles_sync(*, using: str = "default", **_kwargs) -> None:
    """Make each role's group hold exactly its permissions (run after every migrate). Every app's
    permissions are made first: this may run before the other apps' post-migrate handlers."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    for name, wanted in ROLES.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        permissions = []
        for codename in wanted:
            app_label, code = codename.split(".")
            found = Permission.objects.using(using).filter(content_type__app_label=app_label, codename=code).first()
            if found is None:
                raise LookupError(f"role {name}: no permission {codename}")
            permissions.append(found)
        group.permissions.set(permissions)
