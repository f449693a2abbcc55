"""The orders list on a 390 × 844 phone (new user, Dec 2026): every order card puts its amount in
the same place (top right, beside the title), whatever the title's length, and a plan name such as
"7-Day Plan" is never broken at its hyphen."""

import pytest

from tests.e2e.helpers import assert_language, choose_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "orders-pass-2026"
# Whether the characters on either side of a hyphen in the element's text sit on different lines.
SPLIT_AT_HYPHEN = """e => {
  const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    for (let i = 0; i < node.data.length; i++) chars.push([node, i]);
  const top = ([node, i]) => {
    const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
    return Math.round(range.getBoundingClientRect().top);
  };
  return chars.some(([node, i], k) => node.data[i] === "-" && k > 0 && k + 1 < chars.length
    && top(chars[k - 1]) !== top(chars[k + 1]));
}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_order_card_puts_its_amount_in_the_same_place(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market()
    week = make_plan(market, "us-week", price="9.00", validity_count=7, name_en="7-Day Plan", name_zh_hans="7天套餐")
    thirty = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    roaming = make_plan(market, "us-roam", price="1234.00", name_en="Travel Roaming 7-Day Unlimited Plus",
                        name_zh_hans="国际漫游 7 天无限畅享套餐")  # fmt: skip
    customer, user = make_customer("orders@example.com", password=PASSWORD)
    line = make_line(customer, market, week, msisdn="+12025550143")
    renew(line, week)
    renew(line, thirty, periods=3)
    renew(line, roaming)
    renew(line, week)

    log_in(page, base, user.email, PASSWORD)
    choose_language(page, base, language)
    page.goto(f"{base}/orders/")
    assert_language(page, language)
    shot(page, f"orders-cards-{language}")
    cards = page.get_by_test_id("order")
    assert cards.count() == 4
    places, broken = [], []
    for n in range(cards.count()):
        card = cards.nth(n)
        box, amount = card.bounding_box(), card.get_by_test_id("order-total").bounding_box()
        places.append((round(box["x"] + box["width"] - amount["x"] - amount["width"]), round(amount["y"] - box["y"])))
        # each plan name sits on one line: never "7-" at a line's end and "Day" on the next
        for plan in card.get_by_test_id("order-plan").all():
            broken.append((plan.inner_text(), plan.evaluate(SPLIT_AT_HYPHEN)))
    assert len(set(places)) == 1, places
    assert not [name for name, split in broken if split]
