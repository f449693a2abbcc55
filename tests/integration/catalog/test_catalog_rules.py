from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.catalog.models import PlanPrice, SoldPriceChange
from refill.domain.identifiers import InvalidIdentifier
from refill.lines.models import Line
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db


def test_a_sold_price_cannot_be_edited_but_an_unsold_one_can():
    market = make_market()
    plan = make_plan(market, "p", price="10.00")
    price = PlanPrice.objects.get(plan=plan)
    price.amount = Decimal("11.00")
    price.save()  # not sold yet: a typo may be fixed
    customer, _ = make_customer()
    renew(make_line(customer, market, plan), plan, now=timezone.now())
    price.amount = Decimal("12.00")
    with pytest.raises(SoldPriceChange):
        price.save()
    assert PlanPrice.objects.get(pk=price.pk).amount == Decimal("11.00")
    price.refresh_from_db()
    price.valid_until = timezone.now()  # ending a price is allowed
    price.save()


def test_lines_store_only_valid_identifiers():
    market = make_market()
    plan = make_plan(market)
    customer, _ = make_customer()
    line = Line.objects.create(
        msisdn="+1 (202) 555-0143",
        iccid="8931 0708 2030 7245 732F",
        sim_type="esim",
        owner=customer,
        market=market,
        plan=plan,
    )
    line.refresh_from_db()
    assert (line.msisdn, line.iccid) == ("+12025550143", "8931070820307245732")
    with pytest.raises(InvalidIdentifier):
        Line.objects.create(
            msisdn="+1 555", iccid="8931070820307245740", sim_type="esim", owner=customer, market=market, plan=plan
        )
    with pytest.raises(InvalidIdentifier):
        Line.objects.create(
            msisdn="+12025550199",
            iccid="8931070820307245733",
            sim_type="esim",
            owner=customer,
            market=market,
            plan=plan,
        )
    assert Line.objects.count() == 1


def test_back_office_pages_open_for_staff(client, django_user_model):
    market = make_market()
    plan = make_plan(market)
    customer, _ = make_customer()
    renew(make_line(customer, market, plan), plan, now=timezone.now())
    staff = django_user_model.objects.create_user(
        "staff@example.com", "x-pass-12345", is_staff=True, is_superuser=True, role="staff"
    )
    login(client, staff)
    for name in [
        "catalog_market",
        "catalog_plan",
        "catalog_planprice",
        "lines_line",
        "orders_order",
        "orders_receipt",
        "audit_auditevent",
        "customers_customer",
        "customers_user",
    ]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:lines_line_change", args=[Line.objects.get().pk])).status_code == 200
    assert client.get(reverse("admin:catalog_plan_change", args=[plan.pk])).status_code == 200
