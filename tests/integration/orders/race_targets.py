"""Functions run by racing processes (tests/race.py)."""


def renew_line(*, line_id: int, plan_id: int, key: str, times: int = 1) -> list[str]:
    from refill.catalog.models import Plan
    from refill.lines.models import Line
    from refill.orders.checkout import order_create_renewal
    from refill.orders.paying import order_pay_card
    from tests.factories import card_token

    line = Line.objects.select_related("owner", "market").get(pk=line_id)
    plan = Plan.objects.get(pk=plan_id)
    statuses = []
    for attempt in range(times):
        order = order_create_renewal(
            customer=line.owner, line=line, plan=plan, periods=1, idempotency_key=f"{key}-{attempt}"
        )
        gateway, token = card_token()
        statuses.append(order_pay_card(order=order, token=token, gateway=gateway).status)
    return statuses
