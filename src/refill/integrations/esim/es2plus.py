"""ES2+ client: how Refill (the operator) asks an SM-DP+ to prepare eSIM profiles (GSMA SGP.22).

Every call is a JSON POST to ``<base URL>/gsma/rsp2/es2plus/<function>`` with the header
``X-Admin-Protocol: gsma/rsp/v2.5.0`` and a ``header`` object naming Refill
(``functionRequesterIdentifier``) and the call (``functionCallIdentifier``). The SM-DP+ answers
HTTP 200 with ``header.functionExecutionStatus.status``; a refusal carries ``statusCodeData``
(subject code, reason code), mapped here to one error class each.

A call that timed out or lost its connection is sent again with the same call identifier, so an
SM-DP+ that remembers identifiers (as the simulator does) answers it once; the services also
make each step safe to repeat. Mutual TLS: a client certificate and key, and the CA that signed
the SM-DP+'s certificate, come from settings.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError

logger = logging.getLogger(__name__)

PATH = "/gsma/rsp2/es2plus/"
PROTOCOL = "gsma/rsp/v2.5.0"


@dataclass(frozen=True)
class Es2Config:
    base_url: str
    requester_id: str
    timeout: float = 10.0
    retries: int = 2  # sends after the first, for a timeout, a lost connection or an HTTP 5xx
    backoff: float = 0.5  # seconds before the first resend, doubled for each next one
    client_cert: str = ""  # PEM files for mutual TLS
    client_key: str = ""
    ca_file: str = ""  # the CA that signed the SM-DP+'s certificate (default: the system's)

    @classmethod
    def from_settings(cls) -> Es2Config:
        smdp = settings.REFILL_SMDP
        return cls(
            base_url=smdp["URL"],
            requester_id=smdp["REQUESTER_ID"],
            timeout=smdp["TIMEOUT"],
            retries=smdp["RETRIES"],
            client_cert=smdp["CLIENT_CERT"],
            client_key=smdp["CLIENT_KEY"],
            ca_file=smdp["CA_FILE"],
        )


# Errors. Each names what went wrong in words staff and customers can act on.


class Es2Error(RefillError):
    code = "smdp_error"
    message = _("The eSIM service refused the request. Please try again later or contact support.")

    def __init__(self, message=None, *, status: str = "Failed", subject: str = "", reason: str = "", text: str = ""):
        super().__init__(message)
        self.status, self.subject, self.reason, self.text = status, subject, reason, text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status} {self.subject}/{self.reason} {self.text!r})"


class ProfileUnavailable(Es2Error):
    code = "esim_profile_unavailable"
    message = _("This eSIM profile is not available at the eSIM service (it is in use or already downloaded).")


class ProfileUnknown(Es2Error):
    code = "esim_profile_unknown"
    message = _("The eSIM service does not know this profile.")


class NoProfilesLeft(Es2Error):
    code = "esim_no_profiles"
    message = _("No eSIM profiles of this type are left at the eSIM service.")


class DeviceMismatch(Es2Error):
    code = "esim_device_mismatch"
    message = _("This eSIM is linked to another phone.")


class InvalidTransition(Es2Error):
    code = "esim_invalid_transition"
    message = _("The eSIM profile is not in a state that allows this.")


class MatchingIdInUse(Es2Error):
    code = "esim_matching_id_in_use"
    message = _("This activation code is already in use.")


class DownloadLimitReached(Es2Error):
    code = "esim_download_limit"
    message = _(
        "This eSIM has been downloaded as many times as allowed. Please contact support for a new eSIM profile."
    )


class NotAllowed(Es2Error):
    code = "esim_not_allowed"
    message = _("Refill is not allowed to manage this eSIM profile at the eSIM service.")


class OrderExpired(Es2Error):
    code = "esim_order_expired"
    message = _("The eSIM order expired before it was used.")


class SmdpUnavailable(Es2Error):
    code = "smdp_unavailable"
    message = _("The eSIM service is not answering right now. Please try again in a few minutes.")


class SmdpProtocolError(Es2Error):
    code = "smdp_protocol_error"
    message = _("The eSIM service gave an answer Refill does not understand. Support has been told.")


# (subject code, reason code) -> error class; a subject alone covers its other reasons.
ERRORS: dict[tuple[str, str], type[Es2Error]] = {
    ("8.2.1", "3.3"): ProfileUnavailable,
    ("8.2.1", "3.5"): InvalidTransition,
    ("8.2.1", "3.9"): ProfileUnknown,
    ("8.2.1", "3.10"): DeviceMismatch,
    ("8.2.1", "1.2"): NotAllowed,
    ("8.2.1", "6.4"): DownloadLimitReached,
    ("8.8.5", "6.4"): DownloadLimitReached,
    ("8.8.5", "4.10"): OrderExpired,
    ("8.1.1", "3.10"): DeviceMismatch,
    ("8.1.1", "3.9"): DeviceMismatch,
    ("8.2.5", "3.7"): NoProfilesLeft,
    ("8.2.5", "3.9"): ProfileUnknown,
    ("8.2.5", "3.8"): ProfileUnknown,
    ("8.2.5", "1.2"): NotAllowed,
    ("8.2.6", "3.3"): MatchingIdInUse,
    ("8.2.6", "3.10"): DeviceMismatch,
    ("8.2.6", "2.1"): SmdpProtocolError,
}


def error_for(status: str, subject: str = "", reason: str = "", text: str = "") -> Es2Error:
    if status == "Expired":
        kind: type[Es2Error] = OrderExpired
    elif reason == "1.2":
        kind = NotAllowed
    else:
        kind = ERRORS.get((subject, reason), Es2Error)
    return kind(status=status, subject=subject, reason=reason, text=text)


@dataclass(frozen=True)
class Confirmed:
    """ConfirmOrder's answer: the matching ID (and the SM-DP+'s address when it gives one)."""

    matching_id: str
    smdp_address: str = ""
    eid: str = ""


@dataclass
class Es2Client:
    config: Es2Config
    opener: urllib.request.OpenerDirector = field(init=False)

    def __post_init__(self) -> None:
        handlers: list = []
        if self.config.base_url.startswith("https:"):
            context = ssl.create_default_context(cafile=self.config.ca_file or None)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if self.config.client_cert:
                context.load_cert_chain(self.config.client_cert, self.config.client_key or None)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        # No proxies from the environment: the SM-DP+ is reached directly.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), *handlers)

    @staticmethod
    def new_call_id() -> str:
        return uuid.uuid4().hex

    # The four operator functions.

    def download_order(self, *, call_id: str, iccid: str = "", profile_type: str = "", eid: str = "") -> str:
        """Reserve a profile (this ICCID, or any of ``profile_type``), for ``eid`` if known.
        Returns the reserved profile's ICCID."""
        body = {k: v for k, v in {"iccid": iccid, "profileType": profile_type, "eid": eid}.items() if v}
        answer = self.call("downloadOrder", body, call_id=call_id)
        if not answer.get("iccid"):
            raise SmdpProtocolError(text="downloadOrder answered without an iccid")
        return str(answer["iccid"]).rstrip("Ff")

    def confirm_order(
        self, *, call_id: str, iccid: str, release: bool = True, eid: str = "", matching_id: str = ""
    ) -> Confirmed:
        body: dict = {"iccid": iccid, "releaseFlag": release}
        if eid:
            body["eid"] = eid
        if matching_id:
            body["matchingId"] = matching_id
        answer = self.call("confirmOrder", body, call_id=call_id)
        if not answer.get("matchingId"):
            raise SmdpProtocolError(text="confirmOrder answered without a matchingId")
        return Confirmed(str(answer["matchingId"]), str(answer.get("smdpAddress") or ""), str(answer.get("eid") or ""))

    def cancel_order(
        self, *, call_id: str, iccid: str, available: bool = True, eid: str = "", matching_id: str = ""
    ) -> None:
        """Cancel the profile's order: it goes back to stock (``available``) or out of use for good."""
        body = {"iccid": iccid, "finalProfileStatusIndicator": "Available" if available else "Unavailable"}
        if eid:
            body["eid"] = eid
        if matching_id:
            body["matchingId"] = matching_id
        self.call("cancelOrder", body, call_id=call_id)

    def release_profile(self, *, call_id: str, iccid: str) -> None:
        self.call("releaseProfile", {"iccid": iccid}, call_id=call_id)

    # Transport.

    def call(self, function: str, body: dict, *, call_id: str) -> dict:
        payload = json.dumps(
            {
                "header": {"functionRequesterIdentifier": self.config.requester_id, "functionCallIdentifier": call_id},
                **body,
            }
        ).encode()
        url = self.config.base_url.rstrip("/") + PATH + function
        delay = self.config.backoff
        for attempt in range(self.config.retries + 1):
            try:
                return self._send(function, url, payload)
            except SmdpUnavailable as exc:
                if attempt == self.config.retries:
                    raise
                logger.warning(
                    "ES2+ %s (call %s) failed: %s; sending again in %.1f s", function, call_id, exc.text, delay
                )
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _send(self, function: str, url: str, payload: bytes) -> dict:
        request = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-Admin-Protocol": PROTOCOL},
        )
        try:
            with self.opener.open(request, timeout=self.config.timeout) as response:
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise SmdpUnavailable(text=f"HTTP {exc.code}") from None
            raise SmdpProtocolError(text=f"HTTP {exc.code} for {function}") from None
        except ssl.SSLError as exc:
            raise SmdpProtocolError(text=f"TLS: {exc.reason or exc}") from None
        except OSError as exc:  # URLError, timeouts and lost connections are all OSErrors
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError):
                raise SmdpProtocolError(text=f"TLS: {reason.reason or reason}") from None
            raise SmdpUnavailable(text=f"{type(reason).__name__}: {reason}") from None
        if status != 200:
            raise SmdpProtocolError(text=f"HTTP {status} for {function}")
        if not (headers.get("X-Admin-Protocol") or "").startswith("gsma/rsp/v2"):
            raise SmdpProtocolError(text=f"{function}: missing or unknown X-Admin-Protocol")
        try:
            answer = json.loads(raw)
            execution = answer["header"]["functionExecutionStatus"]
            outcome = execution["status"]
        except (ValueError, KeyError, TypeError):
            raise SmdpProtocolError(text=f"{function}: not an ES2+ answer") from None
        if outcome in ("Executed-Success", "Executed-WithWarning"):
            if outcome == "Executed-WithWarning":
                logger.warning("ES2+ %s executed with warning: %s", function, execution.get("statusCodeData"))
            return answer
        data = execution.get("statusCodeData") or {}
        error = error_for(
            str(outcome),
            str(data.get("subjectCode", "")),
            str(data.get("reasonCode", "")),
            str(data.get("message", "")),
        )
        logger.info("ES2+ %s refused: %r", function, error)
        raise error


def get_client() -> Es2Client:
    return Es2Client(Es2Config.from_settings())
