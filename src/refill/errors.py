"""The base of every domain error: a stable ``code`` and a translated, customer-facing message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class RefillError(Exception):
    code = "error"
    message = _("Something went wrong. Nothing was charged. Please try again.")

    def __init__(self, message=None, **params) -> None:
        self.params = params
        if message is not None:
            self.message = message
        super().__init__(self.code)

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)
