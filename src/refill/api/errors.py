"""Every refusal an operation of API v1 makes, as an RFC 9457 problem (docs/api.md, "Errors"): a
domain error (``RefillError``) keeps its stable ``code`` and gets its HTTP status here; ninja's own
refusals (not signed in, invalid, not found, CSRF) and a fault get the same shape.

A router raises the domain's errors; an error whose status is not 422 is named in STATUS_BY_CODE."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from refill.errors import RefillError, problem
from refill.help.selectors import help_url

from .problems import server_error_problem

# The name the API's faults were always logged under (log filters and alerts look for it).
logger = logging.getLogger("refill.api.v1")

# A domain error's HTTP status by its code; any other code is 422.
STATUS_BY_CODE = {
    "too_many_pin_attempts": 429,
    "number_not_found": 404,
    "voucher_unknown": 422,
    "voucher_used": 409,
    "voucher_expired": 422,
    "voucher_voided": 422,
    "voucher_wrong_currency": 422,
    "not_found": 404,
    "payment_declined": 402,
    "payment_in_progress": 409,
    "price_changed": 409,
    "too_many_declines": 429,
    "scope_missing": 403,
    "fleet_viewer_read_only": 403,
    "esim_download_limit": 409,
    "esim_download_in_progress": 409,
    "esim_reissue_not_allowed": 409,
    "esim_not_paid": 409,
    "not_an_esim_line": 404,
    "esim_out_of_stock": 503,
    "smdp_unavailable": 503,
    "invalid_cursor": 422,
    "too_many_gifts": 429,
    "bad_usage_batch": 422,
}

# Refusals a help article explains: the problem carries its address for the app to open.
HELP_TOPIC_BY_CODE = {"payment_declined": "payment-declined", "too_many_declines": "payment-declined"}


def exception_handlers_add(api: NinjaAPI) -> None:
    """Answer every exception an operation of ``api`` raises as a problem."""

    def answer(request: HttpRequest, status: int, code: str, detail: str, **extra):
        response = api.create_response(request, {**problem(status, code, detail), **extra}, status=status)
        response["Content-Type"] = "application/problem+json"
        return response

    def refill_error(request: HttpRequest, exc: RefillError):
        status = STATUS_BY_CODE.get(exc.code, 422)
        extra = dict(getattr(exc, "extra", {}))
        if exc.code in HELP_TOPIC_BY_CODE:
            extra["help_url"] = settings.REFILL_PUBLIC_URL.rstrip("/") + help_url(HELP_TOPIC_BY_CODE[exc.code])
        response = answer(request, status, exc.code, str(exc), **extra)
        if status == 429:
            response["Retry-After"] = "86400" if exc.code == "too_many_gifts" else "3600"
        return response

    # Ninja's own refusals, in the same shape (RFC 9457) as every other.

    def not_authenticated(request: HttpRequest, exc: AuthenticationError):
        response = answer(
            request, 401, "not_authenticated", _("Sign in (an app session token) or send an API key to use this.")
        )
        response["WWW-Authenticate"] = 'Bearer realm="refill"'
        return response

    def invalid_request(request: HttpRequest, exc: ValidationError):
        errors = [
            {"location": [str(part) for part in error.get("loc", ())], "message": str(error.get("msg", ""))}
            for error in exc.errors
        ]
        detail = _("The request is not valid. Check these fields: %(fields)s") % {
            "fields": ", ".join(".".join(error["location"][1:] or error["location"]) for error in errors)
        }
        return answer(request, 422, "invalid_request", detail, errors=errors)

    def not_found(request: HttpRequest, exc: Http404):
        return answer(request, 404, "not_found", _("There is nothing here, or it is not yours."))

    def http_error(request: HttpRequest, exc: HttpError):
        if exc.status_code == 403:  # the only 403 ninja makes itself: a session cookie without its CSRF token
            detail = _("A browser session needs its CSRF token for this. Apps send X-Session-Token instead.")
            return answer(request, 403, "csrf_failed", detail)
        if exc.status_code == 400:
            detail = _("The request body is not a JSON object, or holds a NUL or a lone surrogate.")
            return answer(request, 400, "bad_request", detail)
        return answer(request, exc.status_code, "http_error", str(exc))

    def server_error(request: HttpRequest, exc: Exception):
        logger.error("API %s %s failed", request.method, request.path, exc_info=exc)
        # As Django itself does for a view that raised (the test client re-raises on this signal).
        got_request_exception.send(sender=None, request=request)
        body = server_error_problem(request)
        return answer(request, 500, "server_error", body["detail"], request_id=body["request_id"])

    api.add_exception_handler(RefillError, refill_error)
    api.add_exception_handler(AuthenticationError, not_authenticated)
    api.add_exception_handler(ValidationError, invalid_request)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Exception, server_error)
