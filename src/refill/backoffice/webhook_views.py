"""Partners' webhook endpoints in the back office: add one (its URL must reach a public address),
delete one (after confirming), and the delivery log with every attempt and replay."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from refill.customers.staff import require_perm
from refill.errors import RefillError
from refill.integrations.http_guard import REASONS
from refill.webhooks.models import WebhookDelivery, WebhookEndpoint
from refill.webhooks.outbox import EVENTS, delivery_replay, endpoint_create, endpoint_delete


@require_perm("webhooks.view_webhookdelivery")
def webhooks_view(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        if "replay" in request.POST:
            if not request.user.has_perm("webhooks.change_webhookdelivery"):
                raise PermissionDenied
            delivery_replay(delivery=get_object_or_404(WebhookDelivery, pk=request.POST["replay"]), actor=request.user)
            messages.success(request, _("The delivery will be sent again within a minute."))
            return redirect("backoffice:webhooks")
        if not request.user.has_perm("webhooks.add_webhookendpoint"):
            raise PermissionDenied
        try:
            endpoint_create(
                name=request.POST.get("name", ""),
                url=request.POST.get("url", ""),
                events=request.POST.getlist("events"),
                actor=request.user,
            )
        except RefillError as exc:
            error = str(exc)
        else:
            return redirect("backoffice:webhooks")
    deliveries = list(WebhookDelivery.objects.select_related("endpoint", "event").prefetch_related("log")[:100])
    for delivery in deliveries:
        for attempt in delivery.log.all():
            # Stored in one language (the reasons are generic on purpose); shown in the reader's.
            attempt.outcome = attempt.status_code or REASONS.get(attempt.error, attempt.error)
    response = render(
        request,
        "backoffice/webhooks.html",
        {
            "endpoints": WebhookEndpoint.objects.all(),
            "deliveries": deliveries,
            "events": EVENTS,
            "error": error,
            "can_delete": request.user.has_perm("webhooks.delete_webhookendpoint"),
            "form": request.POST if error else {},
        },
        status=400 if error else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_perm("webhooks.delete_webhookendpoint")
def webhook_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm (what goes with it: pending deliveries are not sent); POST deletes."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, _("The endpoint %(name)s was deleted.") % {"name": endpoint.name})
        return redirect("backoffice:webhooks")
    pending = endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).count()
    response = render(request, "backoffice/webhook_delete.html", {"endpoint": endpoint, "pending": pending})
    response["Cache-Control"] = "no-store"
    return response
