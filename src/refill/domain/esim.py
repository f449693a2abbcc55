"""eSIM profile states as the SM-DP+ keeps them (GSMA SGP.22), and how Refill follows them.

Operator functions (ES2+) move a profile through the ordering states; the SM-DP+'s download
progress notifications move it along the download path. Notifications may arrive late, twice or
out of order: one that is behind what is already known changes nothing (stale), one that makes no
sense for the profile's state is refused (illegal), never applied.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class SmdpState(StrEnum):
    AVAILABLE = "available"
    ALLOCATED = "allocated"  # ordered without an EID
    LINKED = "linked"  # ordered for one EID
    CONFIRMED = "confirmed"
    RELEASED = "released"  # ready to download with its matching ID
    DOWNLOADED = "downloaded"
    INSTALLED = "installed"
    DELETED = "deleted"  # deleted on the device; may be downloaded again while the limit allows
    ERROR = "error"
    UNAVAILABLE = "unavailable"  # taken out of use for good


class NetworkState(StrEnum):
    """Whether the profile's IMSI may use the network (Refill follows its line's lifecycle)."""

    INACTIVE = "inactive"  # in stock, never used
    ACTIVE = "active"
    BARRED = "barred"  # incoming only or nothing: the line is lapsed or suspended
    RETIRED = "retired"  # the number was released; the profile will not be used again


class IllegalProfileTransition(ValueError):
    code = "illegal_profile_transition"


ORDERED = frozenset({SmdpState.ALLOCATED, SmdpState.LINKED, SmdpState.CONFIRMED, SmdpState.RELEASED})
# Where a profile may be ordered (again): in stock, or downloaded before (the re-download limit decides).
ORDERABLE = frozenset({SmdpState.AVAILABLE, SmdpState.INSTALLED, SmdpState.DELETED, SmdpState.ERROR})
# An order may be cancelled until its profile is on a device.
CANCELLABLE = ORDERED | frozenset({SmdpState.ERROR})
TERMINAL = frozenset({SmdpState.UNAVAILABLE})

TRANSITIONS: dict[SmdpState, frozenset[SmdpState]] = {
    SmdpState.AVAILABLE: frozenset({SmdpState.ALLOCATED, SmdpState.LINKED, SmdpState.UNAVAILABLE}),
    SmdpState.ALLOCATED: frozenset({SmdpState.CONFIRMED, SmdpState.RELEASED}),
    SmdpState.LINKED: frozenset({SmdpState.CONFIRMED, SmdpState.RELEASED}),
    SmdpState.CONFIRMED: frozenset({SmdpState.RELEASED}),
    SmdpState.RELEASED: frozenset({SmdpState.DOWNLOADED, SmdpState.INSTALLED, SmdpState.ERROR}),
    SmdpState.DOWNLOADED: frozenset({SmdpState.INSTALLED, SmdpState.ERROR}),
    SmdpState.INSTALLED: frozenset({SmdpState.DELETED, SmdpState.ALLOCATED, SmdpState.LINKED}),
    SmdpState.DELETED: frozenset({SmdpState.ALLOCATED, SmdpState.LINKED, SmdpState.UNAVAILABLE}),
    # A download retried by the device after a reported failure may still get through.
    SmdpState.ERROR: frozenset({SmdpState.ALLOCATED, SmdpState.LINKED, SmdpState.DOWNLOADED, SmdpState.INSTALLED}),
    SmdpState.UNAVAILABLE: frozenset(),
}
for _state in CANCELLABLE:
    TRANSITIONS[_state] = TRANSITIONS[_state] | {SmdpState.AVAILABLE, SmdpState.UNAVAILABLE}


def check_transition(current: SmdpState, target: SmdpState) -> None:
    if target != current and target not in TRANSITIONS[current]:
        raise IllegalProfileTransition(f"a profile cannot go from {current} to {target}")


class NotificationPoint(IntEnum):
    """HandleDownloadProgressInfo notification points (SGP.22 ES2+)."""

    ELIGIBILITY = 1  # eligibility and retry limit check
    CONFIRMATION_FAILURE = 2
    DOWNLOADED = 3  # BPP download
    INSTALLED = 4  # BPP installation
    DELETED = 5


# The download path, in order: a notification never moves a profile back along it.
_PATH = [SmdpState.RELEASED, SmdpState.DOWNLOADED, SmdpState.INSTALLED, SmdpState.DELETED]


def after_notification(current: SmdpState, point: NotificationPoint, succeeded: bool) -> SmdpState | None:
    """The state a notification moves a profile to: None when it changes nothing (an eligibility
    check that passed, or news older than what is known). Raises IllegalProfileTransition when
    the notification makes no sense for the profile's state."""
    if point == NotificationPoint.ELIGIBILITY and succeeded:
        if current in (SmdpState.RELEASED, SmdpState.ERROR, *_PATH):
            return None
        raise IllegalProfileTransition(f"a download of a {current} profile cannot start")
    if not succeeded:
        # A failed eligibility check, confirmation, download or installation.
        if current in (SmdpState.RELEASED, SmdpState.DOWNLOADED):
            return SmdpState.ERROR
        if current in (SmdpState.ERROR, SmdpState.INSTALLED, SmdpState.DELETED):
            return None  # already known to have failed, or a later attempt got further
        raise IllegalProfileTransition(f"a {current} profile was not being downloaded")
    target = {
        NotificationPoint.DOWNLOADED: SmdpState.DOWNLOADED,
        NotificationPoint.INSTALLED: SmdpState.INSTALLED,
        NotificationPoint.DELETED: SmdpState.DELETED,
    }.get(point)
    if target is None:
        raise IllegalProfileTransition(f"notification point {int(point)} reports no success")
    if current in _PATH:
        return target if _PATH.index(target) > _PATH.index(current) else None
    if current == SmdpState.ERROR and target != SmdpState.DELETED:
        return target  # a retried download that got through after a reported failure
    raise IllegalProfileTransition(f"a {current} profile cannot be {target}")
