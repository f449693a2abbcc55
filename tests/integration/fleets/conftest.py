"""A business with a fleet of lines, its administrator and a viewer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.customers.models import Customer
from refill.fleets.models import FleetMember
from refill.lines.models import Line
from tests.factories import _iccid, make_customer, make_market, make_plan


class Fleet:
    def __init__(self, size: int, *, tax: str = "0.0800") -> None:
        self.market = make_market(tax_rate=Decimal(tax), tax_inclusive=False)
        self.plan = make_plan(self.market, "iot-30", price="10.00", max_prepaid_periods=3)
        self.other_plan = make_plan(self.market, "iot-big", price="15.00")
        self.customer, self.admin = make_customer("fleet-admin@acme.example")
        Customer.objects.filter(pk=self.customer.pk).update(kind="business", display_name="Acme Logistics")
        self.customer.refresh_from_db()
        FleetMember.objects.create(user=self.admin, role="admin")
        self.viewer = make_customer("fleet-viewer@acme.example")[1]
        self.viewer.customer = self.customer
        self.viewer.save()
        FleetMember.objects.create(user=self.viewer, role="viewer")
        now = timezone.now()
        self.lines = Line.objects.bulk_create(
            Line(
                msisdn=f"+1202600{n:04d}",
                iccid=_iccid(),
                sim_type="esim",
                owner=self.customer,
                market=self.market,
                plan=self.plan,
                status="active",
                period_end=now + timedelta(days=5),
            )
            for n in range(size)
        )


@pytest.fixture
def fleet(db):
    return Fleet(12)
