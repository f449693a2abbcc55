"""Login stages of our own, in place of allauth's."""

from __future__ import annotations

from allauth.account import stages


class EmailVerificationStage(stages.EmailVerificationStage):
    """Email verification is mandatory for an account with an email address. A phone-only
    account has none to verify: its number is proved by SMS code in allauth's phone stage, which
    runs before this one."""

    def handle(self):
        user = self.login.user
        if user is not None and not user.email and not self.login.email:
            return None, True
        return super().handle()
