"""A renewal's quote with its promotions: automatic offers without a code, a typed code, and why a
code does not apply, in the customer's language."""

from decimal import Decimal

import pytest
from django.utils.translation import override

from refill.domain.promotions import Refusal
from refill.orders.pricing import renewal_quote_promoted
from refill.promotions.errors import PromotionUnknown
from refill.promotions.models import Promotion
from tests.factories import make_customer, make_line, make_market, make_plan, renew
from tests.factories import make_promotion as promotion

pytestmark = pytest.mark.django_db


@pytest.fixture
def line_and_plan():
    market = make_market(tax_rate=Decimal("0.10"))
    plan = make_plan(market, "us-30day", price="20.00", max_prepaid_periods=3)
    customer, _ = make_customer()
    return make_line(customer, market, plan), plan


def test_an_automatic_offer_and_a_code_stack(line_and_plan):
    line, plan = line_and_plan
    promotion(line.market, priority=10)
    promotion(line.market, code="TWO", kind="amount_off", amount=Decimal(2), priority=20)
    shown = renewal_quote_promoted(line=line, plan=plan, periods=1)
    assert shown.quote.discount.amount == Decimal("2.00") and shown.quote.total.amount == Decimal("19.80")
    both = renewal_quote_promoted(line=line, plan=plan, periods=1, code="two")
    assert both.quote.discount.amount == Decimal("4.00")  # 10 % of 20, then 2 off
    assert (both.quote.tax.amount, both.quote.total.amount) == (Decimal("1.60"), Decimal("17.60"))
    assert both.code_refusal is None


def test_a_code_that_does_not_apply_says_why_in_the_customers_language(line_and_plan):
    line, plan = line_and_plan
    other = make_plan(line.market, "us-7day")
    code = promotion(line.market, code="WEEK")
    code.plans.add(other)
    shown = renewal_quote_promoted(line=line, plan=plan, periods=1, code="WEEK")
    assert shown.code_refusal.refusal == Refusal.NOT_FOR_PLAN and shown.quote.discount.amount == 0
    with override("zh-hans"):
        assert str(shown.code_refusal) == "此优惠不适用于该套餐。"
    with pytest.raises(PromotionUnknown):
        renewal_quote_promoted(line=line, plan=plan, periods=1, code="NOPE")


def test_first_order_and_free_periods_within_the_prepaid_limit(line_and_plan):
    line, plan = line_and_plan
    promotion(line.market, kind="first_order", percent=Decimal(50), priority=10)
    promotion(line.market, kind="extra_periods", buy_periods=1, free_periods=1, priority=20)
    first = renewal_quote_promoted(line=line, plan=plan, periods=2)
    assert first.quote.discount.amount == Decimal("20.00") and first.offers.free_periods == 1  # room 3 - 2
    renew(line, plan)
    later = renewal_quote_promoted(line=line, plan=plan, periods=1)
    assert later.quote.discount.amount == 0
    assert later.offers.refused[Promotion.objects.get(kind="first_order").pk] == Refusal.FIRST_ORDER_ONLY
