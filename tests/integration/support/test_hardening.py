"""Review fixes: replies are rate limited, the assignee hears when the customer writes, a double
click sends once, files are always downloads with a safe name, secret-link pages are private,
every POST needs its CSRF token, and the staff pages' query counts do not grow with their rows."""

import logging
import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.support import services
from refill.support.limits import attachments_check, safe_file_name
from refill.support.models import AccessKey, Attachment, Message, Ticket

from .conftest import PNG, TEXT, client_of, staff_user, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def within_one_hour(time_machine):
    """Reply and request limits count per clock hour: the test runs at twenty past with the clock
    standing still, so its requests never fall on both sides of an hour."""
    time_machine.move_to(datetime(2026, 3, 2, 15, 20, tzinfo=UTC), tick=False)


def _ticket(customer, user, *, subject="Help", body="It broke", files=None, line=None):
    return services.ticket_create(
        customer=customer, user=user, category="other", subject=subject, body=body,
        files=attachments_check(files or []), language="en", line=line,
    ).ticket  # fmt: skip


def _guest_ticket(email="guest@example.net", subject="Guest"):
    created = services.ticket_create(
        customer=None, user=None, category="other", subject=subject, body="b", files=[], language="en",
        contact_name="G", contact_email=email,
    )  # fmt: skip
    return created.ticket, created.secret


# 1. Replies are rate limited ---------------------------------------------------------------------


def test_a_customers_replies_are_limited_per_ticket(alice, settings, within_one_hour):
    settings.REFILL_SUPPORT_REPLIES_PER_TICKET_PER_HOUR = 2
    ticket = _ticket(alice[0], alice[1])
    client = client_of(alice[1])
    url = reverse("support:ticket", args=[ticket.reference])
    codes = [client.post(url, {"body": f"reply {n}"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    refused = client.post(url, {"body": "one more"})
    assert refused.status_code == 429 and b'data-testid="rate-limited"' in refused.content
    assert ticket.messages.filter(kind="customer").count() == 3  # the first message and two replies


def test_a_guests_replies_are_limited_per_ticket_in_their_language(client, settings, within_one_hour):
    settings.REFILL_SUPPORT_REPLIES_PER_TICKET_PER_HOUR = 1
    ticket, secret = _guest_ticket()
    url = reverse("support:guest_ticket", args=[ticket.reference, secret])
    assert client.post(url, {"body": "first"}).status_code == 302
    client.cookies["refill_language"] = "zh-hans"
    refused = client.post(url, {"body": "second"})
    assert refused.status_code == 429 and b'lang="zh-Hans"' in refused.content
    assert b'data-testid="rate-limited"' in refused.content
    # another address does not reset the ticket's count
    assert Client().post(url, {"body": "third"}, REMOTE_ADDR="10.9.9.9").status_code == 429
    assert ticket.messages.count() == 2


def test_replies_are_limited_per_address_over_every_ticket(alice, settings, within_one_hour):
    settings.REFILL_SUPPORT_REPLIES_PER_IP_PER_HOUR = 2
    tickets = [_ticket(alice[0], alice[1], subject=f"T{n}") for n in range(3)]
    client = client_of(alice[1])
    codes = [
        client.post(reverse("support:ticket", args=[t.reference]), {"body": "hi"}, REMOTE_ADDR="10.1.1.1").status_code
        for t in tickets
    ]
    assert codes == [302, 302, 429]
    # from elsewhere, the third ticket still takes a reply
    other = client.post(reverse("support:ticket", args=[tickets[2].reference]), {"body": "hi"}, REMOTE_ADDR="10.2.2.2")
    assert other.status_code == 302


def test_an_invalid_reply_is_not_counted(alice, settings, within_one_hour):
    settings.REFILL_SUPPORT_REPLIES_PER_TICKET_PER_HOUR = 1
    ticket = _ticket(alice[0], alice[1])
    client = client_of(alice[1])
    url = reverse("support:ticket", args=[ticket.reference])
    assert client.post(url, {"body": ""}).status_code == 400
    assert client.post(url, {"body": "now with text"}).status_code == 302


# 2. The assignee hears when the customer writes --------------------------------------------------


@pytest.fixture
def agent():
    return staff_user("support", "agent@example.com")


def test_the_assignee_is_emailed_once_per_customer_message(alice, agent, django_capture_on_commit_callbacks):
    ticket = _ticket(alice[0], alice[1], subject="Card refused")
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    client = client_of(alice[1])
    url = reverse("support:ticket", args=[ticket.reference])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"body": "Still refused.", "attachments": [upload("a.png", PNG)]}).status_code == 302
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    email = mail.outbox[0]
    assert ticket.reference in email.subject and "Still refused." in email.body and "1 file attached." in email.body
    assert reverse("support_admin:ticket", args=[ticket.reference]) in email.body
    assert email.extra_headers["Content-Language"] == "en" and not email.alternatives
    # a staff reply or note tells the customer, never the assignee
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_note_add(ticket=ticket, actor=agent, body="note")
        services.ticket_reply(ticket=ticket, actor=agent, body="Try again")
    assert "agent@example.com" not in [to for m in mail.outbox for to in m.to]


def test_the_assignee_hears_a_guest_in_english_whatever_the_guests_language(agent, django_capture_on_commit_callbacks):
    ticket, secret = _guest_ticket()
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    guest = Client()
    guest.cookies["refill_language"] = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        answer = guest.post(reverse("support:guest_ticket", args=[ticket.reference, secret]), {"body": "你好"})
    assert answer.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["agent@example.com"]
    assert mail.outbox[0].body.startswith("The customer wrote") and "你好" in mail.outbox[0].body
    assert secret not in mail.outbox[0].body  # staff get the back-office link, not the guest's


def test_nobody_is_emailed_for_an_unassigned_ticket_or_before_the_commit(
    alice, agent, django_capture_on_commit_callbacks
):
    ticket = _ticket(alice[0], alice[1])
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_customer_reply(ticket=ticket, user=alice[1], body="hello?", files=[])
    assert mail.outbox == []
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.ticket_customer_reply(ticket=ticket, user=alice[1], body="anyone?", files=[])
    assert mail.outbox == [] and len(callbacks) == 1  # sent only once the reply is committed


# Idempotency: a double click sends once -----------------------------------------------------------


def test_a_double_clicked_contact_form_opens_one_ticket(alice):
    client = client_of(alice[1])
    data = {"category": "other", "subject": "Twice", "body": "Clicked twice"}
    first = client.post(reverse("support:contact"), data)
    second = client.post(reverse("support:contact"), {**data, "attachments": [upload("a.png", PNG)]})
    assert first.status_code == second.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.reference in client.get(reverse("support:sent")).content.decode()
    assert (Message.objects.count(), Attachment.objects.count()) == (1, 0)
    # a different request is a new ticket
    assert client.post(reverse("support:contact"), {**data, "body": "Something else"}).status_code == 302
    assert Ticket.objects.count() == 2


def test_a_double_clicked_anonymous_request_emails_once(client, django_capture_on_commit_callbacks):
    data = {"contact_name": "A", "contact_email": "a@example.net", "category": "other", "subject": "S", "body": "B"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("support:contact"), data)
        client.post(reverse("support:contact"), data)
    assert Ticket.objects.count() == 1 and len(mail.outbox) == 1
    # another contact writing the same words is another request
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("support:contact"), {**data, "contact_email": "b@example.net"})
    assert Ticket.objects.count() == 2


