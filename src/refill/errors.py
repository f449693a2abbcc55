"""The base of every domain error: a stable ``code`` and a translated, customer-facing message; and
the problem document (RFC 9457) that carries a code to a machine, the API's and any middleware's
refusal of an API request."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _


class RefillError(Exception):
    code = "error"
    message = _("Something went wrong. Nothing was charged. Please try again.")

    def __init__(self, message=None, **params) -> None:
        self.params = params
        if message is not None:
            self.message = message
        super().__init__(self.code)

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


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
