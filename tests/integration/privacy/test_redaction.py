"""Log redaction, through the handlers configured in settings.LOGGING (caplog would bypass them)."""

import io
import logging
import logging.config
import sys

import pytest
from django.conf import settings

from refill.ops.redact import RedactingFilter, redact


@pytest.fixture
def log_output():
    """A copy of the configured console handler writing to a buffer, filters and formatter included."""
    config = dict(settings.LOGGING)
    config["handlers"] = {
        name: {**handler, "stream": "ext://tests.integration.privacy.test_redaction.BUFFER"}
        for name, handler in settings.LOGGING["handlers"].items()
    }
    config["disable_existing_loggers"] = False
    BUFFER.seek(0)
    BUFFER.truncate()
    logging.config.dictConfig(config)
    yield BUFFER
    logging.config.dictConfig(settings.LOGGING)


BUFFER = io.StringIO()


def test_every_configured_handler_has_the_redaction_filter():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact" in handler.get("filters", []), name
    assert settings.LOGGING["filters"]["redact"]["()"] == "refill.ops.redact.RedactingFilter"


def _log(logger_name: str, message: str, *args, exc: BaseException | None = None) -> None:
    logger = logging.getLogger(logger_name)
    if exc is None:
        logger.warning(message, *args)
        return
    try:
        raise exc
    except type(exc):
        logger.exception(message, *args)


@pytest.mark.parametrize(
    ("message", "args", "secret", "kept"),
    [
        ("card %s declined", ("4242 4242 4242 4242",), "4242 4242 4242 4242", "…4242"),
        ("card %s declined", ("4000-0000-0000-0002",), "4000-0000-0000-0002", "…0002"),
        ("amex %s", ("378282246310005",), "378282246310005", "…0005"),
        ("form %s", ("card_cvc=123&card_expiry=12/39",), "=123", "card_expiry=12/39"),
        ("body %s", ('{"cvc": "737", "amount": "25.00"}',), '"737"', '"amount": "25.00"'),
        ("redeem %s", ("1234 5678 9012 3456",), "1234 5678 9012 3456", "[REDACTED PIN]"),
        ("redeem pin=%s", ("123456789012",), "123456789012", "pin=[REDACTED]"),
        ("login %s", ("email=a@example.com&password=hunter2-secret",), "hunter2-secret", "email=a@example.com"),
        ("payload %r", ({"new_password1": "Sup3r-secret!", "line": 7},), "Sup3r-secret!", "'line': 7"),
        (
            "stripe %s",
            ('{"client_secret": "pi_123_secret_456", "id": "pi_123"}',),
            "pi_123_secret_456",
            '"id": "pi_123"',
        ),
        (
            "headers %s",
            ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc",),
            "eyJhbGciOiJIUzI1NiJ9",
            "Authorization",
        ),
        ("called with %s", ("Bearer abc.def-ghi",), "abc.def-ghi", "Bearer [REDACTED]"),
        ("cookie %s", ("sessionid=k2j3h4k5; csrftoken=zzz",), "k2j3h4k5", "sessionid=[REDACTED]"),
        ("key %s used", ("rfk_0a1b2c3d_Q2x-yY_z0123456789abcdefghijklmnopqrstu",), "Q2x-yY_z01234", "rfk_0a1b2c3d_"),
        ("sms token=%s", ("AB12CD",), "AB12CD", "token=[REDACTED]"),
        ("api_key: %s", ("live-key-123456",), "live-key-123456", "api_key: [REDACTED]"),
        (
            "eSIM %s",
            ("LPA:1$smdp.example.com$K2-1XJ4-7T9Q-3MZ8",),
            "K2-1XJ4-7T9Q-3MZ8",
            "LPA:1$smdp.example.com$…3MZ8",
        ),
        (
            "link %s",
            ("https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$ABCDEF123456789",),
            "ABCDEF123456789",
            "LPA:1$rsp.example.net$…6789",
        ),
        ("ES2+ %s", ('{"matchingId": "QWER-TYUI-1234"}',), "QWER-TYUI-1234", '"matchingId": "[REDACTED]"'),
        (
            '"GET %s HTTP/1.1" 200',
            ("/support/t/SR-7K3M9Q2X/Zq3xV_9-kLmN0pQrStUvWxYz12345678/files/4/",),
            "Zq3xV_9-kLmN0pQrStUvWxYz12345678",
            "/support/t/SR-7K3M9Q2X/[REDACTED]/files/4/",
        ),
    ],
)
def test_secrets_are_masked_in_configured_log_output(log_output, message, args, secret, kept):
    # when
    _log("refill.test", message, *args)
    # then
    written = log_output.getvalue()
    assert secret not in written
    assert kept in written


def test_exception_text_is_masked(log_output):
    _log("refill.test", "payment %s failed", 42, exc=ValueError("card 4242424242424242 with cvc=123 refused"))
    written = log_output.getvalue()
    assert "4242424242424242" not in written and "cvc=123" not in written
    assert "payment 42 failed" in written
    assert "ValueError: card [card …4242] with cvc=[REDACTED] refused" in written
    assert "Traceback" in written


@pytest.mark.parametrize(
    "text",
    [
        "order 1234 paid 25.00 USD",
        "order 90071992547409931 paid",  # 17 digits starting 9: no card; not 16 digits: no PIN
        "line +14155550123 renewed; +8613800138000 too",
        "iccid 8931070820307245732 / 89014103211118510720",
        "eid 89049032007008882600000000000020",
        "epoch 1732400000000 ms, amount 1234567.89",
        "request 3f2a9c1e-8b7d-4e21-9d3a-0c5b6a7e8f90",
        "payment 1046: provider call failed",
        "LPA:1$smdp.example.com$…3MZ8",
        "shipping=free mapping=x",
    ],
)
def test_ordinary_text_survives(log_output, text):
    _log("refill.test", "%s", text)
    assert text in log_output.getvalue()
    assert redact(text) == text


def test_filter_on_a_handler_object():
    # given a plain handler with only the filter
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("refill.test.direct")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # when
        logger.error("password=%s for %s", "hunter2", "+12025550143")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    # then
    assert stream.getvalue() == "password=[REDACTED] for +12025550143\n"


def test_a_record_reaching_two_handlers_is_masked_once_and_still_formats():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "pin=%s", ("1234567890123456",), sys.exc_info())
    assert RedactingFilter().filter(record) and RedactingFilter().filter(record)
    assert record.getMessage() == "pin=[REDACTED]"
