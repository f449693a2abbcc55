"""The endpoint the SM-DP+ calls with download progress (ES2+ HandleDownloadProgressInfo)."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from refill.integrations.esim.es2plus import PROTOCOL

from .smdp_notifications import BadNotification, esim_notification

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _failed(http_status: int, subject: str, reason: str, message: str) -> JsonResponse:
    status = {"status": "Failed", "statusCodeData": {"subjectCode": subject, "reasonCode": reason, "message": message}}
    response = JsonResponse({"header": {"functionExecutionStatus": status}}, status=http_status)
    response["X-Admin-Protocol"] = PROTOCOL
    return response


@csrf_exempt  # a machine caller, authenticated by its token (and by mutual TLS at the proxy)
@require_POST
def handle_download_progress_info(request: HttpRequest) -> HttpResponse:
    smdp = settings.REFILL_SMDP
    token = smdp["CALLBACK_TOKEN"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        logger.warning("SM-DP+ notification refused: bad or missing token from %s", request.META.get("REMOTE_ADDR"))
        return _failed(401, "1.1", "1.1", "unknown function requester")
    if not request.headers.get("X-Admin-Protocol", "").startswith("gsma/rsp/v2"):
        return _failed(400, "1.3.2", "3.1", "X-Admin-Protocol must be gsma/rsp/v2.x")
    if len(request.body) > MAX_BODY:
        return _failed(413, "1.3.1", "2.1", "too large")
    try:
        body = json.loads(request.body)
        requester = str(body["header"]["functionRequesterIdentifier"])
    except (ValueError, KeyError, TypeError):
        return _failed(400, "1.3.1", "2.1", "not an ES2+ request")
    if requester != smdp["SMDP_ID"]:
        return _failed(403, "1.1", "1.2", "function requester not allowed")
    try:
        esim_notification(requester=requester, body=body)
    except BadNotification:
        return _failed(400, "1.3.1", "2.2", "a mandatory field is missing or invalid")
    response = HttpResponse(status=204)
    response["X-Admin-Protocol"] = PROTOCOL
    return response
