import zoneinfo

from django.utils import timezone, translation


class CustomerLanguageMiddleware:
    """A signed-in customer's saved language and time zone win over the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        customer = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
        if customer is not None:
            translation.activate(customer.preferred_language)
            request.LANGUAGE_CODE = customer.preferred_language
            try:
                timezone.activate(zoneinfo.ZoneInfo(customer.time_zone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        else:
            timezone.deactivate()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
