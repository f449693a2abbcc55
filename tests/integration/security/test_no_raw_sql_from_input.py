"""No SQL is built from input: every statement handed to the database by hand (cursor.execute,
executemany, RawSQL, Manager.raw, QuerySet.extra) is either a plain string literal, or built in
one of the reviewed places below, which put only quoted table and column names and placeholders
into the text and pass every value as a parameter. A new hand-built statement fails this test
until it has been reviewed the same way and added, with its reason."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "refill"
SQL_CALLS = {"execute", "executemany", "raw", "extra", "RawSQL"}

# (file under src/refill, function): why the statement text is safe.
REVIEWED: dict[tuple[str, str], str] = {
    ("ops/bulk.py", "bulk_set"): "quote_name'd model table/columns, %s placeholders and casts from field types",
    ("ops/bulk.py", "counter_add"): "quote_name'd model table/columns and %s placeholders; values in params",
    ("lines/services.py", "_move_set_postgres"): "ORM-compiled subquery (sql_with_params), quoted table names",
    ("renewals/autorenew.py", "_claim"): "quote_name'd names and %s placeholders; values in params",
    ("renewals/autorenew_outcomes.py", "attempts_finish"): "quote_name'd names and one %s per id; values in params",
    ("integrations/payments/sandbox.py", "_insert"): "quote_name'd columns and %s placeholders; values in params",
    ("subscriptions/usage.py", "lines"): "table names from model meta; IN/ANY of %s placeholders only",
    ("subscriptions/usage.py", "known"): "table names from model meta; IN/ANY of %s placeholders only",
    ("subscriptions/usage.py", "insert"): "table names and a fixed column list; values as parameters",
    ("subscriptions/usage.py", "buckets"): "fixed column list, table names, a numeric constant; values as parameters",
    ("subscriptions/usage.py", "_set"): "table/column names fixed by its two callers in this module",
    ("api/fastpath.py", "_read"): "statement from _sql(): quoted table names and %s placeholders",
    # Migrations: fixed DDL for the append-only triggers and a table setting, no input at all.
    ("audit/migrations/0004_append_only_triggers.py", "_run"): "constant DDL statements",
    ("audit/migrations/0004_append_only_triggers.py", "apply"): "constant DDL statements",
    ("ledger/migrations/0002_append_only_triggers.py", "_run"): "constant DDL statements",
    ("ledger/migrations/0002_append_only_triggers.py", "apply"): "constant DDL statements",
    ("subscriptions/migrations/0005_bucket_hot_updates.py", "leave_room_for_updates"): "model table name",
}


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    # "a" "b" and ("a" + "b") of literals only
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add)
        and _is_literal(node.left)
        and _is_literal(node.right)
    )


def hand_built_statements() -> set[tuple[str, str]]:
    """(file, enclosing function) of every SQL call whose statement is not a plain literal."""
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and _call_name(node) in SQL_CALLS):
                    continue
                statement = (
                    node.args[0]
                    if node.args
                    else next(
                        (k.value for k in node.keywords if k.arg in ("sql", "raw_query", "where", "select")), None
                    )
                )
                if statement is None or _is_literal(statement):
                    continue
                if _call_name(node) in {"raw", "extra"} and not _looks_like_sql_call(node):
                    continue
                found.add((path.relative_to(SRC).as_posix(), function.name))
    return found


def _looks_like_sql_call(node: ast.Call) -> bool:
    # `.raw(` and `.extra(` are common names; only Manager.raw / QuerySet.extra take SQL. Anything
    # whose receiver mentions objects or a queryset is treated as SQL.
    receiver = ast.unparse(node.func.value) if isinstance(node.func, ast.Attribute) else ""
    return "objects" in receiver or "queryset" in receiver.lower() or receiver.endswith(("_set", "qs"))


def test_every_hand_built_statement_was_reviewed():
    assert hand_built_statements() - set(REVIEWED) == set()


def test_the_review_list_has_no_stale_entries():
    assert set(REVIEWED) - hand_built_statements() == set()


def test_no_statement_is_formatted_with_percent_or_format():
    # `"... %s" % value` or `"...{}".format(value)` as a statement puts a value into the SQL text.
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _call_name(node) in {"execute", "executemany", "RawSQL"} and node.args:
                statement = node.args[0]
                if isinstance(statement, ast.BinOp) and isinstance(statement.op, ast.Mod):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
                if isinstance(statement, ast.Call) and _call_name(statement) == "format":
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
