"""RFC 9457 problem details, the one shape of every API refusal (docs/api.md)."""

from __future__ import annotations

from django.http import JsonResponse
from ninja.parser import Parser


def problem(status: int, code: str, detail: str) -> dict:
    return {
        "type": f"https://refill.example/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
    }


def problem_response(status: int, code: str, detail: str) -> JsonResponse:
    """For refusals made before the API's views run (middleware)."""
    return JsonResponse(problem(status, code, detail), status=status, content_type="application/problem+json")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class RefusingParser(Parser):
    """django-ninja's JSON parser, refusing text with NUL characters (no database takes them): the
    request is a 400 ``bad_request`` problem, never a server error."""

    def parse_body(self, request):
        import json

        body = request.body
        data = json.loads(body)
        # JSON text can only carry a NUL escaped, or in a UTF-16/32 body (whose every ASCII
        # character has zero bytes): the parsed values are walked only then, not for every batch.
        if (b"\\u0000" in body or b"\x00" in body) and _has_nul(data):
            raise ValueError("NUL in the body")
        return data


class ApiInputMiddleware:
    """NUL characters in an /api/v1/ path or query string: refused as a 400 problem before any view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/v1/") and (
            "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.GET.items())
        ):
            from django.utils.translation import gettext as _

            return problem_response(400, "bad_request", _("The request holds a NUL character, which no field accepts."))
        return self.get_response(request)
