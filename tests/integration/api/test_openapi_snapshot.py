"""The published API description does not change by accident: ``/api/v1/openapi.json`` is compared
with the committed copy, ``openapi-v1.json`` next to this file (operation ids, paths, parameters,
schemas, descriptions). Partners generate clients from it, so a refactor of where the endpoints live
(one router per app, docs/api.md) must leave it as it was, and an intended change is reviewed as a
change of this file.

After an intended change, write the new copy and commit it with the change:
``REFILL_OPENAPI_SNAPSHOT=write pytest tests/integration/api/test_openapi_snapshot.py``."""

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
SNAPSHOT = Path(__file__).with_name("openapi-v1.json")


def _text(schema: dict) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _operations(schema: dict) -> dict[tuple[str, str], dict]:
    return {
        (method, path): operation for path, methods in schema["paths"].items() for method, operation in methods.items()
    }


def test_the_published_schema_is_the_committed_one(client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    published = json.loads(answer.content)
    if os.environ.get("REFILL_OPENAPI_SNAPSHOT") == "write":
        SNAPSHOT.write_text(_text(published), encoding="utf-8")
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    # The differences a reader looks for first, named; then the whole document.
    now, then = _operations(published), _operations(committed)
    assert sorted(now) == sorted(then), "operations added or removed"
    assert {key: op.get("operationId") for key, op in now.items()} == {
        key: op.get("operationId") for key, op in then.items()
    }, "operation ids changed: generated clients name their methods after them"
    assert sorted(published["components"]["schemas"]) == sorted(committed["components"]["schemas"])
    assert _text(published) == _text(committed)


def test_the_schema_does_not_depend_on_the_callers_language(client):
    """Descriptions are the code's own words, not translated: one document for every client."""
    english = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").content
    chinese = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert json.loads(english) == json.loads(chinese)
