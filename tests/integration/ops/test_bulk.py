"""Set-based writes and reads for batch work (refill.ops.bulk, refill.ops.lookups): the same rows
written and found on SQLite and PostgreSQL as the ORM's own statements would."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refill.ledger.models import JournalEntry
from refill.lines.models import Line
from refill.ops.bulk import bulk_insert, bulk_set, unsaved
from refill.ops.lookups import LONG
from tests import factories
from tests.factories import make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db


def test_bulk_set_and_bulk_insert_write_what_the_orm_would():
    market = make_market()
    plan = make_plan(market, "p")
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    changes = bulk_insert(
        Line.status_changes.rel.related_model(line=line, from_status="pending", to_status=status, cause="test")
        for status in ("active", "grace")
    )
    assert all(change.pk for change in changes)
    assert list(line.status_changes.order_by("pk").values_list("to_status", flat=True)) == ["active", "grace"]
    when = datetime(2027, 1, 31, 23, 59, 59, 123456, tzinfo=UTC)
    line.period_end, line.anchor_day, line.status = when, None, "active"
    other = make_line(customer, market, plan)
    other.period_end, other.anchor_day = None, 31
    assert bulk_set([line, other], ["period_end", "anchor_day", "status"]) == 2
    line.refresh_from_db()
    other.refresh_from_db()
    assert (line.period_end, line.anchor_day, line.status) == (when, None, "active")
    assert (other.period_end, other.anchor_day) == (None, 31)


def test_bulk_insert_takes_keys_of_related_objects_saved_after_it_was_built():
    market = make_market()
    plan = make_plan(market, "p")
    customer, _ = make_customer()
    line = make_line(customer, market, plan)
    line.pk, line.msisdn, line.iccid = None, "+12025550199", factories._iccid()
    change = Line.status_changes.rel.related_model(line=line, from_status="pending", to_status="active", cause="t")
    with pytest.raises(ValueError, match="unsaved related object"):
        bulk_insert([change])
    line.save()
    [change] = bulk_insert([change])
    assert change.line_id == line.pk
    assert line.status_changes.get().pk == change.pk


def test_long_in_lists_find_what_in_finds():
    market = make_market()
    plan = make_plan(market, "p")
    customer, _ = make_customer()
    lines = [make_line(customer, market, plan) for _ in range(3)]
    ids = [line.pk for line in lines]
    # Long lists with misses, duplicates and None: the same rows as a short list of the hits.
    padding = list(range(10**9, 10**9 + LONG))
    with CaptureQueriesContext(connection) as queries:
        found = set(Line.objects.filter(pk__in=[*ids, *padding, ids[0], None]).values_list("pk", flat=True))
        by_owner = set(Line.objects.filter(owner__in=[customer.pk, *padding]).values_list("pk", flat=True))
        by_owner_id = set(Line.objects.filter(owner_id__in=[customer, *padding]).values_list("pk", flat=True))
    assert found == by_owner == by_owner_id == set(ids)
    if connection.vendor == "postgresql":
        assert all("= ANY(" in query["sql"] for query in queries.captured_queries)
    keys = [f"k{n}" for n in range(LONG * 2)]
    assert not JournalEntry.objects.filter(idempotency_key__in=keys).exists()
    assert Line.objects.filter(msisdn__in=[lines[1].msisdn, *keys]).get().pk == ids[1]
    # A long list of nothing but None (attempts that never made an order) matches nothing.
    assert not Line.objects.filter(pk__in=[None] * (LONG + 4)).exists()
    assert not Line.objects.filter(owner_id__in=[None] * (LONG + 4)).exists()
    # Short and empty lists are Django's own IN.
    assert Line.objects.filter(pk__in=ids[:2]).count() == 2
    assert not Line.objects.filter(pk__in=[]).exists()
    assert Line.objects.filter(pk__in=Line.objects.filter(pk__in=[*ids, *padding]).values("pk")).count() == 3


def test_unsaved_builds_what_the_constructor_builds():
    from refill.orders.models import Order
    from refill.payments.models import Payment

    market = make_market()
    customer, _ = make_customer()
    fields = {"customer": customer, "market": market, "idempotency_key": "k", "currency": "USD"}
    fields |= {"subtotal": 5, "tax": 0, "total": 5, "tax_rate": 0, "tax_inclusive": True}
    built, constructed = unsaved(Order, **fields), Order(**fields)
    for field in Order._meta.concrete_fields:
        if field.name != "created_at":
            assert getattr(built, field.attname) == getattr(constructed, field.attname), field.name
    # Callable defaults are called per instance; related objects are cached, not fetched again.
    assert built.created_at and built.created_at != unsaved(Order, **fields).created_at
    assert built.customer is customer and built.customer_id == customer.pk and built._state.adding
    built.save()
    assert Order.objects.get(pk=built.pk).market_id == market.pk
    with pytest.raises(TypeError, match="no field 'colour'"):
        unsaved(Payment, colour="red")
