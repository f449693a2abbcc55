"""Demo support requests: each demo customer gets one open request with a staff reply and one
resolved, made through the real services. Safe to run twice: a customer who already has a
request is left alone."""

from __future__ import annotations

from django.db import transaction

from refill.customers.models import Customer, User
from refill.lines.models import Line

from . import services
from .models import Category, Ticket

DEMO_CUSTOMERS = ("demo@example.com", "li.wei@example.com")
STAFF = ("support@example.com", "admin@example.com")

TEXTS = {
    "en": {
        "open": ("eSIM does not install", "My new phone says the eSIM cannot be added. What should I do?"),
        "reply": "Sorry about that. Please check that the phone is connected to Wi-Fi and scan the code again.",
        "done": ("Card refused at renewal", "My card was refused when I renewed."),
        "done_reply": "Your bank declined the payment. It went through on the second try; nothing else to do.",
    },
    "zh-hans": {
        "open": ("eSIM 无法安装", "我的新手机提示无法添加 eSIM，该怎么办？"),
        "reply": "很抱歉。请确认手机已连接 Wi-Fi，然后再次扫描二维码。",
        "done": ("续费时银行卡被拒", "续费时我的银行卡被拒绝了。"),
        "done_reply": "您的银行拒绝了这笔付款。第二次已成功，无需再做任何操作。",
    },
}


def tickets_seed() -> int:
    """Give each demo customer who has no request yet their two demo requests; returns how many
    customers got them (0 on a second run)."""
    staff = User.objects.filter(email__in=STAFF, is_staff=True).order_by("email").last()
    seeded = 0
    for email in DEMO_CUSTOMERS:
        user = User.objects.filter(email=email).select_related("customer").first()
        customer: Customer | None = user.customer if user else None
        if customer is None or Ticket.objects.filter(customer=customer).exists():
            continue
        texts = TEXTS.get(customer.preferred_language, TEXTS["en"])
        line = Line.objects.filter(owner=customer).order_by("pk").first()
        with transaction.atomic():
            subject, body = texts["open"]
            opened = services.ticket_create(
                customer=customer, user=user, category=Category.ESIM_INSTALL, subject=subject, body=body,
                files=[], language=customer.preferred_language, line=line,
            ).ticket  # fmt: skip
            subject, body = texts["done"]
            done = services.ticket_create(
                customer=customer, user=user, category=Category.PAYMENT_REFUSED, subject=subject, body=body,
                files=[], language=customer.preferred_language, line=line,
            ).ticket  # fmt: skip
            if staff is not None:
                services.ticket_assign(ticket=opened, actor=staff, assignee=staff)
                services.ticket_reply(ticket=opened, actor=staff, body=texts["reply"])
                services.ticket_reply(ticket=done, actor=staff, body=texts["done_reply"])
            services.ticket_customer_resolve(ticket=done)
        seeded += 1
    return seeded
