"""Incoming provider webhooks: verified by the adapter, stored once, processed by a task."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from refill.integrations.payments.base import Capability, WebhookInvalid

from .gateways import gateway_for
from .services import provider_event_record


@csrf_exempt  # providers cannot send our CSRF token; the signature authenticates them instead
@require_POST
def provider_webhook(request: HttpRequest, gateway_name: str) -> HttpResponse:
    try:
        gateway = gateway_for(gateway_name)
    except LookupError:
        return JsonResponse({"error": "unknown gateway"}, status=404)
    if Capability.WEBHOOKS not in gateway.capabilities:
        return JsonResponse({"error": "this gateway sends no webhooks"}, status=404)
    if len(request.body) > 256 * 1024:
        return JsonResponse({"error": "too large"}, status=413)
    try:
        event = gateway.parse_webhook(request.body, dict(request.headers))
    except WebhookInvalid as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    stored, created = provider_event_record(gateway_name=gateway.name, event=event)
    return JsonResponse({"received": True, "duplicate": not created})
