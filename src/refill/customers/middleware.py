import zoneinfo

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode


class CustomerLanguageMiddleware:
    """A signed-in customer's saved language and time zone win over the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        customer = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
        if customer is not None:
            from refill.fleets.middleware import viewer_language

            # A business's viewer reads in the language they chose; the business keeps its own.
            language = viewer_language(request, customer) or customer.preferred_language
            translation.activate(language)
            request.LANGUAGE_CODE = language
            try:
                timezone.activate(zoneinfo.ZoneInfo(customer.time_zone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        else:
            timezone.deactivate()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


# Where staff and shop agents work: reached only after a second factor (TOTP) in this session.
STAFF_AREAS = ("/backoffice/", "/admin/", "/agent/")


# The staff page a first TOTP setup interrupted (a local path, from the request itself).
AFTER_TOTP_SETUP = "refill_after_totp_setup"


def needs_second_factor(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.role in (user.Role.STAFF, user.Role.AGENT))


class StaffTwoFactorMiddleware:
    """Staff and agents must have TOTP and have used it in this session before the back office,
    the admin or the agent desk answer: without TOTP they are sent to set it up, with it (after a
    password-only login, e.g. the admin's form) to enter a code. The code pages themselves, login
    and logout stay reachable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and request.path.startswith(STAFF_AREAS) and needs_second_factor(user):
            if not request.path.startswith(("/admin/login/", "/admin/logout/")):
                redirect = second_factor_redirect(request, user)
                if redirect is not None:
                    return redirect
        return self.get_response(request)


def second_factor_redirect(request, user):
    query = "?" + urlencode({"next": request.get_full_path()})
    if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        # allauth's setup ends on the recovery codes page, which forgets ``next``: kept here so
        # that page's "Continue" goes on to where they were going.
        request.session[AFTER_TOTP_SETUP] = request.get_full_path()
        return redirect(reverse("mfa_activate_totp") + query)
    if not any(record.get("method") == "mfa" for record in get_authentication_records(request, user)):
        return redirect(reverse("mfa_reauthenticate") + query)
    return None
