"""Every support URL × every kind of user. The customer's pages: the contact form is for anyone;
the ticket pages are the owner's (someone else gets 404, nobody is sent to log in); an anonymous
ticket's pages open only with its secret (a wrong one is 404 for everyone). The back office pages:
support and administrators view and act, finance views only, catalog managers and everyone else
are refused. The table names every URL, so a new one cannot go untested."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import get_resolver, reverse

from refill.customers.models import User
from refill.support import services
from refill.support.limits import attachments_check
from refill.support.models import Attachment
from tests.factories import login, make_customer, make_line, make_market, make_plan

from .conftest import PNG, upload

pytestmark = pytest.mark.django_db
ROLES = ("support", "finance", "catalog", "admin")
ANYONE = "anyone"  # every caller, logged in or not
CUSTOMER = "customer"  # a logged-in customer (their own list)
OWNER = "owner"  # the customer whose ticket it is; another customer gets 404
SECRET = "secret"  # whoever holds the ticket's emailed secret; a wrong secret is 404

# "namespace:name": (method, who may reach it)
TABLE: dict[str, tuple[str, set[str]]] = {
    "support:contact": ("get", {ANYONE}),
    "support:sent": ("get", {ANYONE}),  # nothing sent in this session: back to the form
    "support:tickets": ("get", {CUSTOMER}),
    "support:ticket": ("get", {OWNER}),
    "support:ticket_resolve": ("post", {OWNER}),
    "support:attachment": ("get", {OWNER}),
    "support:guest_ticket": ("get", {SECRET}),
    "support:guest_resolve": ("post", {SECRET}),
    "support:guest_attachment": ("get", {SECRET}),
    "support_admin:queue": ("get", {"support", "finance", "admin"}),
    "support_admin:ticket": ("get", {"support", "finance", "admin"}),
    "support_admin:attachment": ("get", {"support", "finance", "admin"}),
    "support_admin:assign": ("post", {"support", "admin"}),
    "support_admin:status": ("post", {"support", "admin"}),
    "support_admin:note": ("post", {"support", "admin"}),
    "support_admin:reply": ("post", {"support", "admin"}),
}


def test_the_table_names_every_support_url():
    names = set()
    for namespace in ("support", "support_admin"):
        _prefix, resolver = get_resolver().namespace_dict[namespace]
        names |= {f"{namespace}:{name}" for name in resolver.reverse_dict if isinstance(name, str)}
    assert names == set(TABLE)


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day")
    owner, owner_user = make_customer("owner-m@example.com")
    line = make_line(owner, market, plan)
    mine = services.ticket_create(
        customer=owner, user=owner_user, category="other", subject="s", body="b", language="en", line=line,
        files=attachments_check([upload("a.png", PNG)]),
    ).ticket  # fmt: skip
    guest = services.ticket_create(
        customer=None, user=None, category="other", subject="s", body="b", language="en",
        contact_name="G", contact_email="g@example.net", files=attachments_check([upload("g.png", PNG)]),
    )  # fmt: skip
    mine_file = Attachment.objects.get(message__ticket=mine).pk
    guest_file = Attachment.objects.get(message__ticket=guest.ticket).pk
    ref, guest_ref = mine.reference, guest.ticket.reference
    args = {
        "support:ticket": [ref], "support:ticket_resolve": [ref], "support:attachment": [ref, mine_file],
        "support:guest_ticket": [guest_ref, guest.secret], "support:guest_resolve": [guest_ref, guest.secret],
        "support:guest_attachment": [guest_ref, guest.secret, guest_file],
        "support_admin:ticket": [ref], "support_admin:attachment": [ref, mine_file],
        "support_admin:assign": [ref], "support_admin:status": [ref], "support_admin:note": [ref],
        "support_admin:reply": [ref],
    }  # fmt: skip
    return owner_user, args


def client_for(who: str, owner_user) -> Client:
    client = Client()
    if who == "nobody":
        return client
    if who == "owner":
        login(client, owner_user)
    elif who == "other customer":
        login(client, make_customer("other-m@example.com")[1])
    else:
        role = User.Role.AGENT if who == "agent" else User.Role.STAFF
        user = User.objects.create_user(f"{who}-sm@example.com", "x-pass-12345", role=role, is_staff=who in ROLES)
        if who in ROLES:
            user.groups.add(Group.objects.get(name=who))
        login(client, user)
    return client


def _to_login(answer) -> bool:
    return answer.status_code == 302 and any(
        login in answer["Location"] for login in ("/accounts/login/", "/admin/login/")
    )


def _expected(who: str, name: str, allowed: set[str], answer) -> bool:
    code = answer.status_code
    # Let in means the page, or a redirect that is not to a login page (a login redirect is a refusal).
    let_in = code in (200, 302) and not _to_login(answer)
    if name.startswith("support_admin:"):
        if who in ROLES:
            return code != 403 and code < 500 and not _to_login(answer) if who in allowed else code == 403
        return code == 302 and "/admin/login/" in answer["Location"]
    if ANYONE in allowed or SECRET in allowed:
        return let_in
    if who == "nobody":
        return code == 302 and "/accounts/login/" in answer["Location"]
    if CUSTOMER in allowed and who in ("owner", "other customer"):
        return code == 200
    if OWNER in allowed and who == "owner":
        return let_in
    return code == 404  # another customer, staff and agents: nothing of anyone's is found here


@pytest.mark.parametrize("who", ["nobody", "owner", "other customer", *ROLES, "agent"])
def test_each_caller_reaches_exactly_what_it_may(world, who):
    owner_user, args = world
    client = client_for(who, owner_user)
    wrong = []
    for name, (method, allowed) in sorted(TABLE.items()):
        answer = getattr(client, method)(reverse(name, args=args.get(name, [])))
        if not _expected(who, name, allowed, answer):
            wrong.append((name, answer.status_code))
    assert wrong == []


@pytest.mark.parametrize("who", ["nobody", "owner", "support"])
def test_a_wrong_secret_is_not_found_for_anyone(world, who):
    owner_user, args = world
    client = client_for(who, owner_user)
    for name in ("support:guest_ticket", "support:guest_resolve", "support:guest_attachment"):
        reference, secret, *rest = args[name]
        method = TABLE[name][0]
        answer = getattr(client, method)(reverse(name, args=[reference, secret[:-2] + "zz", *rest]))
        assert answer.status_code == 404, name
