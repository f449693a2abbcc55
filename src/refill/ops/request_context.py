"""The request id and client address of the current request (or task), for logs and audit rows."""

import logging
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("refill_request_id", default="")
_client_ip: ContextVar[str | None] = ContextVar("refill_client_ip", default=None)


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def current_client_ip() -> str | None:
    """The address the current request came from; None outside a request (tasks, commands)."""
    return _client_ip.get()


def set_client_ip(value: str | None):
    return _client_ip.set(value)


def reset_client_ip(token) -> None:
    _client_ip.reset(token)


def log_records_carry_the_request_id() -> None:
    """Stamp every log record, when it is made, with the id of the request it was made in ("-"
    outside a request), so the log line of a fault carries the id the caller was given (the API's
    ``request_id``, the ``X-Request-ID`` header) and support can find it. Made at creation, not
    by a handler's filter: a record may be formatted later, outside the request. Installing it
    twice changes nothing."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "refill_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get() or "-"
        return record

    factory.refill_request_id = True
    logging.setLogRecordFactory(factory)
