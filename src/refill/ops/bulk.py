"""Set-based writes the ORM makes slow, for batch work (auto-renew, bulk renewals).

- ``bulk_set``: one UPDATE for many rows, each with its own values. Django's ``bulk_update``
  builds a CASE expression per field and row, which costs milliseconds per hundred rows in Python
  alone; this joins the rows on the primary key (``UPDATE ... FROM``): on PostgreSQL one array
  per column, unnested, so the statement stays short; on SQLite 3.33+ a VALUES list. Every value
  is prepared by its field exactly as the ORM would.
- ``unsaved``: a new instance built straight into its ``__dict__``, for the thousands of rows a
  batch makes; ``Model.__init__`` costs more than the rest of writing the row.
- ``bulk_insert``: new rows of one model. On PostgreSQL their primary keys are taken from the
  table's sequence in one query and the rows sent with COPY, which skips the ORM's per-value
  preparation; elsewhere (SQLite, the embedded default) it is ``bulk_create``.
- ``counter_add``: add to a shared counter row (a rate window, a provider's budget) and read the
  total back, in one statement.
- ``aware``: a datetime read by plain SQL, aware on both engines."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection as default_connection
from django.db import models
from django.db.models.base import ModelState
from django.utils import timezone

# Rows per statement: far below PostgreSQL's 65,535 parameters and SQLite's 32,766.
CHUNK = 1000


def bulk_set(objs: Sequence[models.Model], fields: Sequence[str], *, using=None) -> int:
    """Write ``fields`` of ``objs`` (saved rows of one model): one statement on PostgreSQL, one
    per CHUNK rows on SQLite. Returns the number of rows updated."""
    if not objs:
        return 0
    connection = using or default_connection
    model = type(objs[0])
    meta = model._meta
    q = connection.ops.quote_name
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    postgres = connection.vendor == "postgresql"

    def placeholder(field) -> str:
        # Say what each array holds. Text goes as text (a varchar(n) cast would cut an over-long
        # value short; the column refuses it).
        cast = field.cast_db_type(connection)
        return f"%s::{'text' if cast.startswith('varchar') else cast}"

    names = ["v_pk", *(f"v_{n}" for n in range(len(columns)))]
    assignments = ", ".join(f"{q(field.column)} = v.{names[n + 1]}" for n, field in enumerate(columns))
    table = q(meta.db_table)
    if postgres:
        # One array per column, unnested into rows: a short statement whatever the batch's size.
        arrays = ", ".join(f"{placeholder(field)}[]" for field in [pk, *columns])
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({', '.join(names)}) "
            f"WHERE {table}.{q(pk.column)} = v.v_pk"
        )
        params = [[pk.get_db_prep_value(obj.pk, connection) for obj in objs]]
        for field in columns:
            params.append([field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    # SQLite names VALUES columns column1, column2, ...: alias them in a subquery.
    aliases = ", ".join(f"column{n + 1} AS {name}" for n, name in enumerate(names))
    updated = 0
    for start in range(0, len(objs), CHUNK):
        chunk = objs[start : start + CHUNK]
        params = []
        for obj in chunk:
            params.append(pk.get_db_prep_value(obj.pk, connection))
            for field in columns:
                params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
        values = ", ".join([row_sql] * len(chunk))
        sql = (
            f"UPDATE {table} SET {assignments} FROM (SELECT {aliases} FROM (VALUES {values})) AS v "
            f"WHERE {table}.{q(pk.column)} = v.v_pk"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


_blueprints: dict[type, tuple[dict, list, dict, frozenset]] = {}


def _blueprint(model: type[models.Model]) -> tuple[dict, list, dict, frozenset]:
    constant, made = {}, []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            default = field.default
            if default is timezone.now and settings.USE_TZ:
                # What timezone.now answers, without reading the setting for every row.
                default = functools.partial(datetime.now, UTC)
            made.append((field.attname, default))
        else:
            constant[field.attname] = field.get_default()
    relations = {f.name: f for f in model._meta.concrete_fields if f.is_relation}
    names = frozenset(constant) | {attname for attname, _ in made} | frozenset(relations)
    _blueprints[model] = blueprint = (constant, made, relations, names)
    return blueprint


def unsaved[M: models.Model](model: type[M], **values) -> M:
    """An unsaved ``model`` instance, as ``model(**values)`` builds it (defaults for the fields not
    given; a related object given by field name is cached on the instance and its key taken
    when the row is written), without the per-field descriptors and ``post_init`` signal of
    ``Model.__init__``. For models without custom ``__init__`` or ``post_init`` receivers, which
    is all of Refill's."""
    constant, made, relations, names = _blueprints.get(model) or _blueprint(model)
    unknown = values.keys() - names
    if unknown:
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)[0]!r}")
    obj = model.__new__(model)
    obj._state = ModelState()
    attributes = obj.__dict__
    attributes.update(constant)
    for attname, default in made:
        attributes[attname] = default()
    for name, value in values.items():
        field = relations.get(name)
        if field is None:
            attributes[name] = value
        else:
            attributes[field.attname] = None if value is None else value.pk
            obj._state.fields_cache[name] = value
    return obj


