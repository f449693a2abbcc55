"""The OpenAPI document of API v1 (``/api/v1/openapi.json``): ninja's, and what every operation may
answer besides its own results. ``tests/integration/api/test_openapi_snapshot.py`` keeps it as
published."""

from __future__ import annotations

from ninja import NinjaAPI

from .idempotency import REQUIRED


class RefillAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI says what every operation may answer besides its own results: the
    problems any request can meet (invalid, not signed in, too many requests, a server fault), all
    as ``application/problem+json``, and the ``Idempotency-Key`` header the money POSTs require."""

    def get_openapi_operation_id(self, operation) -> str:
        # Published ids (clients generated from the document name their methods after them) were
        # ninja's default, the view's module and name, from when every view was in refill.api.v1.
        # The views now live in each app's api.py: the ids stay as published.
        return f"refill_api_v1_{operation.view_func.__name__}"

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem_schema = {"$ref": "#/components/schemas/Problem"}
        common = {
            422: "The request does not fit this schema, or is refused",
            429: "Too many requests: wait for Retry-After",
            500: "A fault on our side",
        }
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                wanted = dict(common)
                security = {name for scheme in operation.get("security", []) for name in scheme}
                if security:
                    wanted[401] = "Not signed in, and no valid API key"
                if "SessionAuth" in security and method in ("post", "put", "patch", "delete"):
                    wanted[403] = "A browser session without its CSRF token (csrf_failed)"
                wanted[400] = "Malformed: a body that is not a JSON object, a NUL anywhere, a lone surrogate"
                if "requestBody" in operation:
                    wanted[413] = "The body is larger than the server takes (DATA_UPLOAD_MAX_MEMORY_SIZE)"
                    wanted[415] = "The body is not application/json"
                for code, description in wanted.items():
                    responses.setdefault(code, {"description": description})
                for code, response in responses.items():
                    content = response.get("content", {})
                    if (
                        int(code) >= 400
                        and not content
                        or content.get("application/json", {}).get("schema") == problem_schema
                    ):
                        response["content"] = {"application/problem+json": {"schema": problem_schema}}
                media = {".pdf": "application/pdf", ".png": "image/png"}.get(path[-4:])
                if media and 200 in responses:
                    responses[200]["content"] = {media: {"schema": {"type": "string", "format": "binary"}}}
                if method == "post" and any(pattern.match(path) for pattern in REQUIRED):
                    operation.setdefault("parameters", []).append(
                        {
                            "in": "header", "name": "Idempotency-Key", "required": True,
                            "description": "Your key for this request: sent again, the first answer is replayed.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                        }
                    )  # fmt: skip
        return schema
