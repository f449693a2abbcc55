"""Every agent desk URL × every kind of user: nobody is sent to log in; customers and back office
staff (whatever their role) are refused; an agent without a shop is told why on the landing page and
refused elsewhere; the table names every URL so a new one cannot go untested. What a shop's agent
may do with a line (only once its customer is verified) is tested in test_verification.py."""

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from tests.factories import login, make_customer, make_staff

from .conftest import make_agent

pytestmark = pytest.mark.django_db

# name: (method, needs an id)
TABLE = {
    "desk": ("get", False), "finish": ("post", False), "verify_pin": ("post", True), "send_code": ("post", True),
    "verify_code": ("post", True), "renew": ("get", True), "renew_quote": ("get", True), "addon": ("get", True),
    "addon_price": ("get", True),
    "cash_topup": ("post", True),
    "redeem_pin": ("post", True),
    "auto_renew": ("post", True), "receipt": ("get", True), "receipt_a4": ("get", True), "receipt_pdf": ("get", True),
    "drawer": ("get", False), "drawer_closes": ("get", False), "drawer_close_detail": ("get", True),
    "commission": ("get", False),
}  # fmt: skip


def test_the_table_names_every_agent_desk_url():
    _prefix, resolver = get_resolver().namespace_dict["agentdesk"]
    assert {name for name in resolver.reverse_dict if isinstance(name, str)} == set(TABLE)


def client_for(who: str) -> Client:
    client = Client()
    if who == "customer":
        login(client, make_customer("matrix-desk@example.com")[1])
    elif who in ("support", "admin"):
        user = make_staff(who, f"{who}-desk@example.com")
        login(client, user)
    elif who == "agent without a shop":
        login(client, make_agent(None, "noshop@example.com"))
    return client


@pytest.mark.parametrize("who", ["nobody", "customer", "support", "admin", "agent without a shop"])
def test_only_a_shops_agents_get_in(who):
    client = client_for(who)
    wrong = []
    for name, (method, needs_id) in sorted(TABLE.items()):
        answer = getattr(client, method)(reverse(f"agentdesk:{name}", args=[1] if needs_id else []))
        if who == "nobody":
            ok = answer.status_code == 302 and "/accounts/login/" in answer["Location"]
        elif who == "agent without a shop" and name == "desk":
            ok = answer.status_code == 200 and b"not assigned to a shop" in answer.content
        else:
            ok = answer.status_code == 403
        if not ok:
            wrong.append((name, answer.status_code))
    assert wrong == []
