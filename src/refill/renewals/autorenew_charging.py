"""Paying a batch of auto-renewals (step 4): the wallet when it covers the price, then card rounds
(the default saved method, then the backup), charged off session on this worker's threads within
the provider's rate. A job stops at the first payment that succeeded or is still open: a lost
answer is never followed by another charge."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from refill.errors import RefillError
from refill.ledger.models import Account
from refill.ledger.services import account_balances
from refill.orders.paying import CardCharge, charge_request, order_pay_wallet, payments_start, share_of_wallet
from refill.orders.services import receipts_number
from refill.orders.settling import payment_complete, payments_complete
from refill.payments.gateways import gateway_require
from refill.payments.models import Payment, PaymentMethod
from refill.payments.port import Capability, PaymentToken
from refill.payments.services import provider_charge, provider_charge_paced, provider_rate_take

from .autorenew_due import Job
from .models import RenewalAttempt

# The engine's log name, as before it was split: log filters and alerts look for it.
logger = logging.getLogger("refill.renewals.autorenew")

# Card payments recorded at a time per charging thread (see _card_round).
CHARGES_PER_THREAD = 4


def charging_threads() -> int:
    """Provider calls in flight on this worker (REFILL_AUTORENEW_THREADS)."""
    if settings.REFILL_AUTORENEW_THREADS:
        return settings.REFILL_AUTORENEW_THREADS
    # SQLite takes one writer at a time: threads would only queue on its lock.
    return 1 if connection.vendor == "sqlite" else 8


def jobs_pay(jobs: list[Job], now: datetime) -> None:
    """Step 4. The wallet pays when it covers the whole price; otherwise the default, then the
    backup saved method, off session (with the wallet's share first if the customer chose it).
    A job stops at the first payment that succeeded or is still open: a lost answer is never
    followed by another charge."""
    customers = {job.attempt.line.owner_id for job in jobs}
    methods: dict[int, list[PaymentMethod]] = {}
    for method in PaymentMethod.objects.filter(customer_id__in=customers, removed_at__isnull=True).filter(
        Q(is_default=True) | Q(is_backup=True)
    ):
        methods.setdefault(method.customer_id, []).append(method)
    walleted = [job for job in jobs if job.settings.use_wallet]
    balances = _wallet_balances(walleted)
    for job in jobs:
        owned = methods.get(job.attempt.line.owner_id, [])
        if job.settings.use_default_method:
            job.methods += [method for method in owned if method.is_default]
        if job.settings.use_backup_method:
            job.methods += [method for method in owned if method.is_backup and not method.is_default]
        wallet = (job.order.customer_id, job.order.currency)
        if job.order.total == 0 or (job.settings.use_wallet and balances.get(wallet, Decimal(0)) >= job.order.total):
            # (A renewal its promotions made free is settled the same way: nothing to charge.)
            try:
                job.payment, job.done = order_pay_wallet(order=job.order, now=now), True
                balances[wallet] -= job.order.total  # what the customer's next line can use
            except RefillError:
                pass  # spent meanwhile: go on with the cards
    round_jobs = [job for job in jobs if not job.done]
    while round_jobs:
        RenewalAttempt.objects.filter(
            pk__in=[job.attempt.pk for job in round_jobs], status=RenewalAttempt.Status.RUNNING
        ).update(started_at=timezone.now())  # still alive: not for autorenew_settle_stuck yet
        round_jobs = _card_round([job for job in round_jobs if job.methods], balances, now)
    receipts_number()


def _wallet_balances(jobs: list[Job]) -> dict[tuple[int, str], Decimal]:
    """Each (customer, currency) wallet's balance, kept up to date by the batch as it spends."""
    if not jobs:
        return {}
    accounts = Account.objects.filter(
        purpose=Account.Purpose.WALLET,
        customer_id__in={job.order.customer_id for job in jobs},
        currency__in={job.order.currency for job in jobs},
        reference="",
    )
    return {(account.customer_id, account.currency): balance for account, balance in account_balances(accounts).items()}


def _card_round(jobs: list[Job], balances: dict[tuple[int, str], Decimal], now: datetime) -> list[Job]:
    """Charge each job's next method; returns the jobs to try again with their following one."""
    if not jobs:
        return []
    charges, using, gateways, again, shares = [], {}, {}, [], {}
    for job in jobs:
        method = job.methods.pop(0)
        try:
            # Looked up before anything is recorded: a method whose provider is not configured, or
            # cannot charge with nobody present, is passed over, never left with a payment that
            # cannot be sent.
            gateways[method.gateway] = gateways.get(method.gateway) or gateway_require(
                Capability.OFF_SESSION, method.gateway
            )
        except Exception:
            logger.exception("auto-renew of order %s: gateway %r unavailable", job.order.pk, method.gateway)
            job.refusal = "gateway_unavailable"
            again.append(job)
            continue
        using[job.order.pk] = (job, method)
        token = PaymentToken(method.token, method.brand, method.last4, method.exp_month or 0, method.exp_year or 0)
        share = Decimal(0)
        wallet = (job.order.customer_id, job.order.currency)
        if job.settings.use_wallet:
            share = share_of_wallet(balances.get(wallet, Decimal(0)), job.order)
            balances[wallet] = balances.get(wallet, Decimal(0)) - share  # held for this order
            shares[job.order.pk] = share
        charges.append(CardCharge(order=job.order, token=token, gateway=method.gateway, wallet_amount=share))
    # Recorded a few threads' worth at a time, each part just before its calls: a worker killed
    # mid-batch leaves few recorded-but-unsent charges (each fails as never sent, and is retried).
    # Charged ones are settled together below; one left unsettled by a kill is found charged by
    # reconciliation.
    size = charging_threads() * CHARGES_PER_THREAD
    results = []
    for start in range(0, len(charges), size):
        answers = payments_start(charges=charges[start : start + size], now=now)
        calls = []
        for order_id, answer in answers.items():
            job, method = using[order_id]
            if answer is None:
                job.done = True  # already paid (or charged): settled below from the order
            elif isinstance(answer, RefillError):
                logger.info("auto-renew of order %s with method %s refused: %s", order_id, method.pk, answer.code)
                job.refusal = answer.code
                again.append(job)
            else:
                job.payment = answer
                request = charge_request(
                    answer, method.token, customer_reference=method.provider_customer, off_session=True
                )
                calls.append((gateways[method.gateway], answer, request))
        results += _charge_all(calls)
    try:
        settled = payments_complete(results=results, now=now)
    except Exception:
        # One bad answer must not keep the others from being recorded: settle them one by one
        # (each is idempotent; one that fails again is left for reconciliation).
        logger.exception("auto-renew: settling %s answers together failed; settling them one by one", len(results))
        settled = []
        for payment, result in results:
            try:
                settled.append(payment_complete(payment=payment, result=result, now=now))
            except Exception:
                logger.exception("payment %s: could not be settled; reconciliation will", payment.pk)
                using[payment.order_id][0].done = True  # open: never charged again
    for payment in settled:
        job, _ = using[payment.order_id]
        job.payment = payment
        if payment.status == Payment.Status.FAILED:
            again.append(job)
        else:
            job.done = True
    for job in again:
        # Refused (nothing held) or declined (the hold given back): the next method may use it.
        wallet = (job.order.customer_id, job.order.currency)
        balances[wallet] = balances.get(wallet, Decimal(0)) + shares.get(job.order.pk, Decimal(0))
    return again


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _charge_all(calls: list) -> list:
    """Call the provider for each (gateway, payment, request) within the provider's rate, with up
    to REFILL_AUTORENEW_THREADS calls in flight on this worker's threads. This thread takes each
    call's share of the rate before handing it to the pool, so the calls start evenly and no
    thread waits on another. Answers (payment, result) in order."""
    global _pool
    threads = min(charging_threads(), len(calls))
    if threads <= 1:
        return [(payment, provider_charge_paced(gateway, payment, request)) for gateway, payment, request in calls]
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=charging_threads(), thread_name_prefix="autorenew-charge")
    futures = []
    for gateway, payment, request in calls:
        provider_rate_take(gateway.name)
        futures.append(_pool.submit(_pooled_charge, gateway, payment, request))
    return [(payment, future.result()) for (_, payment, _), future in zip(calls, futures, strict=True)]


_checked = threading.local()


def _pooled_charge(gateway, payment, request):
    """provider_charge on a pool thread, whose database connection lives as long as the process:
    checked (and replaced if broken or too old) as a request's would be, after an error or at
    most every 30 seconds (a check costs a round trip)."""
    if connection.errors_occurred or time.monotonic() - getattr(_checked, "at", 0.0) > 30:
        close_old_connections()
        _checked.at = time.monotonic()
    return provider_charge(gateway, payment, request)
