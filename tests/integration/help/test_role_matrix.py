"""Every help URL × every kind of user. The public pages answer anyone alike (a draft or another
market's article is not found, by anyone); the back-office pages reach exactly the staff roles
whose permissions allow them (others get 403, and non-staff are sent to the staff login). The table
names every help URL, so a new one cannot go untested."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import get_resolver, reverse

from refill.customers.models import User
from refill.help.models import Article
from tests.factories import login, make_customer, make_line, make_market, make_plan

from .conftest import make_article

pytestmark = pytest.mark.django_db
ROLES = ("support", "finance", "catalog", "admin")
EVERY_ROLE = set(ROLES)
WRITERS = {"support", "admin"}
PUBLIC = "public"

# "namespace:name": (method, the object it needs, who may reach it: PUBLIC or the staff roles)
TABLE: dict[str, tuple[str, str | None, str | set[str]]] = {
    "help:index": ("get", None, PUBLIC),
    "help:search": ("get", None, PUBLIC),
    "help:article": ("get", "article", PUBLIC),
    "help_admin:articles": ("get", None, EVERY_ROLE),
    "help_admin:article_preview": ("get", "article", EVERY_ROLE),
    "help_admin:article_create": ("get", None, WRITERS),
    "help_admin:article_edit": ("get", "article", WRITERS),
    "help_admin:article_publish": ("post", "draft", WRITERS),
    "help_admin:article_unpublish": ("post", "article", WRITERS),
}
# For tests/integration/security/test_every_url.py: the URL names of each namespace.
MATRICES = {
    namespace: {name.split(":", 1)[1] for name in TABLE if name.startswith(f"{namespace}:")}
    for namespace in ("help", "help_admin")
}
WHO = [*ROLES, "agent", "customer", "nobody"]


@pytest.mark.parametrize("namespace", ["help", "help_admin"])
def test_the_table_names_every_help_url(namespace):
    _prefix, resolver = get_resolver().namespace_dict[namespace]
    assert {name for name in resolver.reverse_dict if isinstance(name, str)} == MATRICES[namespace]


@pytest.fixture
def world():
    us = make_market()
    cn = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    return {
        "article": make_article(slug="published", market=us).slug,
        "draft": make_article(slug="draft", status=Article.Status.DRAFT).slug,
        "elsewhere": make_article(slug="elsewhere", market=cn).slug,
        "markets": (us, cn),
    }


def client_for(who: str, market) -> Client:
    client = Client()
    if who == "nobody":
        return client
    if who == "customer":
        customer, user = make_customer("help-matrix@example.com")
        make_line(customer, market, make_plan(market, "us-matrix"))
        login(client, user)
        return client
    role = User.Role.AGENT if who == "agent" else User.Role.STAFF
    user = User.objects.create_user(f"{who}-hm@example.com", "x-pass-12345", role=role, is_staff=who in ROLES)
    if who in ROLES:
        user.groups.add(Group.objects.get(name=who))
    login(client, user)
    return client


def _args(name: str, needs: str | None, slugs: dict) -> list:
    if needs is None:
        return []
    if name.startswith("help_admin:"):
        return [Article.objects.get(slug=slugs[needs]).pk]
    return [slugs[needs]]


@pytest.mark.parametrize("who", WHO)
def test_each_kind_of_user_reaches_exactly_what_it_may(world, who):
    client = client_for(who, world["markets"][0])
    wrong = []
    for name, (method, needs, allowed) in sorted(TABLE.items()):
        answer = getattr(client, method)(reverse(name, args=_args(name, needs, world)))
        if allowed == PUBLIC:
            ok = answer.status_code == 200
        elif who in ROLES:
            ok = (
                (answer.status_code != 403 and answer.status_code < 500)
                if who in allowed
                else answer.status_code == 403
            )
        else:
            ok = answer.status_code == 302 and "/admin/login/" in answer["Location"]
        if not ok:
            wrong.append((name, answer.status_code))
    assert wrong == []


@pytest.mark.parametrize("who", WHO)
def test_a_draft_or_another_markets_article_is_not_found_by_anyone(world, who):
    client = client_for(who, world["markets"][0])
    for slug in (world["draft"], world["elsewhere"], "made-up"):
        assert client.get(reverse("help:article", args=[slug])).status_code == 404, slug
