from django.core.management.base import BaseCommand, CommandError

from refill.demo.seed import demo_seed


class Command(BaseCommand):
    help = "Load the demo markets, plans, customers and lines (once; a second run changes nothing)."

    def handle(self, *args, **options):
        try:
            created = demo_seed()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("demo data loaded" if created else "demo data already present; reusing it")
