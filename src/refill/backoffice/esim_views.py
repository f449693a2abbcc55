"""The eSIM profile inventory in the back office: what new lines can still get per profile type
(with a warning at the operator's threshold), paid new lines waiting for a profile, vendor
batches, and importing a new one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from refill.customers.staff import require_perm
from refill.errors import RefillError
from refill.esim.inventory import inventory_import
from refill.esim.models import NewLineWait, Profile, ProfileBatch
from refill.esim.newlines import refund_after
from refill.esim.stock import stock_alert_set, stock_levels

from .forms import ProfileImportForm


def _inventory_context(form: ProfileImportForm, batch=None, threshold_error: str = "") -> dict:
    stock = (
        Profile.objects.values("profile_type", "smdp_state")
        .annotate(count=Count("pk"))
        .order_by("profile_type", "smdp_state")
    )
    levels = stock_levels()
    waiting = list(
        NewLineWait.objects.filter(status=NewLineWait.Status.WAITING).select_related("line", "line__owner")[:200]
    )
    after = refund_after()
    for wait in waiting:
        wait.refund_from = wait.since + after
    return {
        "form": form,
        "batch": batch,
        "batches": ProfileBatch.objects.select_related("imported_by")[:50],
        "stock": stock,
        "levels": levels,
        "low": [level for level in levels if level.low],
        "waiting": waiting,
        "threshold_error": threshold_error,
        "assigned": Profile.objects.filter(line__isnull=False).count(),
    }


@require_perm("esim.view_profile")
def esim_inventory_view(request: HttpRequest) -> HttpResponse:
    """eSIM profile stock by type and SM-DP+ state, low-stock warnings, waiting new lines, vendor
    batches, and importing a new one (which delivers to waiting lines at once)."""
    form = ProfileImportForm(None if "low_at" in request.POST else request.POST or None, request.FILES or None)
    batch, threshold_error = None, ""
    if request.method == "POST" and "low_at" in request.POST:
        if not request.user.has_perm("esim.change_stockalert"):
            raise PermissionDenied
        try:
            alert = stock_alert_set(
                profile_type=request.POST.get("profile_type", ""), low_at=request.POST["low_at"], actor=request.user
            )
        except RefillError as exc:
            threshold_error = str(exc)
        else:
            messages.success(
                request,
                _("Profile type %(type)s now warns at %(count)s profiles left.")
                % {"type": alert.profile_type, "count": alert.low_at},
            )
            return redirect("backoffice:esim_inventory")
    elif request.method == "POST":
        if not request.user.has_perm("esim.add_profilebatch"):
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = inventory_import(
                    file_name=upload.name, content=upload.read(), vendor=form.cleaned_data["vendor"], actor=request.user
                )
            except RefillError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request,
                    _("%(imported)s profiles imported, %(known)s already known, %(rejected)s rows rejected.")
                    % {"imported": batch.imported, "known": batch.already_known, "rejected": len(batch.rejected)},
                )
    status = 400 if form.errors or threshold_error else 200
    context = _inventory_context(form, batch, threshold_error)
    return render(request, "backoffice/esim_inventory.html", context, status=status)
