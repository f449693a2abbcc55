"""A reminder is checked again when it is sent, not only when it is owed: one whose reason has gone
(the line was renewed, its period extended, or auto-renew now covers it) is not sent. And the
expiry reminder names the plan once, in every language (issue 23, item 7)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail

from refill.lines.services import lines_lapse_sweep
from refill.notifications import services as notification_services
from refill.notifications.models import Notification
from refill.notifications.reminders import reminders_sweep
from refill.notifications.services import notices_deliver
from refill.renewals.autorenew import autorenew_update
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 2, 2, 17, 0, tzinfo=UTC)  # noon in New York; the period ends Mar 4, noon
LATE_EVENING = datetime(2026, 2, 26, 3, 30, tzinfo=UTC)  # 22:30 in New York, six and a half days before
NEXT_MORNING = datetime(2026, 2, 26, 14, 5, tzinfo=UTC)  # 09:05 in New York: quiet hours are over


@pytest.fixture
def line():
    market = make_market()
    plan = make_plan(market, "us-7day", price="10.00", validity_count=30, name_en="7-Day Plan",
                     name_zh_hans="7天套餐")  # fmt: skip
    customer, _ = make_customer("late@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    with time_machine.travel(T0, tick=False):
        renew(line, plan)
    line.refresh_from_db()
    return line


def owe_in_the_evening():
    with time_machine.travel(LATE_EVENING, tick=False):
        reminders_sweep()


def deliver_next_morning():
    with time_machine.travel(NEXT_MORNING, tick=False):
        return notices_deliver()


def test_an_expiry_sms_held_overnight_is_not_sent_after_the_line_was_renewed(line, _sms_outbox):
    # given the 7-day reminder owed at 22:30: the email goes at once, the SMS waits for 09:00
    owe_in_the_evening()
    sms = Notification.objects.get(rule="expiry_7d", channel="sms")
    assert sms.status == "pending" and len(mail.outbox) == 1
    # when the customer renews at 23:00
    with time_machine.travel(LATE_EVENING + timedelta(minutes=30), tick=False):
        renew(line, line.plan)
    # then the morning's delivery does not tell them their number ends in 7 days
    deliver_next_morning()
    assert _sms_outbox == []
    sms.refresh_from_db()
    assert sms.status == "skipped" and sms.sent_at is None and "renewed" in sms.error


def test_without_a_renewal_the_held_sms_is_sent_in_the_morning(line, _sms_outbox):
    owe_in_the_evening()
    assert deliver_next_morning() == 1
    assert len(_sms_outbox) == 1 and Notification.objects.get(channel="sms").status == "sent"


def test_an_email_that_could_not_go_out_is_not_sent_late_once_auto_renew_covers_the_line(
    line, _sms_outbox, monkeypatch
):
    # given the mail server was down when the reminder was owed
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as down:
        down.setattr(notification_services.EmailMultiAlternatives, "send", refuse)
        owe_in_the_evening()
    email = Notification.objects.get(rule="expiry_7d", channel="email")
    assert email.status == "pending" and mail.outbox == []
    # when the customer turns auto-renew on (it will renew the line before it ends)
    autorenew_update(line=line, actor=None, enabled=True)
    deliver_next_morning()
    # then neither the email nor the SMS "ends in 7 days" is sent
    assert mail.outbox == [] and _sms_outbox == []
    assert set(Notification.objects.filter(rule="expiry_7d").values_list("status", flat=True)) == {"skipped"}


def test_a_grace_notice_is_not_sent_after_the_lapsed_line_was_renewed(line, _sms_outbox):
    end = line.period_end
    evening = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)  # 22:00 in New York, the day the period ended
    assert evening > end
    with time_machine.travel(evening, tick=False):
        lines_lapse_sweep()
        reminders_sweep()
    assert Notification.objects.get(rule="expired", channel="sms").status == "pending"
    with time_machine.travel(evening + timedelta(hours=1), tick=False):
        renew(line, line.plan)
    with time_machine.travel(evening + timedelta(hours=12), tick=False):
        notices_deliver()
    assert _sms_outbox == [] and Notification.objects.get(rule="expired", channel="sms").status == "skipped"


@pytest.mark.parametrize(("language", "named"), [("en", "7-Day Plan"), ("zh-hans", "7天套餐")])
def test_the_expiry_reminder_names_the_plan_once(line, language, named):
    line.owner.preferred_language = language
    line.owner.save()
    owe_in_the_evening()
    body = Notification.objects.get(rule="expiry_7d", channel="email").body
    assert named in body
    assert "Plan plan" not in body and "套餐套餐" not in body and "套餐 套餐" not in body


def test_no_template_or_translation_doubles_the_word_plan():
    root = Path(__file__).resolve().parents[3] / "src/refill"
    for template in (root / "templates").rglob("*.*"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\{\{ ?\w*plan\w* ?\}\} plan", text, re.I), template
    catalog = (root / "locale/zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    assert not re.search(r"%\(plan\)s ?套餐", catalog)
    assert not re.search(r'msgid ".*%\(plan\)s plan', catalog)
