"""Signup does not tell, by how long it takes, whether an address or number is registered (issue 24
item 2). A taken address used to answer in about a tenth of the time of a new one: no password
hashed, no account written.

Measured with the production password hasher (argon2; the test settings' MD5 would hide the
difference), over many tries of each kind, interleaved in a seeded random order so that a load
spike on a busy machine falls on both kinds alike, and compared as distributions: the medians
within 20 % of each other, and neither kind faster in more than 80 % of all (taken, new) pairs
(the Mann-Whitney U statistic over n*n; 50 % when the two are alike; 0 % before the fix)."""

import random
import statistics
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from refill.customers.models import Customer, User
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"
TRIES = 30
PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def share_faster(first: list[float], second: list[float]) -> float:
    """The share of all (a, b) pairs with a < b (ties count half): Mann-Whitney's U / (n1 * n2)."""
    u = sum(1.0 if a < b else 0.5 if a == b else 0.0 for a in first for b in second)
    return u / (len(first) * len(second))


def measure(field: str, taken: str, new_value) -> dict[str, list[float]]:
    rng = random.Random(24)
    times: dict[str, list[float]] = {"taken": [], "new": []}
    kinds = ["taken", "new"] * (TRIES + 2)
    for index in range(0, len(kinds), 2):
        pair = kinds[index : index + 2]
        rng.shuffle(pair)  # which of the two goes first changes from pair to pair
        for kind in pair:
            value = taken if kind == "taken" else new_value(index)
            data = {"email": "", "phone": "", "password1": PASSWORD, "password2": PASSWORD, field: value}
            client = Client()
            started = time.perf_counter()
            answer = client.post(reverse("account_signup"), data)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 302, answer.content[:500]
            times[kind].append(elapsed)
    # The first pair warms caches (templates, argon2's first call): not counted.
    return {kind: values[2:] for kind, values in times.items()}


def assert_alike(times: dict[str, list[float]]) -> None:
    taken, new = statistics.median(times["taken"]), statistics.median(times["new"])
    share = share_faster(times["taken"], times["new"])
    summary = f"median taken {taken * 1000:.0f} ms, new {new * 1000:.0f} ms; taken faster in {share:.0%} of pairs"
    print(summary)  # shown with -s, and on failure
    assert abs(taken - new) <= 0.2 * max(taken, new), summary
    assert 0.2 <= share <= 0.8, summary


@pytest.fixture
def production_hashing(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    settings.ACCOUNT_RATE_LIMITS = False  # sixty signups from one address, on purpose


def test_a_taken_address_answers_as_slowly_as_a_new_one(production_hashing):
    make_customer("taken@example.com", password=PASSWORD)
    times = measure("email", "taken@example.com", lambda index: f"new-{index}@example.com")
    assert_alike(times)
    # and both answered alike: "check your email", one message each
    assert User.objects.filter(email__startswith="new-").count() == TRIES + 2
    assert User.objects.count() == TRIES + 3 and Customer.objects.count() == TRIES + 3  # nothing else kept
    assert len(mail.outbox) == 2 * (TRIES + 2)
    assert sum(message.to == ["taken@example.com"] for message in mail.outbox) == TRIES + 2  # the owner is told


def test_a_taken_mobile_number_answers_as_slowly_as_a_new_one(production_hashing, _sms_outbox):
    customer, user = make_customer("phone-owner@example.com", password=PASSWORD)
    user.phone = "+12025550100"
    user.save(update_fields=["phone"])
    times = measure("phone", "+12025550100", lambda index: f"+1202555{1000 + index:04d}")
    assert_alike(times)
    assert User.objects.count() == TRIES + 3 and Customer.objects.count() == TRIES + 3  # nothing else kept
    assert len(_sms_outbox) == 2 * (TRIES + 2)
