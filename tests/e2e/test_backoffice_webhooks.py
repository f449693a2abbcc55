"""An administrator manages partners' webhook endpoints in a desktop Chromium, in both languages:
an internal address is refused with a clear error (the typed URL kept to correct), and an endpoint
is deleted after confirming (issue 24 item 1)."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from refill.audit.models import AuditEvent
from refill.customers.models import User
from refill.webhooks.models import WebhookEndpoint
from tests.e2e.helpers import assert_language, choose_language, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "admin-pass-2026-x"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_admin_is_refused_an_internal_url_and_deletes_an_endpoint(live_server, desktop_page, shot, settings, language):
    page, base = desktop_page, live_server.url
    settings.REFILL_WEBHOOK_ALLOWED_HOSTS = ["hooks.corp.internal"]  # saved without resolving it
    endpoint = WebhookEndpoint.objects.create(
        name="Old CRM", url="https://hooks.corp.internal/refill", secret="whsec_x", events=["order.paid"]
    )
    email = f"admin-wh-{language}@example.com"
    admin = User.objects.create_user(email, PASSWORD, is_staff=True, role=User.Role.STAFF)
    admin.groups.add(Group.objects.get(name="admin"))
    EmailAddress.objects.create(user=admin, email=email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(admin, secret)

    # given the administrator on the webhooks page, in their language
    choose_language(page, base, language)
    log_in(page, base, email, PASSWORD, next_url="/backoffice/webhooks/", secret=secret)
    assert_language(page, language)

    # when they add an endpoint on this machine's own address, it is refused and nothing is saved
    page.fill("#wh-name", "Probe")
    page.fill("#wh-url", "https://127.0.0.1:1/hook")
    page.locator("input[name=events][value='order.paid']").check()
    page.locator("form.card button[type=submit]").first.click()
    expect(page.get_by_test_id("webhook-error")).to_be_visible()
    expect(page.locator("#wh-url")).to_have_value("https://127.0.0.1:1/hook")
    assert_language(page, language)
    shot(page, f"webhooks-{language}-1-refused")
    assert WebhookEndpoint.objects.count() == 1

    # when they delete the old endpoint, they are asked first, then it is gone and audited
    page.get_by_test_id(f"delete-endpoint-{endpoint.pk}").click()
    page.wait_for_url(re.compile(rf".*/backoffice/webhooks/{endpoint.pk}/delete/$"))
    expect(page.get_by_test_id("webhook-delete")).to_contain_text("Old CRM")
    shot(page, f"webhooks-{language}-2-confirm")
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    page.get_by_test_id("webhook-delete-confirm").click()
    page.wait_for_url(re.compile(r".*/backoffice/webhooks/$"))
    expect(page.get_by_test_id(f"endpoint-{endpoint.pk}")).to_have_count(0)
    shot(page, f"webhooks-{language}-3-deleted")
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.endpoint_deleted", actor_label=email).exists()
    # the refused form answers 400, which the browser logs; nothing else may be logged
    assert [error for error in page.console_errors if "status of 400" not in error] == []
