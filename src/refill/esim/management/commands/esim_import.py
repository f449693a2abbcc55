"""Import a SIM vendor's profile batch (CSV) into the eSIM inventory."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refill.errors import RefillError
from refill.esim.inventory import inventory_import


class Command(BaseCommand):
    help = "Import a SIM vendor CSV (ICCID, IMSI, profile type) into the eSIM profile inventory."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--vendor", default="")

    def handle(self, *args, file: Path, vendor: str, **options):
        try:
            batch = inventory_import(file_name=file.name, content=file.read_bytes(), vendor=vendor)
        except (OSError, RefillError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{batch.file_name}: {batch.rows} rows, {batch.imported} imported, {batch.already_known} already known, "
            f"{len(batch.rejected)} rejected"
        )
        for entry in batch.rejected:
            self.stdout.write(f"  row {entry['row']} {entry['iccid']}: {' '.join(entry['errors'])}")
