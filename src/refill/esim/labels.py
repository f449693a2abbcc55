"""eSIM codes as staff read them in the back office: a profile type ("consumer") and a profile's
state at the SM-DP+ ("released"), in their language. A profile type is the vendor file's code; one
without a label here (an operator's own type) is shown as its code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from refill.domain.esim import SmdpState

from .models import SMDP_LABELS

PROFILE_TYPE_LABELS = {
    "consumer": _("Consumer (phones)"),
    "m2m": _("Machine-to-machine (M2M)"),
    "iot": _("Internet of Things (IoT)"),
}


def profile_type_label(profile_type: str) -> str:
    return str(PROFILE_TYPE_LABELS.get(profile_type, profile_type))


def smdp_state_label(state: str) -> str:
    try:
        return str(SMDP_LABELS[SmdpState(state)])
    except ValueError:
        return state
