"""The request id and client address of the current request (or task), for logs and audit rows."""

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
