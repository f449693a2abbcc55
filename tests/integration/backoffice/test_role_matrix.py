"""Every back office page and action × every kind of user: the four staff roles, a shop agent, a
customer and nobody. Each role reaches exactly what its permissions allow (others get 403, and
non-staff are sent to the staff login), and the table must name every back office URL, so a new
page cannot go untested. POST actions are refused before anything happens; an allowed role's
answer only has to be something other than a refusal (a form error or a 404 for a made-up id)."""

import uuid

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import get_resolver, reverse

from refill.customers.models import User
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_promotion, renew

pytestmark = pytest.mark.django_db
ROLES = ("support", "finance", "catalog", "admin")
EVERYONE = set(ROLES)

# name: (method, allowed roles)
TABLE: dict[str, tuple[str, set[str]]] = {
    "index": ("get", EVERYONE),
    "autorenew_attention": ("get", {"support", "finance", "admin"}),
    "customers": ("get", {"support", "finance", "admin"}),
    "customer": ("get", {"support", "finance", "admin"}),
    "customer_autorenew": ("post", {"support", "admin"}),
    "customer_esim": ("post", {"support", "admin"}),
    "customer_bucket": ("post", {"support", "admin"}),
    "customer_resend": ("post", {"support", "admin"}),
    "customer_goodwill": ("post", {"support", "admin"}),
    "audit": ("get", {"support", "finance", "admin"}),
    "audit_detail": ("get", {"support", "finance", "admin"}),
    "trial_balance": ("get", {"finance", "admin"}),
    "statement": ("get", {"finance", "admin"}),
    "refund": ("get", {"finance", "admin"}),
    "entry_correct": ("post", {"finance", "admin"}),
    "vouchers": ("get", {"finance", "admin"}),
    "vouchers_generate": ("post", {"finance", "admin"}),
    "vouchers_import": ("post", {"finance", "admin"}),
    "vouchers_void": ("post", {"finance", "admin"}),
    "provider_events": ("get", {"finance", "admin"}),
    "provider_event_replay": ("post", {"finance", "admin"}),
    "reports": ("get", {"finance", "catalog", "admin"}),
    "report_csv": ("get", {"finance", "catalog", "admin"}),
    "promotions": ("get", EVERYONE),
    "promotion_detail": ("get", EVERYONE),
    "promotion_create": ("get", {"catalog", "admin"}),
    "promotion_edit": ("get", {"catalog", "admin"}),
    "promotion_pause": ("post", {"catalog", "admin"}),
    "promotion_resume": ("post", {"catalog", "admin"}),
    "esim_inventory": ("get", {"support", "admin"}),
    "apikeys": ("get", {"admin"}),
    "webhooks": ("get", {"admin"}),
    "webhook_delete": ("post", {"admin"}),
    "catalog": ("get", {"catalog", "admin"}),
    "catalog_market": ("post", {"catalog", "admin"}),
    "catalog_pay_methods": ("post", {"catalog", "admin"}),
    "catalog_plan": ("post", {"catalog", "admin"}),
    "catalog_price": ("post", {"catalog", "admin"}),
}


def backoffice_names() -> set[str]:
    _prefix, resolver = get_resolver().namespace_dict["backoffice"]
    return {name for name in resolver.reverse_dict if isinstance(name, str)}


def test_the_table_names_every_back_office_url():
    assert backoffice_names() == set(TABLE)


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day")
    customer, _ = make_customer("matrix@example.com")
    line = make_line(customer, market, plan)
    order, _ = renew(line, plan)
    promotion = make_promotion(market)
    bucket = line.buckets.first()
    args = {
        "customer": [customer.pk], "statement": [customer.pk], "refund": [order.pk],
        "customer_autorenew": [customer.pk, line.pk], "customer_esim": [customer.pk, line.pk],
        "customer_bucket": [customer.pk, bucket.pk], "customer_resend": [customer.pk, order.pk],
        "customer_goodwill": [customer.pk, line.pk], "webhook_delete": [999999],
        "audit_detail": [1], "entry_correct": [uuid.uuid4()], "provider_event_replay": [999999],
        "promotion_detail": [promotion.pk], "promotion_edit": [promotion.pk],
        "promotion_pause": [promotion.pk], "promotion_resume": [promotion.pk], "report_csv": ["renewals"],
        "catalog_market": [market.pk], "catalog_plan": [plan.pk], "catalog_price": [plan.pk],
        "catalog_pay_methods": [market.pk],
    }  # fmt: skip
    return args


def client_for(who: str) -> Client:
    client = Client()
    if who == "nobody":
        return client
    if who == "customer":
        login(client, make_customer(f"{who}-m@example.com")[1])
        return client
    role = User.Role.AGENT if who == "agent" else User.Role.STAFF
    user = User.objects.create_user(f"{who}-m@example.com", "x-pass-12345", role=role, is_staff=who in ROLES)
    if who in ROLES:
        user.groups.add(Group.objects.get(name=who))
    login(client, user)
    return client


@pytest.mark.parametrize("who", [*ROLES, "agent", "customer", "nobody"])
def test_each_role_reaches_exactly_what_it_may(world, who):
    client = client_for(who)
    wrong = []
    for name, (method, allowed) in sorted(TABLE.items()):
        url = reverse(f"backoffice:{name}", args=world.get(name, []))
        answer = getattr(client, method)(url, {"reason": "matrix"} if method == "post" else {})
        if who in ROLES:
            ok = answer.status_code != 403 and answer.status_code < 500 if who in allowed else answer.status_code == 403
        else:
            ok = answer.status_code == 302 and "/admin/login/" in answer["Location"]
        if not ok:
            wrong.append((name, answer.status_code))
    assert wrong == []
