"""A request sent without logging in: the contact gets one email, in the language of the page,
with a secret link; the link (and only the link) shows the ticket, takes answers and files; staff
replies reach the contact by email with a link too."""

import pytest
from django.core import mail
from django.urls import reverse

from refill.support.models import AccessKey, Attachment, Ticket

from .conftest import PDF, client_of, staff_user, upload

pytestmark = pytest.mark.django_db


def _secret_link(body: str, reference: str) -> str:
    start = body.index(f"/support/t/{reference}/")
    return body[start:].split()[0]


def test_an_anonymous_request_is_followed_through_its_secret_link(client, django_capture_on_commit_callbacks):
    # given: a visitor reading in Chinese
    client.cookies["refill_language"] = "zh-hans"
    page = client.get(reverse("support:contact"), {"line": "1", "category": "payment_refused"})
    assert page.status_code == 200 and "line" not in page.context["form"].initial
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("support:contact"),
            {
                "contact_name": "王芳",
                "contact_email": "Wang.Fang@Example.net",
                "category": "payment_refused",
                "line_number": "(202) 555-0177",
                "subject": "付款被拒",
                "body": "我的卡被拒绝了。",
                "attachments": [upload("statement.pdf", PDF)],
            },
        )
    assert answer.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.customer is None and ticket.language == "zh-hans" and ticket.line_number == "+12025550177"
    assert ticket.reference in client.get(reverse("support:sent")).content.decode()
    # then: one email, in Chinese, with the reference and a secret link; only its hash is stored
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["wang.fang@example.net"]
    assert ticket.reference in email.subject and email.body.startswith("您好，")
    link = _secret_link(email.body, ticket.reference)
    secret = link.rstrip("/").rsplit("/", 1)[-1]
    key = AccessKey.objects.get(ticket=ticket)
    assert key.secret_hash != secret and secret not in key.secret_hash

    # a stranger's browser with the link sees the thread and the file
    guest = type(client)()
    shown = guest.get(link)
    assert shown.status_code == 200 and "我的卡被拒绝了。" in shown.content.decode()
    attachment = Attachment.objects.get()
    download = guest.get(reverse("support:guest_attachment", args=[ticket.reference, secret, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"

    # a wrong secret, or the secret of another ticket, finds nothing
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x"):
        assert guest.get(reverse("support:guest_ticket", args=[ticket.reference, wrong])).status_code == 404
        assert guest.post(reverse("support:guest_resolve", args=[ticket.reference, wrong])).status_code == 404
        url = reverse("support:guest_attachment", args=[ticket.reference, wrong, attachment.pk])
        assert guest.get(url).status_code == 404
    # nor does the customer's URL (the ticket has no owner)
    assert client_of(staff_user("support")).get(reverse("support:ticket", args=[ticket.reference])).status_code == 404

    # staff reply: an email to the contact, in the request's language, with a (new) secret link
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_of(staff_user("admin")).post(
            reverse("support_admin:reply", args=[ticket.reference]), {"reply-body": "Please try another card."}
        )
    assert len(mail.outbox) == 1 and mail.outbox[0].body.startswith("您好，")
    assert "Please try another card." in mail.outbox[0].body
    new_link = _secret_link(mail.outbox[0].body, ticket.reference)
    assert new_link != link and guest.get(new_link).status_code == 200
    assert guest.get(link).status_code == 200  # the first link still works

    # the contact answers through the link, then says it is solved
    assert guest.post(link, {"body": "换了卡，成功了。"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.filter(kind="customer", author__isnull=True).count() == 2
    assert guest.post(reverse("support:guest_resolve", args=[ticket.reference, secret])).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_an_anonymous_request_needs_a_name_an_email_and_a_valid_number(client):
    answer = client.post(
        reverse("support:contact"),
        {"category": "other", "subject": "s", "body": "b", "line_number": "12"},
    )
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert {"contact_name", "contact_email", "line_number"} <= set(errors)
    assert Ticket.objects.count() == 0


def test_a_help_topic_is_kept_as_a_slug(client, django_capture_on_commit_callbacks):
    page = client.get(reverse("support:contact"), {"topic": "Card refused & what now?"})
    assert page.context["form"].initial == {"topic": "card-refused-what-now", "category": "other"}
    # A known help topic chooses its category, unless the link named one.
    page = client.get(reverse("support:contact"), {"topic": "payment-declined"})
    assert page.context["form"].initial["category"] == "payment_refused"
    page = client.get(reverse("support:contact"), {"topic": "payment-declined", "category": "account"})
    assert page.context["form"].initial["category"] == "account"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("support:contact"),
            {"contact_name": "A", "contact_email": "a@example.net", "category": "other", "subject": "s",
             "body": "b", "topic": "<script>Topic</script>"},
        )  # fmt: skip
    assert answer.status_code == 302 and Ticket.objects.get().topic == "scripttopicscript"
