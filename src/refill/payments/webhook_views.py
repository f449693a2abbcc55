"""Incoming provider webhooks: verified by the adapter, stored once, processed by a task."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from refill.integrations.payments.base import WebhookInvalid, get_gateway

from .services import provider_event_record


@csrf_exempt  # providers cannot send our CSRF token; the signature authenticates them instead
@require_POST
def provider_webhook(request: HttpRequest, gateway_name: str) -> HttpResponse:
    try:
        gateway = get_gateway(gateway_name)
    except LookupError:
        return JsonResponse({"error": "unknown gateway"}, status=404)
    if len(request.body) > 256 * 1024:
        return JsonResponse({"error": "too large"}, status=413)
    try:
        event = gateway.parse_webhook(request.body, dict(request.headers))
    except WebhookInvalid as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    stored, created = provider_event_record(gateway_name=gateway.name, event=event)
    return JsonResponse({"received": True, "duplicate": not created})
