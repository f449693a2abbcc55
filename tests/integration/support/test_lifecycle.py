"""A support request from start to end: sent with a file, its reference emailed in the customer's
language, assigned, noted (never shown to the customer), answered by email in the customer's
language and by SMS only if they allow it, answered back (which re-opens it), resolved, closed."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.support import services
from refill.support.models import Attachment, Message, Ticket

from .conftest import PNG, client_of, staff_user, upload

pytestmark = pytest.mark.django_db

# Noon in Shanghai: SMS are not held back by quiet hours.
NOON_SHANGHAI = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def test_a_request_from_start_to_end_in_chinese(li, django_capture_on_commit_callbacks, _sms_outbox):
    customer, user, line = li
    client = client_of(user)
    with time_machine.travel(NOON_SHANGHAI, tick=False):
        # given: the contact form, prefilled from a help page, in the customer's language
        page = client.get(reverse("support:contact"), {"category": "esim_install", "line": line.pk, "topic": "esim"})
        assert page.status_code == 200 and b'lang="zh-Hans"' in page.content
        assert page.context["form"].initial == {"category": "esim_install", "line": line.pk, "topic": "esim"}
        # when: the customer sends it with a screenshot
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                reverse("support:contact"),
                {
                    "category": "esim_install",
                    "line": line.pk,
                    "topic": "esim",
                    "subject": "eSIM 安装失败",
                    "body": "扫描二维码后提示无法添加。",
                    "attachments": [upload("screen.png", PNG)],
                },
            )
        assert answer.status_code == 302 and answer["Location"] == reverse("support:sent")
        ticket = Ticket.objects.get()
        sent = client.get(answer["Location"])
        assert ticket.reference in sent.content.decode()
        # then: one ticket, its first message and the file; the reference emailed in Chinese
        assert ticket.reference.startswith("SR-") and len(ticket.reference) == 11
        assert (ticket.customer, ticket.line, ticket.language, ticket.status) == (customer, line, "zh-hans", "new")
        assert ticket.topic == "esim" and ticket.contact_email == "li@example.com"
        attachment = Attachment.objects.get()
        assert (attachment.original_name, attachment.content_type, attachment.size) == (
            "screen.png",
            "image/png",
            len(PNG),
        )
        assert len(mail.outbox) == 1
        created_mail = mail.outbox[0]
        assert created_mail.to == ["li@example.com"] and ticket.reference in created_mail.subject
        assert ticket.reference in created_mail.body and created_mail.body.startswith("您好，")
        assert created_mail.extra_headers["Content-Language"] == "zh-hans"
        assert _sms_outbox == []  # the confirmation is an email only

        # staff: assign to themselves, add an internal note
        support = staff_user("support")
        staff = client_of(support)
        queue = staff.get(reverse("support_admin:queue"))
        assert ticket.reference in queue.content.decode()
        assert staff.post(reverse("support_admin:assign", args=[ticket.reference]), {"me": "1"}).status_code == 302
        staff.post(
            reverse("support_admin:note", args=[ticket.reference]), {"note-body": "Known SM-DP+ issue, ticket #7"}
        )
        ticket.refresh_from_db()
        assert ticket.assignee == support and ticket.status == "open"
        staff_page = staff.get(reverse("support_admin:ticket", args=[ticket.reference])).content.decode()
        assert "Known SM-DP+ issue" in staff_page and "简体中文" in staff_page  # the customer's language shown
        own_page = client.get(reverse("support:ticket", args=[ticket.reference])).content.decode()
        assert "Known SM-DP+ issue" not in own_page and "扫描二维码后提示无法添加。" in own_page

        # staff reply: emailed in Chinese (the staff text as written) and by SMS (allowed)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            staff.post(
                reverse("support_admin:reply", args=[ticket.reference]),
                {"reply-body": "Please connect to Wi-Fi and scan again."},
            )
        ticket.refresh_from_db()
        assert ticket.status == "waiting" and ticket.awaiting_since is None
        assert len(mail.outbox) == 1
        reply_mail = mail.outbox[0]
        assert reply_mail.to == ["li@example.com"] and ticket.reference in reply_mail.subject
        assert reply_mail.body.startswith("您好，") and "Refill，让您的号码不停机。" in reply_mail.body
        assert "Please connect to Wi-Fi and scan again." in reply_mail.body
        assert f"/support/{ticket.reference}/" in reply_mail.body
        assert reply_mail.extra_headers["Content-Language"] == "zh-hans"
        assert len(_sms_outbox) == 1 and _sms_outbox[0]["to"] == line.msisdn
        assert ticket.reference in _sms_outbox[0]["body"] and f"/support/{ticket.reference}/" in _sms_outbox[0]["body"]

        # the customer sees the reply and answers: the ticket is open again, back in the queue
        own_page = client.get(reverse("support:ticket", args=[ticket.reference])).content.decode()
        assert "Please connect to Wi-Fi and scan again." in own_page and "Known SM-DP+ issue" not in own_page
        answer = client.post(reverse("support:ticket", args=[ticket.reference]), {"body": "还是不行。"})
        assert answer.status_code == 302
        ticket.refresh_from_db()
        assert ticket.status == "open" and ticket.awaiting_since is not None

        # resolved by the customer, then closed by staff: no more replies
        client.post(reverse("support:ticket_resolve", args=[ticket.reference]))
        ticket.refresh_from_db()
        assert ticket.status == "resolved" and ticket.resolved_at is not None
        staff.post(reverse("support_admin:status", args=[ticket.reference]), {"status": "closed"})
        ticket.refresh_from_db()
        assert ticket.status == "closed"
        refused = client.post(reverse("support:ticket", args=[ticket.reference]), {"body": "再问一下"})
        assert refused.status_code == 400 and b'data-testid="form-error"' in refused.content
        assert (
            staff.post(reverse("support_admin:reply", args=[ticket.reference]), {"reply-body": "x"}).status_code == 400
        )

    kinds = list(ticket.messages.values_list("kind", flat=True))
    assert kinds == ["customer", "note", "reply", "customer"]
    actions = list(
        AuditEvent.objects.filter(object_type="support.ticket").order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["support.ticket_assign", "support.ticket_note", "support.ticket_reply", "support.ticket_status"]
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {support.pk}


def test_a_reply_to_an_english_customer_who_refuses_sms_is_an_email_only(
    alice, django_capture_on_commit_callbacks, _sms_outbox
):
    customer, user, line = alice
    customer.notify_sms = False
    customer.save()
    created = services.ticket_create(
        customer=customer, user=user, category="renewing", subject="Renewal", body="How do I renew?",
        files=[], language="en", line=line,
    )  # fmt: skip
    mail.outbox.clear()
    support = staff_user("support")
    with time_machine.travel(NOON_SHANGHAI, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=created.ticket, actor=support, body="Open My lines and press Renew.")
    assert len(mail.outbox) == 1 and mail.outbox[0].body.startswith("Hello,")
    assert "Open My lines and press Renew." in mail.outbox[0].body and "您好" not in mail.outbox[0].body
    assert _sms_outbox == []


def test_a_reply_goes_by_sms_only_when_email_is_refused(alice, django_capture_on_commit_callbacks, _sms_outbox):
    customer, user, line = alice
    customer.notify_email = False
    customer.save()
    with time_machine.travel(NOON_SHANGHAI, tick=False), django_capture_on_commit_callbacks(execute=True):
        created = services.ticket_create(
            customer=customer, user=user, category="account", subject="Login", body="I cannot log in.",
            files=[], language="en", line=line,
        )  # fmt: skip
        services.ticket_reply(ticket=created.ticket, actor=staff_user("admin"), body="Reset your password.")
    assert mail.outbox == []
    assert len(_sms_outbox) == 1 and created.ticket.reference in _sms_outbox[0]["body"]


def test_staff_set_status_and_the_customer_reopens_a_resolved_ticket(alice):
    customer, user, _line = alice
    support = staff_user("support")
    ticket = services.ticket_create(
        customer=customer, user=user, category="other", subject="Hi", body="A question", files=[], language="en"
    ).ticket
    services.ticket_status_set(ticket=ticket, actor=support, status="resolved")
    assert ticket.status == "resolved" and ticket.awaiting_since is None
    services.ticket_customer_reply(ticket=ticket, user=user, body="Not quite", files=[])
    assert ticket.status == "open" and ticket.resolved_at is None and ticket.awaiting_since is not None
    assert Message.objects.filter(ticket=ticket, kind="customer").count() == 2


def test_the_queue_filters_and_shows_the_longest_wait_first(alice, li):
    support, finance = staff_user("support"), staff_user("finance")
    first = services.ticket_create(
        customer=alice[0], user=alice[1], category="renewing", subject="One", body="b", files=[], language="en",
        line=alice[2],
    ).ticket  # fmt: skip
    second = services.ticket_create(
        customer=None, user=None, category="other", subject="Two", body="b", files=[], language="en",
        contact_name="Guest", contact_email="guest@example.net", line_number="+12025550100",
    ).ticket  # fmt: skip
    third = services.ticket_create(
        customer=li[0], user=li[1], category="renewing", subject="Three", body="b", files=[], language="zh-hans"
    ).ticket
    services.ticket_assign(ticket=third, actor=support, assignee=support)
    services.ticket_reply(ticket=first, actor=support, body="answered")  # now waiting on the customer
    Ticket.objects.filter(pk=third.pk).update(awaiting_since=second.awaiting_since.replace(year=2020))

    def refs(client, **params):
        page = client.get(reverse("support_admin:queue"), params)
        assert page.status_code == 200
        return [t.reference for t in page.context["page"].object_list]

    staff = client_of(support)
    assert refs(staff) == [third.reference, second.reference, first.reference]
    assert refs(staff, assignee="me") == [third.reference]
    assert refs(staff, assignee="unassigned") == [second.reference, first.reference]
    assert refs(staff, category="renewing") == [third.reference, first.reference]
    assert refs(staff, status="waiting") == [first.reference]
    assert refs(staff, q=second.reference) == [second.reference]
    assert refs(staff, q="guest@example") == [second.reference]
    assert refs(staff, q="(202) 555-0100") == [second.reference]
    assert refs(staff, q="alice@example.com") == [first.reference]
    services.ticket_status_set(ticket=second, actor=support, status="closed")
    assert second.reference not in refs(staff) and second.reference in refs(staff, status="all")
    # finance may look, not act
    looker = client_of(finance)
    assert refs(looker) == [third.reference, first.reference]
    assert (
        b'data-testid="ticket-actions"'
        not in looker.get(reverse("support_admin:ticket", args=[first.reference])).content
    )
    assert looker.post(reverse("support_admin:note", args=[first.reference]), {"note-body": "x"}).status_code == 403


def test_assigning_to_someone_who_may_not_act_is_refused(alice):
    support, finance = staff_user("support"), staff_user("finance")
    ticket = services.ticket_create(
        customer=alice[0], user=alice[1], category="other", subject="s", body="b", files=[], language="en"
    ).ticket
    staff = client_of(support)
    refused = staff.post(reverse("support_admin:assign", args=[ticket.reference]), {"assignee": finance.pk})
    assert refused.status_code == 400
    colleague = staff_user("admin", "colleague@example.com")
    assert (
        staff.post(reverse("support_admin:assign", args=[ticket.reference]), {"assignee": colleague.pk}).status_code
        == 302
    )
    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    assert AuditEvent.objects.filter(action="support.ticket_assign", object_id=str(ticket.pk)).count() == 1
