# The partner webhook outbox's tables, taken over from the API app (api.0002 and api.0004 created
# them): the models keep their table names, so nothing changes in the database but the content
# types, relabelled so that staff keep the webhook permissions they were given.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MODELS = ["webhookendpoint", "webhookevent", "webhookdelivery", "webhookattempt"]


def relabel(apps, schema_editor, source="api", target="webhooks"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(app_label=source, model__in=MODELS).update(
        app_label=target
    )


def unlabel(apps, schema_editor):
    relabel(apps, schema_editor, source="webhooks", target="api")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('api', '0004_webhook_line_events'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'api_webhookdelivery',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEvent',
                    fields=[
                        ('id', models.UUIDField(primary_key=True, serialize=False)),
                        ('type', models.CharField(max_length=40)),
                        ('payload', models.JSONField()),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('dedupe_key', models.CharField(blank=True, max_length=120, null=True, unique=True)),
                    ],
                    options={
                        'db_table': 'api_webhookevent',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=200)),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='log', to='webhooks.webhookdelivery')),
                    ],
                    options={
                        'db_table': 'api_webhookattempt',
                        'ordering': ['at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('url', models.URLField(max_length=500)),
                        ('secret', models.CharField(max_length=64)),
                        ('events', models.JSONField(default=list)),
                        ('active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'api_webhookendpoint',
                        'ordering': ['name', 'pk'],
                    },
                ),
                migrations.AddField(
                    model_name='webhookdelivery',
                    name='endpoint',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='webhooks.webhookendpoint'),
                ),
                migrations.AddField(
                    model_name='webhookdelivery',
                    name='event',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='webhooks.webhookevent'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['status', 'next_attempt_at'], name='api_webhook_status_5921e6_idx'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('endpoint', 'event'), name='webhook_delivery_once'),
                ),

            ],
        ),
        migrations.RunPython(relabel, unlabel),
    ]
