"""A customer sees only their own tickets and files; a line that is not theirs cannot be named."""

import pytest
from django.urls import reverse

from refill.support import services
from refill.support.limits import attachments_check
from refill.support.models import Attachment, Ticket

from .conftest import PNG, TEXT, client_of, staff_user, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_ticket(alice):
    customer, user, line = alice
    created = services.ticket_create(
        customer=customer, user=user, category="other", subject="Alice's", body="secret stuff",
        files=attachments_check([upload("log.txt", TEXT)]), language="en", line=line,
    )  # fmt: skip
    services.ticket_note_add(ticket=created.ticket, actor=staff_user("support"), body="staff only")
    return created.ticket


def test_another_customer_finds_neither_the_ticket_nor_its_files(alices_ticket, li):
    attachment = Attachment.objects.get()
    bob = client_of(li[1])
    ref = alices_ticket.reference
    assert bob.get(reverse("support:ticket", args=[ref])).status_code == 404
    assert bob.post(reverse("support:ticket", args=[ref]), {"body": "hi"}).status_code == 404
    assert bob.post(reverse("support:ticket_resolve", args=[ref])).status_code == 404
    assert bob.get(reverse("support:attachment", args=[ref, attachment.pk])).status_code == 404
    assert ref not in bob.get(reverse("support:tickets")).content.decode()
    alices_ticket.refresh_from_db()
    assert alices_ticket.status == "new" and alices_ticket.messages.count() == 2


def test_the_owner_downloads_their_file_and_staff_too(alices_ticket, alice):
    attachment = Attachment.objects.get()
    owner = client_of(alice[1])
    listing = owner.get(reverse("support:tickets")).content.decode()
    assert alices_ticket.reference in listing
    download = owner.get(reverse("support:attachment", args=[alices_ticket.reference, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == TEXT
    assert download["Content-Type"] == "text/plain; charset=utf-8" and "log.txt" in download["Content-Disposition"]
    assert download["Cache-Control"] == "private, no-store"
    staff = client_of(staff_user("finance"))
    got = staff.get(reverse("support_admin:attachment", args=[alices_ticket.reference, attachment.pk]))
    assert got.status_code == 200 and b"".join(got.streaming_content) == TEXT
    # a file of another ticket is not found through this one
    other = services.ticket_create(
        customer=alice[0], user=alice[1], category="other", subject="2", body="2",
        files=attachments_check([upload("a.png", PNG)]), language="en",
    ).ticket  # fmt: skip
    other_file = Attachment.objects.get(message__ticket=other)
    assert owner.get(reverse("support:attachment", args=[alices_ticket.reference, other_file.pk])).status_code == 404


def test_a_file_on_an_internal_note_is_never_served_to_the_customer(alices_ticket, alice):
    note = alices_ticket.messages.get(kind="note")
    Attachment.objects.filter(message__ticket=alices_ticket).update(message=note)
    attachment = Attachment.objects.get()
    owner = client_of(alice[1])
    assert owner.get(reverse("support:attachment", args=[alices_ticket.reference, attachment.pk])).status_code == 404
    assert "staff only" not in owner.get(reverse("support:ticket", args=[alices_ticket.reference])).content.decode()


def test_a_line_that_is_not_the_customers_is_refused_and_ignored_in_the_prefill(alice, li):
    other_line = li[2]
    client = client_of(alice[1])
    page = client.get(reverse("support:contact"), {"line": other_line.pk, "category": "nonsense"})
    assert page.context["form"].initial == {}
    answer = client.post(
        reverse("support:contact"),
        {"category": "renewing", "line": other_line.pk, "subject": "s", "body": "b"},
    )
    assert answer.status_code == 400 and "line" in answer.context["form"].errors
    assert Ticket.objects.count() == 0
    with pytest.raises(services.TicketRefused):
        services.ticket_create(
            customer=alice[0], user=alice[1], category="other", subject="s", body="b", files=[], language="en",
            line=other_line,
        )  # fmt: skip


def test_staff_without_a_customer_have_no_portal_tickets(alices_ticket):
    staff = client_of(staff_user("support", "another-support@example.com"))
    assert staff.get(reverse("support:tickets")).status_code == 404
    assert staff.get(reverse("support:ticket", args=[alices_ticket.reference])).status_code == 404


def test_staff_reply_with_a_file_reaches_the_customer_and_no_one_else(alices_ticket, alice, li, attachments_dir):
    from .conftest import stored_files

    support = client_of(staff_user("support", "replier@example.com"))
    ref = alices_ticket.reference
    answer = support.post(
        reverse("support_admin:reply", args=[ref]),
        {"reply-body": "Here is how the screen should look.", "reply-attachments": [upload("how.png", PNG)]},
    )
    assert answer.status_code == 302
    reply = alices_ticket.messages.get(kind="reply")
    (attachment,) = reply.attachments.all()
    assert attachment.content_type == "image/png" and attachment.original_name == "how.png"
    owner = client_of(alice[1])
    page = owner.get(reverse("support:ticket", args=[ref])).content.decode()
    assert reverse("support:attachment", args=[ref, attachment.pk]) in page
    download = owner.get(reverse("support:attachment", args=[ref, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert client_of(li[1]).get(reverse("support:attachment", args=[ref, attachment.pk])).status_code == 404
    files_before = len(stored_files(attachments_dir))

    # A file the limits refuse sends nothing: no reply, no file, the ticket as it was.
    refused = support.post(
        reverse("support_admin:reply", args=[ref]),
        {"reply-body": "And this.", "reply-attachments": [upload("run.exe", b"MZ\x90\x00" + b"\x00" * 40)]},
    )
    assert refused.status_code == 400
    assert alices_ticket.messages.filter(kind="reply").count() == 1
    assert len(stored_files(attachments_dir)) == files_before
