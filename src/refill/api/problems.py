"""RFC 9457 problem details, the one shape of every API refusal (docs/api.md)."""

from __future__ import annotations

from django.http import JsonResponse


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
