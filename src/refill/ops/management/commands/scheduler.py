from django.core.management.base import BaseCommand

from refill.ops.scheduler import run_scheduler


class Command(BaseCommand):
    help = "Enqueue the periodic sweeps (heartbeat, line lapse). Safe to run on several machines."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue what is due once, then exit.")

    def handle(self, *args, once=False, **options):
        self.stdout.write("scheduler: running (Ctrl-C to stop)")
        run_scheduler(once=once)
