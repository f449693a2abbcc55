"""Functions run by racing processes (tests/race.py)."""


def redeem(*, pin: str, customer_id: int, ip: str) -> str:
    from refill.customers.models import Customer
    from refill.vouchers.services import voucher_redeem

    return voucher_redeem(pin=pin, customer=Customer.objects.get(pk=customer_id), ip=ip).state


def pay_from_wallet(*, line_id: int, plan_id: int, key: str) -> str:
    from refill.catalog.models import Plan
    from refill.lines.models import Line
    from refill.orders.checkout import order_create_renewal
    from refill.orders.paying import order_pay_wallet

    line = Line.objects.select_related("owner", "market").get(pk=line_id)
    order = order_create_renewal(
        customer=line.owner, line=line, plan=Plan.objects.get(pk=plan_id), periods=1, idempotency_key=key
    )
    return order_pay_wallet(order=order).status
