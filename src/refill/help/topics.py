"""The topic keys other pages link to (``refill.help.selectors.help_url``, ``{% help_url %}``).

A key names what the customer needs, not an article: each market may publish its own article for a
key, and the every-market article answers where it has none. Keys never change once pages link to
them."""

from __future__ import annotations

RENEW = "renew"
AUTO_RENEW = "auto-renew"
PAYMENT_DECLINED = "payment-declined"
ESIM_INSTALL = "esim-install"
LINE_STATUS = "line-status"  # grace, suspension, and how long a number is kept
REFILL_PINS = "refill-pins"
PASSWORD_RESET = "password-reset"
SITE_NOT_LOADING = "site-not-loading"
PAGE_NOT_FOUND = "page-not-found"
ACCESS_DENIED = "access-denied"

TOPICS: tuple[str, ...] = (
    RENEW,
    AUTO_RENEW,
    PAYMENT_DECLINED,
    ESIM_INSTALL,
    LINE_STATUS,
    REFILL_PINS,
    PASSWORD_RESET,
    SITE_NOT_LOADING,
    PAGE_NOT_FOUND,
    ACCESS_DENIED,
)
