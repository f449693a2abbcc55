"""The webhook outbox's tables moved from the API app to refill.webhooks without touching the
database: an installation that upgrades keeps its endpoints, and its staff keep the webhook
permissions they were given (the content types are relabelled)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from refill.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("api", "0004_webhook_line_events"), ("webhooks", None)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_an_upgrade_keeps_the_endpoints_and_the_staff_permissions():
    latest = [key for key in MigrationExecutor(connection).loader.graph.leaf_nodes() if key[0] in ("api", "webhooks")]
    migrate(BEFORE)
    try:
        # As an installation had it: the models in the API app, a group allowed to delete endpoints.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO api_webhookendpoint (name, url, secret, events, active, created_at)"
                " VALUES ('CRM', 'https://crm.example.com/h', 'whsec_1', '[\"order.paid\"]', %s, CURRENT_TIMESTAMP)",
                [True],
            )
        ContentType.objects.filter(model="webhookendpoint").delete()
        old = ContentType.objects.create(app_label="api", model="webhookendpoint")
        allowed = Permission.objects.create(content_type=old, codename="delete_webhookendpoint", name="Can delete")
        group = Group.objects.create(name="upgraded-admins")
        group.permissions.add(allowed)
    finally:
        migrate(latest)
    ContentType.objects.clear_cache()
    assert WebhookEndpoint.objects.get().name == "CRM"
    assert list(group.permissions.values_list("content_type__app_label", "codename")) == [
        ("webhooks", "delete_webhookendpoint")
    ]
