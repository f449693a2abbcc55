# The webhook tables moved to the webhooks app (webhooks.0001 took them over): gone from this app
# in Django's state only; the tables themselves stay as they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0004_webhook_line_events'),
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='webhookattempt',
                    name='delivery',
                ),
                migrations.RemoveIndex(
                    model_name='webhookdelivery',
                    name='api_webhook_status_5921e6_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='webhookdelivery',
                    name='webhook_delivery_once',
                ),
                migrations.RemoveField(
                    model_name='webhookendpoint',
                    name='created_by',
                ),
                migrations.DeleteModel(
                    name='WebhookAttempt',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='endpoint',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='event',
                ),
                migrations.DeleteModel(
                    name='WebhookEndpoint',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
                migrations.DeleteModel(
                    name='WebhookEvent',
                ),

            ],
        ),
    ]
