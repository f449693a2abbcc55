from django.db import migrations


def unflag_float(apps, schema_editor):
    # The voucher float is shared: it is guarded by each PIN's state, never by locking the account.
    apps.get_model("ledger", "Account").objects.filter(purpose="voucher_float").update(must_not_go_negative=False)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_triggers")]
    operations = [migrations.RunPython(unflag_float, migrations.RunPython.noop)]
