"""Attachments are limited in number, size and kind (judged from the bytes, not the name), and a
refused request stores nothing; requests are rate limited per address and per account."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from refill.support.models import Attachment, Message, Ticket

from .conftest import JPEG, PDF, PNG, TEXT, client_of, stored_files, upload

pytestmark = pytest.mark.django_db


def _send(client, files, **extra):
    data = {"category": "other", "subject": "Files", "body": "See attached", **extra}
    if files:
        data["attachments"] = files
    return client.post(reverse("support:contact"), data)


def _nothing_saved(folder):
    assert (Ticket.objects.count(), Message.objects.count(), Attachment.objects.count()) == (0, 0, 0)
    assert stored_files(folder) == []


def test_each_accepted_kind_is_kept_with_the_kind_read_from_its_bytes(alice, attachments_dir):
    client = client_of(alice[1])
    # a JPEG named .txt, and a PDF named .png: the bytes decide
    files = [upload("photo.txt", JPEG, "text/plain"), upload("bill.png", PDF, "image/png"), upload("x.log", TEXT)]
    assert _send(client, files).status_code == 302
    kinds = dict(Attachment.objects.values_list("original_name", "content_type"))
    assert kinds == {"photo.txt": "image/jpeg", "bill.png": "application/pdf", "x.log": "text/plain"}
    assert len(stored_files(attachments_dir)) == 3
    for stored in stored_files(attachments_dir):
        assert stored.name not in ("photo.txt", "bill.png", "x.log")  # never the customer's name on disk


@pytest.mark.parametrize(
    "name, content",
    [
        ("screen.png", b"MZ\x90\x00" + b"\x00" * 100),  # a Windows program named like a picture
        ("notes.txt", b"\x00\x01\x02binary\xff\xfe"),  # binary named like text
        ("page.html", b"\x7fELF\x02\x01"),
    ],
)
def test_a_file_of_another_kind_is_refused_whatever_its_name(alice, attachments_dir, name, content):
    answer = _send(client_of(alice[1]), [upload("ok.png", PNG), upload(name, content, "image/png")])
    assert answer.status_code == 400
    errors = answer.context["form"].errors["attachments"]
    assert any(name in error and "PNG" in error for error in errors)
    _nothing_saved(attachments_dir)


def test_a_file_over_the_size_limit_is_refused(alice, attachments_dir, settings):
    settings.REFILL_SUPPORT_MAX_FILE_BYTES = 1024
    answer = _send(client_of(alice[1]), [upload("big.png", PNG + b"\x00" * 1024)])
    assert answer.status_code == 400
    assert "big.png" in answer.context["form"].errors["attachments"][0]
    assert b'data-testid="error-attachments"' in answer.content
    _nothing_saved(attachments_dir)


def test_the_default_size_limit_is_five_megabytes(alice, attachments_dir):
    client = client_of(alice[1])
    too_big = upload("big.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024))
    answer = _send(client, [too_big])
    assert answer.status_code == 400 and "5 MB" in answer.context["form"].errors["attachments"][0]
    _nothing_saved(attachments_dir)
    just_fits = upload("fits.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 - 9))
    assert _send(client, [just_fits]).status_code == 302


def test_more_than_three_files_are_refused_in_chinese_too(li, attachments_dir):
    answer = _send(client_of(li[1]), [upload(f"{n}.png", PNG) for n in range(4)])
    assert answer.status_code == 400
    error = answer.context["form"].errors["attachments"][0]
    assert "3" in error
    _nothing_saved(attachments_dir)


def test_a_reply_with_a_refused_file_adds_nothing(alice, attachments_dir):
    client = client_of(alice[1])
    assert _send(client, [upload("a.png", PNG)]).status_code == 302
    ticket = Ticket.objects.get()
    answer = client.post(
        reverse("support:ticket", args=[ticket.reference]),
        {"body": "more", "attachments": [upload("b.png", b"GIF89a\x01\x00\x01\x00\x80\x00\x00")]},
    )
    assert answer.status_code == 400
    assert (Message.objects.count(), Attachment.objects.count(), len(stored_files(attachments_dir))) == (1, 1, 1)


def test_a_failure_while_saving_removes_the_files_already_written(alice, attachments_dir, monkeypatch):
    from refill.support import services
    from refill.support.limits import attachments_check

    def broken(**_kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(services, "notice", broken)
    with pytest.raises(RuntimeError):
        services.ticket_create(
            customer=alice[0], user=alice[1], category="other", subject="s", body="b", language="en",
            files=attachments_check([upload("a.png", PNG), upload("b.pdf", PDF)]),
        )  # fmt: skip
    _nothing_saved(attachments_dir)


def test_requests_are_rate_limited_per_address_and_per_account(alice, li, settings, client, time_machine):
    # Counted per clock hour: at twenty past with the clock still, never across an hour.
    time_machine.move_to(datetime(2026, 3, 2, 15, 20, tzinfo=UTC), tick=False)
    settings.REFILL_SUPPORT_REQUESTS_PER_HOUR = 2
    customer_client = client_of(alice[1])
    assert [_send(customer_client, [], subject=f"Request {n}").status_code for n in range(3)] == [302, 302, 429]
    refused = _send(customer_client, [], subject="Another")
    assert refused.status_code == 429 and b'data-testid="rate-limited"' in refused.content
    assert Ticket.objects.count() == 2
    # the same address (the test client's) is over its limit for anyone else too
    anonymous = _send(client, [], contact_name="A", contact_email="a@example.net")
    assert anonymous.status_code == 429
    # in Chinese for a Chinese reader
    chinese = _send(client_of(li[1]), [])
    assert chinese.status_code == 429 and b'lang="zh-Hans"' in chinese.content


def test_the_account_limit_holds_from_another_address(alice, settings, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 15, 20, tzinfo=UTC), tick=False)
    settings.REFILL_SUPPORT_REQUESTS_PER_HOUR = 1
    client = client_of(alice[1])
    data = {"category": "other", "subject": "s", "body": "b"}
    assert client.post(reverse("support:contact"), data, REMOTE_ADDR="10.0.0.1").status_code == 302
    assert (
        client.post(
            reverse("support:contact"), {"category": "other", "subject": "s", "body": "b"}, REMOTE_ADDR="10.0.0.2"
        ).status_code
        == 429
    )
