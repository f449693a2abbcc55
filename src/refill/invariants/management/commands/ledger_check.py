import sys

from django.core.management.base import BaseCommand

from refill.invariants.checks import run_all


class Command(BaseCommand):
    help = (
        "Check every money invariant: balanced entries, wallets and floats never negative, every paid "
        "order with exactly one capture entry, its periods and one receipt, gap-free receipt numbers. "
        "Exits 1 on any break."
    )

    def handle(self, *args, **options):
        problems = run_all()
        for problem in problems:
            self.stderr.write(f"BROKEN: {problem}")
        if problems:
            self.stderr.write(f"{len(problems)} invariant(s) broken")
            sys.exit(1)
        self.stdout.write("ledger_check: all invariants hold")
