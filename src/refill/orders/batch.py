"""What the checkout's batch work shares: locks taken in primary-key order that refresh the
objects passed from step to step, an order's items read once, and request fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from refill.orders.models import Order, OrderItem


def lock_fresh(model, objs: list, fields: tuple[str, ...]) -> dict[int, Any]:
    """Lock the rows of ``objs`` (primary-key order, the one lock order used everywhere) and bring
    the objects' ``fields`` up to date from the locked rows, without building new objects: batch
    work passes the same objects from step to step. Returns the objects by primary key (rows
    gone from the table are left out)."""
    by_pk: dict[int, list] = {}
    for obj in objs:
        by_pk.setdefault(obj.pk, []).append(obj)
    fresh = {}
    rows = model.objects.select_for_update().filter(pk__in=sorted(by_pk)).order_by("pk").values_list("pk", *fields)
    for pk, *values in rows:
        for obj in by_pk[pk]:
            for name, value in zip(fields, values, strict=True):
                if name.endswith("_id") and getattr(obj, name) != value:
                    obj._state.fields_cache.pop(name.removesuffix("_id"), None)
                setattr(obj, name, value)
        fresh[pk] = by_pk[pk][0]
    return fresh


LINE_STATE = ("status", "status_changed_at", "period_end", "anchor_day", "plan_id", "next_plan_id", "owner_id")


ORDER_STATE = ("status", "paid_at")


PAYMENT_STATE = ("status", "provider_reference", "action_url", "decline_code", "completed_at")


def items_of(orders: list[Order]) -> dict[int, list[OrderItem]]:
    """Each order's items with their plans and prices (items never change once written: an order
    made in this batch carries its own, the others are read in one query)."""
    missing = [order.pk for order in orders if not hasattr(order, "_batch_items")]
    if missing:
        found: dict[int, list[OrderItem]] = {pk: [] for pk in missing}
        for item in OrderItem.objects.filter(order_id__in=missing).select_related("plan", "plan_price").order_by("pk"):
            found[item.order_id].append(item)
        for order in orders:
            if order.pk in found:
                order._batch_items = found[order.pk]
    return {order.pk: order._batch_items for order in orders}


def payload_fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
