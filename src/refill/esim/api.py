"""API v1: a line's eSIM, for its owner or a key with ``esim`` (docs/api.md, "A line's eSIM")."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from refill.api.auth import CUSTOMERS_AND_KEYS
from refill.api.owned import line_for
from refill.api.problems import Problem
from refill.domain.activation import qr_png
from refill.lines.models import Line
from refill.orders.errors import NotOwner

from .services import esim_reissue, esim_view

router = Router()


class EsimOut(Schema):
    status: str  # none, ordering, released, downloaded, installed, failed
    profile_state: str | None
    activation_code: str | None  # only while it can be installed
    ios_install_link: str | None
    qr_png_url: str | None
    downloads_left: int | None


def _esim_line_for(request: HttpRequest, msisdn: str) -> Line:
    line = line_for(request, msisdn, "esim")
    if line.sim_type != Line.SimType.ESIM:
        raise NotOwner()
    return line


def _esim_out(request: HttpRequest, line) -> dict:
    view = esim_view(line)
    code = view.code
    return {
        "status": view.order.status if view.order else "none",
        "profile_state": view.profile.smdp_state if view.profile else None,
        "activation_code": str(code) if code else None,
        "ios_install_link": code.ios_install_link if code else None,
        "qr_png_url": request.build_absolute_uri(f"/api/v1/lines/{line.msisdn}/esim/qr.png") if code else None,
        "downloads_left": view.downloads_left,
    }


@router.get(
    "/lines/{msisdn}/esim",
    response={200: EsimOut, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="A line's eSIM: install status, and the activation code while it can be installed",
)
def esim_get(request: HttpRequest, msisdn: str):
    return _esim_out(request, _esim_line_for(request, msisdn))


@router.get(
    "/lines/{msisdn}/esim/qr.png",
    response={200: None, 403: Problem, 404: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="The activation code as a QR code (PNG)",
)
def esim_qr(request: HttpRequest, msisdn: str):
    code = esim_view(_esim_line_for(request, msisdn)).code
    if code is None:
        raise NotOwner()
    response = HttpResponse(qr_png(code), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/lines/{msisdn}/esim/reissue",
    response={201: EsimOut, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 503: Problem},
    auth=CUSTOMERS_AND_KEYS,
    summary="A new activation code for a new phone (the old one stops working)",
)
def esim_reissue_api(request: HttpRequest, msisdn: str):
    line = _esim_line_for(request, msisdn)
    actor = request.user if request.user.is_authenticated else getattr(request, "api_key", None)
    esim_reissue(line=line, actor=actor)
    return Status(201, _esim_out(request, line))