_sequences: dict[str, str] = {}


def bulk_insert[M: models.Model](rows: Iterable[M]) -> list[M]:
    """Insert ``rows`` (new instances of one model); afterwards each knows its primary key.
    Raises IntegrityError as the ORM would if a row breaks a constraint (nothing is inserted)."""
    objs = list(rows)
    if not objs:
        return objs
    connection = default_connection
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs)
    meta = model._meta
    q = connection.ops.quote_name
    table = meta.db_table
    pk = meta.pk
    fields = list(meta.concrete_fields)
    now = timezone.now()
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for field in stamped:
        for obj in objs:
            if field.auto_now or getattr(obj, field.attname) is None:
                setattr(obj, field.attname, now)
    relations = [f for f in fields if f.is_relation]
    for obj in objs:
        # A foreign key given as an object saved after this one was built: take its key now (and
        # refuse an unsaved one), as the ORM does (Model._prepare_related_fields_for_save, reduced
        # to the concrete foreign keys that new rows have).
        cache = obj._state.fields_cache
        for field in relations:
            related = cache.get(field.name)
            if related is None:
                continue
            if related.pk is None:
                raise ValueError(
                    f"bulk_insert() prohibited to prevent data loss due to unsaved related object '{field.name}'."
                )
            if obj.__dict__[field.attname] != related.pk:
                obj.__dict__[field.attname] = related.pk
    with connection.wrap_database_errors, connection.cursor() as wrapper:
        cursor = wrapper.cursor
        missing = [obj for obj in objs if obj.pk is None]
        if missing:
            if table not in _sequences:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [q(table), pk.column])
                _sequences[table] = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [_sequences[table], len(missing)])
            for obj, (value,) in zip(missing, cursor.fetchall(), strict=True):
                obj.pk = value
        columns = ", ".join(q(f.column) for f in fields)
        # Every field of a new instance is in its __dict__ under its attname; JSON is dumped by its
        # field, everything else by psycopg.
        values = operator.itemgetter(*(f.attname for f in fields))
        dumped = [(n, f) for n, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
        with cursor.copy(f"COPY {q(table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                row = values(obj.__dict__)
                if dumped:
                    row = list(row)
                    for n, field in dumped:
                        row[n] = field.get_db_prep_save(row[n], connection)
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def counter_add(model: type[models.Model], keys: dict[str, object], field: str, amount: int) -> int:
    """Add ``amount`` to ``field`` of the row of ``model`` named by ``keys`` (a unique set of
    columns), creating it if need be; returns the total after it. One statement (an upsert), safe
    for many processes at once."""
    q = default_connection.ops.quote_name
    table = q(model._meta.db_table)
    names = [q(model._meta.get_field(name).column) for name in keys]
    column = q(model._meta.get_field(field).column)
    with default_connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(names)}, {column}) VALUES ({', '.join(['%s'] * (len(names) + 1))}) "
            f"ON CONFLICT ({', '.join(names)}) DO UPDATE SET {column} = {table}.{column} + excluded.{column} "
            f"RETURNING {column}",
            [*keys.values(), amount],
        )
        return cursor.fetchone()[0]


def aware(value: datetime | None) -> datetime | None:
    """A datetime read by plain SQL: PostgreSQL hands back aware ones, SQLite naive ones in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
