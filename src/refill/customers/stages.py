"""Login stages of our own, in place of allauth's."""

from __future__ import annotations

from allauth.account import stages
from allauth.account.app_settings import EmailVerificationMethod


class EmailVerificationStage(stages.EmailVerificationStage):
    """Email verification is mandatory for an account with an email address, and for a signup
    that named a taken one (no account, ``user`` is None: allauth then sends the owner an "account
    already exists" email and answers "check your email", as for a new address). A phone-only
    account has no address to prove: its number is proved by SMS code in allauth's phone stage,
    which runs before this one.

    allauth's own "mandatory" setting would demand an email at every signup (a system check), so
    the setting is "optional" and the rule is applied here, login by login."""

    def handle(self):
        user = self.login.user
        if user is not None and not user.email and not self.login.email:
            return None, True
        self.login.email_verification = EmailVerificationMethod.MANDATORY
        return super().handle()
