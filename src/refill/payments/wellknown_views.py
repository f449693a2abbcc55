"""Files a payment provider asks the site to serve at a well-known address."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# Apple's own files are small; anything larger is not one (a wrong path in the setting).
MAX_ASSOCIATION_BYTES = 64 * 1024


@require_GET
@cache_control(public=True, max_age=3600)
def apple_pay_domain_association(request: HttpRequest) -> HttpResponse:
    """Apple Pay on the web: Apple checks that this site belongs to the merchant by fetching the
    file the payment provider's dashboard gave for the domain (Stripe: Settings → Payment methods →
    Apple Pay → Add domain). The operator puts it on disk and names it in
    ``REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE``; without one the address is 404."""
    configured = settings.REFILL_APPLE_PAY_DOMAIN_ASSOCIATION_FILE
    if not configured:
        raise Http404
    path = Path(configured)
    try:
        if not path.is_file() or path.stat().st_size > MAX_ASSOCIATION_BYTES:
            raise Http404
        body = path.read_bytes()
    except OSError:
        raise Http404 from None
    return HttpResponse(body, content_type="text/plain")
