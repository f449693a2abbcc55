"""The language switch (/language/) of a business's viewer changes their own pages only: the
business's preferred language, in which every notification to the business is written, is not
theirs to change. The business's administrator (or a person with their own account) still sets
the account's language with it."""

import re

import pytest
from django.test import Client

from refill.customers.models import Customer
from tests.factories import login

pytestmark = pytest.mark.django_db


def html_lang(client: Client) -> str:
    page = client.get("/lines/")
    assert page.status_code == 200
    return re.search(r'<html lang="([^"]+)"', page.content.decode()).group(1)


def switch(client: Client, language: str):
    return client.post("/language/", {"language": language, "next": "/lines/"})


def test_a_viewer_switches_their_own_pages_not_the_business_language(fleet):
    viewer, admin = Client(), Client()
    login(viewer, fleet.viewer)
    login(admin, fleet.admin)
    assert switch(viewer, "zh-hans").status_code == 302
    assert Customer.objects.get(pk=fleet.customer.pk).preferred_language == "en"  # the business's, unchanged
    assert html_lang(viewer) == "zh-Hans"  # the viewer's own pages follow their choice
    assert html_lang(admin) == "en"  # nobody else's do
    switch(viewer, "en")
    assert html_lang(viewer) == "en"
    assert Customer.objects.get(pk=fleet.customer.pk).preferred_language == "en"


def test_the_administrator_still_sets_the_business_language(fleet):
    admin = Client()
    login(admin, fleet.admin)
    assert switch(admin, "zh-hans").status_code == 302
    assert Customer.objects.get(pk=fleet.customer.pk).preferred_language == "zh-hans"
    assert html_lang(admin) == "zh-Hans"
    # A viewer who never chose sees the business's language, as before.
    viewer = Client()
    login(viewer, fleet.viewer)
    assert html_lang(viewer) == "zh-Hans"
