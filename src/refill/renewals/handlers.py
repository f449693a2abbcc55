"""The checkout's handlers of domain events (subscribed in RenewalsConfig.ready()).

``payment.settled``: a payment provider told Refill how a card attempt ended (its webhook, in
``payments``); the checkout settles the attempt and fulfils the order, as when the answer comes on
the call itself. A payment does not import the checkout: this is how its answer reaches it."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from refill.events.models import Event

# Through the module, not the name: tests stand in for payment_complete there.
from refill.orders import settling
from refill.payments.models import Payment
from refill.payments.port import ChargeResult, ChargeStatus, DeclineCode


def on_payment_settled(events: list[Event]) -> None:
    payments = Payment.objects.select_related("order").in_bulk([event.payload["payment_id"] for event in events])
    actors = get_user_model().objects.in_bulk(
        [event.payload["actor_id"] for event in events if event.payload.get("actor_id")]
    )
    for event in events:
        payment = payments.get(event.payload["payment_id"])
        if payment is None:
            continue  # deleted with its order meanwhile: nothing left to settle
        succeeded = event.payload["status"] == Payment.Status.SUCCEEDED
        result = ChargeResult(
            ChargeStatus.SUCCEEDED if succeeded else ChargeStatus.FAILED,
            provider_reference=event.payload["provider_reference"],
            decline_code=None if succeeded else DeclineCode(event.payload["decline_code"]),
        )
        # Idempotent: an attempt already settled is left as it is (a repeated or late answer).
        settling.payment_complete(payment=payment, result=result, actor=actors.get(event.payload.get("actor_id")))
