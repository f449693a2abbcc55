"""Every error page says what happened in the visitor's language and links to the help article
that explains it, and to a support request about that topic."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views import defaults

from refill.help.demo import articles_seed
from refill.help.selectors import help_url
from tests.factories import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _articles():
    articles_seed()


def _client(language: str) -> Client:
    client = Client()
    client.post(reverse("portal:set_language"), {"language": language, "next": "/"})
    return client


def _help_href(page: str) -> str:
    import re

    return re.search(r'href="([^"]+)" data-testid="error-help"', page).group(1)


@pytest.mark.parametrize(("language", "heading"), [("en", "We cannot find that page"), ("zh-hans", "找不到该页面")])
def test_a_missing_page_links_to_its_article(language, heading):
    answer = _client(language).get("/no-such-page/")
    page = answer.content.decode()
    assert answer.status_code == 404 and heading in page
    assert _help_href(page) == help_url("page-not-found") != reverse("help:index")
    assert 'href="/support/new/?topic=page-not-found"' in page
    assert Client().get(_help_href(page)).status_code == 200


def test_a_refused_page_links_to_its_article():
    catalog_manager = make_staff("catalog", "catalog-403@example.com")
    client = Client()
    login(client, catalog_manager)
    answer = client.get(reverse("support_admin:queue"))  # support requests are not a catalog manager's
    page = answer.content.decode()
    assert answer.status_code == 403 and "You cannot open this page" in page
    assert _help_href(page) == help_url("access-denied")


def test_an_expired_form_says_so_and_links_to_help():
    answer = Client(enforce_csrf_checks=True).post(reverse("account_login"), {"login": "a@example.com"})
    page = answer.content.decode()
    assert answer.status_code == 403 and "That form has expired" in page
    assert _help_href(page) == help_url("site-not-loading")


def test_too_many_attempts_links_to_the_password_article(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "1/m/ip"}
    client = Client()
    client.post(reverse("account_login"), {"login": "a@example.com", "password": "wrong-password-1"})
    answer = client.post(reverse("account_login"), {"login": "b@example.com", "password": "wrong-password-1"})
    page = answer.content.decode()
    assert answer.status_code == 429 and _help_href(page) == help_url("password-reset")


def test_a_bad_request_and_a_server_error_render_with_help_links():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with translation.override("zh-hans"):
        bad = defaults.bad_request(request, exception=None).content.decode()
        failed = defaults.server_error(request).content.decode()
    assert _help_href(bad) == help_url("site-not-loading")
    # The server error page needs neither the request nor the database.
    assert 'lang="zh-Hans"' in failed and _help_href(failed) == "/help/"
    assert "/support/new/?topic=site-not-loading" in failed
