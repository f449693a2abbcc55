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
PLANS_PRICES = "plans-prices"
REFUNDS = "refunds"
ESIM_NEW_PHONE = "esim-new-phone"  # moving the eSIM to another phone
ESIM_TROUBLESHOOTING = "esim-troubleshooting"
ESIM_IPHONE = "esim-iphone"
ESIM_SAMSUNG = "esim-samsung"  # Samsung Galaxy and other Android phones
ESIM_PIXEL = "esim-pixel"
PORT_IN = "port-in"  # bringing a number from another operator
PORT_OUT = "port-out"  # taking the number to another operator
ROAMING = "roaming"
KEEP_NUMBER = "keep-number"  # the "keep my number" (retention) plan
WALLET = "wallet"
RECEIPTS = "receipts"  # receipts and credit notes
TWO_FACTOR = "two-factor"
DELETE_ACCOUNT = "delete-account"
CONTACT_SUPPORT = "contact-support"

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
    PLANS_PRICES,
    REFUNDS,
    ESIM_NEW_PHONE,
    ESIM_TROUBLESHOOTING,
    ESIM_IPHONE,
    ESIM_SAMSUNG,
    ESIM_PIXEL,
    PORT_IN,
    PORT_OUT,
    ROAMING,
    KEEP_NUMBER,
    WALLET,
    RECEIPTS,
    TWO_FACTOR,
    DELETE_ACCOUNT,
    CONTACT_SUPPORT,
)

# What a search that found nothing offers instead, most asked first.
POPULAR: tuple[str, ...] = (RENEW, PAYMENT_DECLINED, ESIM_TROUBLESHOOTING, REFUNDS, LINE_STATUS)
