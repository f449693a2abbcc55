"""Print the demo staff's current TOTP code (demo only), for trying the back office and the agent
desk without an authenticator app."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from refill.demo.seed import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff and agent logins (demo only)."

    def handle(self, *args, **options):
        if not settings.REFILL_DEMO:
            raise CommandError("demo data is disabled in these settings (REFILL_DEMO is off)")
        left = 30 - int(time.time()) % 30
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time()) // 30))
        self.stdout.write(f"{code}  (valid {left} s more; secret {DEMO_TOTP_SECRET})")