def test_a_double_clicked_reply_is_kept_and_told_once(alice, agent, django_capture_on_commit_callbacks):
    ticket = _ticket(alice[0], alice[1])
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    client = client_of(alice[1])
    url = reverse("support:ticket", args=[ticket.reference])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"body": "Same words"}).status_code == 302
        assert client.post(url, {"body": "Same words"}).status_code == 302
    assert ticket.messages.filter(body="Same words").count() == 1 and len(mail.outbox) == 1
    # once staff answered, the same words again are a new message
    services.ticket_reply(ticket=ticket, actor=agent, body="What words?")
    assert client.post(url, {"body": "Same words"}).status_code == 302
    assert ticket.messages.filter(body="Same words").count() == 2


# Files: always a download, never a page; a safe name ---------------------------------------------


def test_a_file_is_a_download_that_is_never_sniffed_or_run(alice):
    html_as_text = b"<html><script>alert(1)</script></html>\n"
    ticket = _ticket(alice[0], alice[1], files=[upload("page.html", html_as_text, "text/html")])
    attachment = Attachment.objects.get()
    assert attachment.content_type == "text/plain"
    got = client_of(alice[1]).get(reverse("support:attachment", args=[ticket.reference, attachment.pk]))
    assert got["Content-Type"] == "text/plain; charset=utf-8"
    assert got["Content-Disposition"].startswith("attachment;")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got["Content-Security-Policy"] and "default-src 'none'" in got["Content-Security-Policy"]
    # a stored type outside the known kinds is sent as opaque bytes
    Attachment.objects.filter(pk=attachment.pk).update(content_type="text/html")
    staff = client_of(staff_user("support"))
    got = staff.get(reverse("support_admin:attachment", args=[ticket.reference, attachment.pk]))
    assert got["Content-Type"] == "application/octet-stream" and got["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\shot.png", "shot.png"),
        ("bill\r\nSet-Cookie: x=1.pdf", "billSet-Cookie: x=1.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("..", "file"),
        ("", "file"),
        ("截图 1.png", "截图 1.png"),
    ],
)
def test_a_file_name_is_made_safe(raw, safe):
    assert safe_file_name(raw) == safe


