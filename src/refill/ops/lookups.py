"""``__in`` with a long list of ids or keys, sent to PostgreSQL as one array (``col = ANY(%s)``).

Django writes one placeholder per value (``col IN (%s, %s, ...)``). Batch work filters on hundreds
of ids at a time, and a query with hundreds of placeholders is parsed afresh by psycopg on every
call (its cache skips long queries) and planned afresh by PostgreSQL; one array parameter keeps the
query short and the same from call to call. The rows matched are the same. Lists of other kinds of
values, subqueries, short lists and other databases keep Django's ``IN``."""

from __future__ import annotations

from django.db.models import Field
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

# Below this many values the IN list is as cheap.
LONG = 16


class _ArrayIn:
    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value() or len(self.rhs) < LONG:
            return self.as_sql(compiler, connection)
        try:
            values = list(dict.fromkeys(value for value in self.rhs if value is not None))
        except TypeError:  # unhashable values: not ids or keys
            return self.as_sql(compiler, connection)
        if not values:  # only None: Django's IN matches nothing, as SQL's NULL compares to nothing
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sqls, params = self.batch_process_rhs(compiler, connection, values)
        # Plain placeholders, and one type per array (psycopg types a list by its values: int8[], text[]).
        if any(sql != "%s" for sql in sqls) or {type(p) for p in params} not in ({int}, {str}):
            return self.as_sql(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(params))


@Field.register_lookup
class ArrayIn(_ArrayIn, In):
    pass


@ForeignObject.register_lookup
class RelatedArrayIn(_ArrayIn, RelatedIn):
    pass
