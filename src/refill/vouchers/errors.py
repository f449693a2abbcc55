from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError


class VoucherUnknown(RefillError):
    code = "voucher_unknown"
    message = _("We do not recognise this refill PIN. Check the digits and try again.")


class VoucherAlreadyUsed(RefillError):
    code = "voucher_used"
    message = _("This refill PIN has already been used.")


class VoucherExpired(RefillError):
    code = "voucher_expired"
    message = _("This refill PIN has expired.")


class VoucherVoided(RefillError):
    code = "voucher_voided"
    message = _("This refill PIN has been cancelled. Please contact the shop that sold it.")


class VoucherWrongCurrency(RefillError):
    code = "voucher_wrong_currency"
    message = _("This refill PIN is in %(currency)s and cannot be used for that number.")


class TooManyPinAttempts(RefillError):
    code = "too_many_pin_attempts"
    message = _("Too many wrong refill PINs. For your security, try again in an hour.")


class NumberNotFound(RefillError):
    code = "number_not_found"
    message = _("We could not find that phone number. Check it and try again.")


class InvalidBatch(RefillError):
    code = "invalid_batch"
    message = _("%(reason)s")
