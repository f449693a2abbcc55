"""The back office's first page (a dashboard of what needs doing today, and customer search) and
the list of lines whose auto-renewal failed."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from refill.customers.staff import require_perm

from .dashboard import dashboard, lines_needing_attention, operator_today, with_reason_text


@staff_member_required
def index(request: HttpRequest) -> HttpResponse:
    """Today's figures the staff member's role may see, each linking to the page behind it, and
    the customer search box; never a list of customers."""
    return render(request, "backoffice/index.html", {"board": dashboard(request.user)})


@require_perm("backoffice.view_customer")
def autorenew_attention_view(request: HttpRequest) -> HttpResponse:
    """Lines whose automatic renewal failed and has not succeeded since (``?failed=today``: only
    those that failed today), the latest failure first, 50 a page."""
    today = operator_today()
    only_today = request.GET.get("failed") == "today"
    lines = lines_needing_attention(failed_since=today.start if only_today else None)
    page = Paginator(lines, 50).get_page(request.GET.get("page"))
    page.object_list = with_reason_text(page.object_list)
    return render(
        request,
        "backoffice/autorenew_attention.html",
        {"page": page, "only_today": only_today, "today": today},
    )
