"""The request id of the current request (or task), for logs and audit rows."""

from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("refill_request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)