def test_a_file_with_a_hostile_name_is_stored_under_a_random_name_and_downloads(alice, attachments_dir):
    # given: a caller that hands the service a name a browser would never send
    from refill.support.limits import CheckedFile

    hostile = CheckedFile(upload=upload("x", TEXT), name="../../a\r\nb.txt", content_type="text/plain", size=len(TEXT))
    ticket = _ticket(alice[0], alice[1])
    services.ticket_customer_reply(ticket=ticket, user=alice[1], body="file", files=[hostile])
    attachment = Attachment.objects.get()
    assert attachment.original_name == "ab.txt"
    stored = [p for p in attachments_dir.rglob("*") if p.is_file()]
    # stored under a random name (32 hex digits), nothing of the name the caller gave
    assert len(stored) == 1 and stored[0].is_relative_to(attachments_dir)
    assert re.fullmatch(r"[0-9a-f]{32}", stored[0].name)
    got = client_of(alice[1]).get(reverse("support:attachment", args=[ticket.reference, attachment.pk]))
    assert got.status_code == 200 and 'filename="ab.txt"' in got["Content-Disposition"]


# The guest secret --------------------------------------------------------------------------------


def test_a_secret_link_page_is_cached_by_nobody_and_leaks_no_referrer(client):
    ticket, secret = _guest_ticket()
    page = client.get(reverse("support:guest_ticket", args=[ticket.reference, secret]))
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store" and page["Referrer-Policy"] == "no-referrer"


def test_the_secret_is_in_no_audit_row_and_no_log(caplog, monkeypatch, django_capture_on_commit_callbacks):
    # given: an anonymous ticket, answered by staff while the mail server is down
    from django.core.mail import EmailMultiAlternatives

    def down(self, *args, **kwargs):
        raise OSError("smtp down")

    ticket, first_secret = _guest_ticket()
    monkeypatch.setattr(EmailMultiAlternatives, "send", down)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, actor=staff_user("support"), body="Answer")
    secrets_known = [first_secret]
    # then: the reply's new key is stored as a hash only, and no secret is in the audit or the log
    assert AccessKey.objects.filter(ticket=ticket).count() == 2
    for row in AuditEvent.objects.filter(object_id=str(ticket.pk)):
        assert not any(secret in str(row.data) for secret in secrets_known)
        assert not any(key.secret_hash in str(row.data) for key in AccessKey.objects.all())
    assert "could not be sent" in caplog.text and "/support/t/" not in caplog.text
    assert first_secret not in caplog.text


def test_a_reply_to_a_ticket_closed_meanwhile_is_refused_politely(alice, monkeypatch):
    ticket = _ticket(alice[0], alice[1])
    client = client_of(alice[1])
    real = services.ticket_customer_reply

    def closed_meanwhile(**kwargs):
        Ticket.objects.filter(pk=ticket.pk).update(status="closed")
        return real(**kwargs)

    monkeypatch.setattr(services, "ticket_customer_reply", closed_meanwhile)
    answer = client.post(reverse("support:ticket", args=[ticket.reference]), {"body": "late"})
    assert answer.status_code == 400 and b'data-testid="form-error"' in answer.content
    assert ticket.messages.count() == 1


# The contact's address is limited too -----------------------------------------------------------


def test_one_email_address_is_sent_few_receipts_from_any_address(
    settings, django_capture_on_commit_callbacks, within_one_hour
):
    settings.REFILL_SUPPORT_REQUESTS_PER_HOUR = 2
    data = {"contact_name": "A", "contact_email": "victim@example.net", "category": "other", "body": "B"}
    codes = []
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            answer = Client().post(reverse("support:contact"), {**data, "subject": f"S{n}"}, REMOTE_ADDR=f"10.0.0.{n}")
        codes.append(answer.status_code)
    assert codes == [302, 302, 429] and len(mail.outbox) == 2


# CSRF on every POST ------------------------------------------------------------------------------


