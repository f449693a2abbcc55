"""Database-enforced ledger rules: balanced entries of two or more lines, no line added to a posted
entry, no update or delete of entries or lines. One set of triggers per engine."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER ledger_line_after_posting BEFORE INSERT ON ledger_journalline
       WHEN EXISTS (SELECT 1 FROM ledger_journalentry WHERE id = NEW.entry_id)
       BEGIN SELECT RAISE(ABORT, 'ledger: lines cannot be added to a posted entry'); END""",
    """CREATE TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_journalentry
       WHEN (SELECT COUNT(*) FROM ledger_journalline WHERE entry_id = NEW.id) < 2
         OR EXISTS (SELECT 1 FROM ledger_journalline WHERE entry_id = NEW.id
                    GROUP BY currency HAVING ROUND(SUM(amount), 4) <> 0)
       BEGIN SELECT RAISE(ABORT, 'ledger: unbalanced entry'); END""",
    """CREATE TRIGGER ledger_line_no_update BEFORE UPDATE ON ledger_journalline
       BEGIN SELECT RAISE(ABORT, 'ledger: journal lines are append-only'); END""",
    """CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_journalentry
       BEGIN SELECT RAISE(ABORT, 'ledger: journal entries are append-only'); END""",
    """CREATE TRIGGER ledger_line_no_delete BEFORE DELETE ON ledger_journalline
       WHEN refill_ledger_guard() = 1
       BEGIN SELECT RAISE(ABORT, 'ledger: journal lines are append-only'); END""",
    """CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_journalentry
       WHEN refill_ledger_guard() = 1
       BEGIN SELECT RAISE(ABORT, 'ledger: journal entries are append-only'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "ledger_line_after_posting", "ledger_entry_balanced", "ledger_line_no_update", "ledger_entry_no_update",
        "ledger_line_no_delete", "ledger_entry_no_delete",
    )
]

POSTGRES = [
    """CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'ledger: % is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
       END $$""",
    """CREATE FUNCTION ledger_line_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM ledger_journalentry WHERE id = NEW.entry_id) THEN
           RAISE EXCEPTION 'ledger: lines cannot be added to a posted entry' USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE FUNCTION ledger_entry_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT COUNT(*) FROM ledger_journalline WHERE entry_id = NEW.id) < 2
            OR EXISTS (SELECT 1 FROM ledger_journalline WHERE entry_id = NEW.id
                       GROUP BY currency HAVING SUM(amount) <> 0) THEN
           RAISE EXCEPTION 'ledger: unbalanced entry %', NEW.id USING ERRCODE = 'check_violation';
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER ledger_line_after_posting BEFORE INSERT ON ledger_journalline
       FOR EACH ROW EXECUTE FUNCTION ledger_line_before_insert()""",
    """CREATE TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_journalentry
       FOR EACH ROW EXECUTE FUNCTION ledger_entry_after_insert()""",
    """CREATE TRIGGER ledger_line_append_only BEFORE UPDATE OR DELETE ON ledger_journalline
       FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()""",
    """CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_journalentry
       FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_journalentry",
    "DROP TRIGGER IF EXISTS ledger_line_append_only ON ledger_journalline",
    "DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry",
    "DROP TRIGGER IF EXISTS ledger_line_after_posting ON ledger_journalline",
    "DROP FUNCTION IF EXISTS ledger_entry_after_insert()",
    "DROP FUNCTION IF EXISTS ledger_line_before_insert()",
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
