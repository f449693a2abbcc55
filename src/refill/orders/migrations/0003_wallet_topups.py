import django.db.models.deletion
from django.db import migrations, models


def fill_market(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for order in Order.objects.select_related("line").filter(market__isnull=True):
        order.market_id = order.line.market_id
        order.save(update_fields=["market"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("lines", "0001_initial"),
        ("orders", "0002_receipt_number_later"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="market",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="catalog.market"
            ),
        ),
        migrations.RunPython(fill_market, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="market",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="catalog.market"
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="line",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="lines.line",
            ),
        ),
    ]
