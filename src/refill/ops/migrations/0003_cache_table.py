"""The shared cache lives in the database (settings.CACHES): rate limits, login throttles and the
TOTP codes already used must hold across every web process and machine, not per process."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("ops", "0002_provider_budget")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
