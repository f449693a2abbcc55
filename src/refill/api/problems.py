"""RFC 9457 problem details, the one shape of every API refusal (docs/api.md)."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from ninja import Schema
from ninja.parser import Parser

from refill.errors import problem, problem_response


def _unstorable(value) -> bool:
    """Whether any text in the parsed body is one no database stores: a NUL, or a lone UTF-16
    surrogate (``"\\ud800"`` unpaired: not a character, and not encodable as UTF-8)."""
    if isinstance(value, str):
        return "\x00" in value or _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


_SURROGATE = re.compile("[\ud800-\udfff]")


class RefusingParser(Parser):
    """django-ninja's JSON parser, refusing text no database takes (a NUL character, a lone
    surrogate): the request is a 400 ``bad_request`` problem, never a server error."""

    def parse_body(self, request):
        body = request.body
        data = json.loads(body)
        # JSON text can only carry a NUL or a lone surrogate escaped (``\\u…``), or in a UTF-16/32
        # body (whose every ASCII character has zero bytes): the parsed values are walked only
        # then, not for every batch. A pair of escaped surrogates is one character, and welcome.
        if (b"\\u" in body or b"\x00" in body) and _unstorable(data):
            raise ValueError("text no database stores")
        if not isinstance(data, dict):
            # Every body the API takes is an object. Ninja's schemas read attributes of anything
            # else (as of an ORM row), so ``[1, 2]`` or ``7`` would pass as "no fields given".
            raise ValueError("not a JSON object")
        return data


class Problem(Schema):
    """The documented shape of every refusal (RFC 9457), with the members some refusals add."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    # Declines only: the normalised reason and the order that stays unpaid.
    decline_code: str | None = None
    order_id: int | None = None
    # Invalid requests only: each field refused and why.
    errors: list[dict] | None = None
    # Refusals a help article explains (a declined payment): the article's address.
    help_url: str | None = None
    # Server errors only: the id under which the fault is logged, to quote to support.
    request_id: str | None = None


def server_error_problem(request) -> dict:
    """A fault on our side: generic words (no traceback, nothing of the cause) and the request's id."""
    detail = _("Something went wrong on our side. Please try again later.")
    return {**problem(500, "server_error", str(detail)), "request_id": getattr(request, "request_id", None)}


# What an /api/ answer that is not a problem yet (Django's own 404 page, ninja's bare 405, an
# error page from a middleware, the 500 page) becomes: the same status, as a problem.
REWORDED = {
    400: ("bad_request", _("The request is malformed.")),
    403: ("forbidden", _("You may not do this.")),
    404: ("not_found", _("There is nothing here, or it is not yours.")),
    405: ("method_not_allowed", _("This address does not take this method. The Allow header lists those it takes.")),
    413: ("payload_too_large", _("The request body is too large.")),
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary", "Cache-Control", "X-Request-ID")


def _body_too_large(request) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        return limit is not None and int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False  # not a number: Django's own reading refuses it, and the answer is reworded


def _has_body(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def _empty_form(request) -> bool:
    """A multipart form without a part (only its closing boundary): what many HTTP clients (Django's
    test client too) send for a bare POST. It carries nothing, so it is no body at all, not a body
    of the wrong type."""
    boundary = request.content_params.get("boundary", "") if request.content_type == "multipart/form-data" else ""
    return bool(boundary) and request.body.strip() == f"--{boundary}--".encode()


def _is_json(content_type: str) -> bool:
    kind, _slash, subtype = content_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class ApiInputMiddleware:
    """The API's contract at its edge (docs/api.md, "Errors"): what no operation accepts is refused
    before any view (a NUL in the path or query: 400; a body over the size limit: 413; a body that
    is not JSON: 415), and every error answer under /api/ is an RFC 9457 problem, whoever made it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        response = self._refusal(request) or self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/problem+json"):
            return self._as_problem(request, response)
        return response

    def _refusal(self, request):
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.GET.items()):
            return problem_response(400, "bad_request", _("The request holds a NUL character, which no field accepts."))
        if _body_too_large(request):
            detail = _("The request body is larger than %(limit)s bytes.") % {
                "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            }
            return problem_response(413, "payload_too_large", detail)
        if _has_body(request) and not _is_json(request.content_type or "") and not _empty_form(request):
            response = problem_response(
                415, "unsupported_media_type", _("Send the request body as JSON, with Content-Type: application/json.")
            )
            response["Accept"] = "application/json"
            return response
        return None

    def _as_problem(self, request, response):
        status = response.status_code
        if status >= 500:
            body = server_error_problem(request)
            body["status"] = status
        else:
            code, detail = REWORDED.get(status, ("http_error", _("The request was refused.")))
            body = problem(status, code, str(detail))
        reworded = JsonResponse(body, status=status, content_type="application/problem+json")
        for name in KEPT_HEADERS:
            if name in response:
                reworded[name] = response[name]
        reworded.cookies = response.cookies
        return reworded