def test_every_post_needs_its_csrf_token(alice):
    ticket = _ticket(alice[0], alice[1])
    guest, secret = _guest_ticket()
    staff = staff_user("admin", "csrf-admin@example.com")
    customer_posts = [
        reverse("support:contact"),
        reverse("support:ticket", args=[ticket.reference]),
        reverse("support:ticket_resolve", args=[ticket.reference]),
    ]
    guest_posts = [
        reverse("support:guest_ticket", args=[guest.reference, secret]),
        reverse("support:guest_resolve", args=[guest.reference, secret]),
    ]
    staff_posts = [
        reverse(f"support_admin:{name}", args=[ticket.reference]) for name in ("assign", "status", "note", "reply")
    ]
    from tests.factories import login

    for user, urls in ((alice[1], customer_posts), (None, guest_posts), (staff, staff_posts)):
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            login(client, user)
        for url in urls:
            assert client.post(url, {"body": "x", "me": "1", "status": "closed"}).status_code == 403, url
    ticket.refresh_from_db()
    guest.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.messages.count()) == ("new", None, 1)
    assert (guest.status, guest.messages.count()) == ("new", 1)


# Query counts do not grow with rows ---------------------------------------------------------------


def _many(alice, li, count):
    agent = staff_user("support", f"agent{count}@example.com")
    for n in range(count):
        owner = alice if n % 2 else li
        ticket = _ticket(owner[0], owner[1], subject=f"Q{count}-{n}", line=owner[2], files=[upload("a.png", PNG)])
        services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
        services.ticket_note_add(ticket=ticket, actor=agent, body="n")
        _guest_ticket(email=f"g{count}-{n}@example.net", subject=f"G{n}")


@pytest.mark.parametrize("count", [2, 20])
def test_the_queue_page_costs_the_same_whatever_its_length(alice, li, count, django_assert_max_num_queries):
    _many(alice, li, count)
    client = client_of(staff_user("support"))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("support_admin:queue"), {"status": "all"})
    assert page.status_code == 200 and page.content.count(b'data-testid="queue-SR-') == 2 * count


@pytest.mark.parametrize("count", [2, 20])
def test_the_ticket_pages_cost_the_same_whatever_the_thread(alice, count, django_assert_max_num_queries):
    ticket = _ticket(alice[0], alice[1], files=[upload("a.png", PNG)])
    agent = staff_user("support", "agent-t@example.com")
    for n in range(count):
        services.ticket_reply(ticket=ticket, actor=agent, body=f"r{n}")
        services.ticket_customer_reply(
            ticket=ticket, user=alice[1], body=f"c{n}", files=attachments_check([upload("b.png", PNG)])
        )
        services.ticket_note_add(ticket=ticket, actor=agent, body=f"n{n}")
    staff = client_of(agent)
    customer = client_of(alice[1])
    with django_assert_max_num_queries(10):
        assert staff.get(reverse("support_admin:ticket", args=[ticket.reference])).status_code == 200
    with django_assert_max_num_queries(7):
        assert customer.get(reverse("support:ticket", args=[ticket.reference])).status_code == 200


@pytest.mark.parametrize("count", [2, 20])
def test_the_customers_list_and_360_cost_the_same_whatever_the_tickets(alice, li, count, django_assert_max_num_queries):
    _many(alice, li, count)
    customer = client_of(alice[1])
    with django_assert_max_num_queries(5):
        assert customer.get(reverse("support:tickets")).status_code == 200
    staff = client_of(staff_user("support"))
    staff.get(reverse("backoffice:customer", args=[alice[0].pk]))  # warm per-process caches
    # 19 today, with every section of the page; the support section adds one query, not one a row
    with django_assert_max_num_queries(22):
        page = staff.get(reverse("backoffice:customer", args=[alice[0].pk]))
    assert page.status_code == 200


def test_a_second_click_while_the_first_is_being_stored_waits_and_finds_it(monkeypatch):
    # given: the first click of an anonymous contact is being stored (its mark is in the cache)
    from django.core.cache import cache

    values = dict(category="other", subject="Fast", body="Double", contact_email="c@example.net")
    marker = services.creating_marker(sender="c@example.net", **{k: values[k] for k in ("category", "subject", "body")})
    cache.set(marker, 1)
    first = []

    def first_click_commits(_seconds):
        if not first:
            cache.delete(marker)
            first.append(
                services.ticket_create(customer=None, user=None, files=[], language="en", contact_name="C", **values)
            )

    monkeypatch.setattr(services.time, "sleep", first_click_commits)
    # when: the second click arrives meanwhile
    second = services.ticket_create(customer=None, user=None, files=[], language="en", contact_name="C", **values)
    # then: it waited for the first and is that one
    assert second.duplicate and second.ticket == first[0].ticket and Ticket.objects.count() == 1
