"""Account endpoints of our own beside allauth's."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def app_signup_closed(request: HttpRequest, client: str) -> JsonResponse:
    """The app's headless API does not register customers: its signup would say whether an address
    is taken before anything else (allauth checks the input first), which the web's signup never
    does. The app opens the web's signup page instead. Answered the same whatever is sent."""
    return JsonResponse(
        {
            "status": 403,
            "errors": [
                {"code": "signup_on_web", "message": _("Create your account on the website, then log in here.")}
            ],
        },
        status=403,
    )
