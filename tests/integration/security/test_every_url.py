"""Every URL of the project has a written permission decision, and the decisions made here hold.

The back office, agent desk, fleet and /api/v1/ areas have their own matrix tests, whose tables are
imported here; every other URL is named in ACCESS below with who may reach it. A URL that is in
neither fails `test_every_url_has_a_permission_decision`: add it to its area's matrix or to ACCESS
(and this file tests the rule you wrote down)."""

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from refill.api.v1 import api
from refill.orders.refunds import order_refund
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew
from tests.integration.agentdesk.test_role_matrix import TABLE as AGENTDESK_TABLE
from tests.integration.api.test_authorization_matrix import ROWS as API_ROWS
from tests.integration.backoffice.test_role_matrix import TABLE as BACKOFFICE_TABLE
from tests.integration.fleets.test_role_matrix import TABLE as FLEETS_TABLE
from tests.integration.help.test_role_matrix import MATRICES as HELP_MATRICES
from tests.integration.support.test_role_matrix import TABLE as SUPPORT_TABLE

pytestmark = pytest.mark.django_db

# Namespaces whose every URL is decided, and tested with every role, by a matrix test elsewhere.
MATRICES = {
    "backoffice": set(BACKOFFICE_TABLE),  # tests/integration/backoffice/test_role_matrix.py
    "agentdesk": set(AGENTDESK_TABLE),  # tests/integration/agentdesk/test_role_matrix.py
    "fleets": set(FLEETS_TABLE),  # tests/integration/fleets/test_role_matrix.py
    **HELP_MATRICES,  # help, help_admin: tests/integration/help/test_role_matrix.py
    # support, support_admin: tests/integration/support/test_role_matrix.py
    **{
        namespace: {name.partition(":")[2] for name in SUPPORT_TABLE if name.startswith(f"{namespace}:")}
        for namespace in ("support", "support_admin")
    },
}
# The Django admin: staff only, and only after their second factor (StaffTwoFactorMiddleware);
# every admin URL is tested below for anonymous and customer callers.
ADMIN_NAMESPACE = "admin"
API_NAMESPACE = "api-v1"


@dataclass(frozen=True)
class Access:
    who: str
    # PUBLIC: anyone; CUSTOMER: a logged-in customer, nobody else's objects (404); ACCOUNT: any
    # logged-in user (allauth's own pages); APP: the app's headless session (allauth); SECRET: only
    # the caller holding a shared secret or signature; SANDBOX: only while the sandbox gateway is on.
    args: str | None = None  # "line", "order" or "credit_note": the owner's object the URL takes
    method: str = "get"
    note: str = ""
    owner_answers: tuple[int, ...] = (200, 302)  # what the owner may get (CUSTOMER rows)


PUBLIC, CUSTOMER, ACCOUNT, APP, SECRET, SANDBOX = "public", "customer", "account", "app", "secret", "sandbox"

ACCESS: dict[str, Access] = {
    # operations
    "healthz": Access(PUBLIC, note="status only, no data; 503 while the worker is down"),
    "readyz": Access(PUBLIC, note="status only, no data; 503 while not ready"),
    # payments and eSIM callbacks from providers
    "sandbox_confirm": Access(SANDBOX, note="404 unless REFILL_PAYMENT_GATEWAY=sandbox"),
    "provider_webhook": Access(SECRET, method="post", note="provider signature checked"),
    "apple_pay_domain_association": Access(PUBLIC, note="Apple's domain check; 404 until the operator sets the file"),
    "esim_download_progress": Access(SECRET, method="post", note="SM-DP+ bearer token checked"),
    # /api/v1/ beyond its operations (which the API matrix covers)
    f"{API_NAMESPACE}:openapi-json": Access(PUBLIC, note="the published API description"),
    f"{API_NAMESPACE}:openapi-view": Access(PUBLIC, note="the published API description"),
    f"{API_NAMESPACE}:api-root": Access(PUBLIC, note="ninja's root, 404"),
    # the customer portal: every object is looked up through its owner (refill.portal.views._owned_*)
    "portal:landing": Access(PUBLIC),
    "portal:home": Access(CUSTOMER),
    "portal:renew": Access(CUSTOMER, "line"),
    "portal:renew_quote": Access(CUSTOMER, "line"),
    "portal:addons": Access(CUSTOMER, "line"),
    "portal:addon_quote": Access(CUSTOMER, "line"),
    "portal:auto_renew": Access(CUSTOMER, "line", method="post"),
    "portal:line_new": Access(CUSTOMER),
    "portal:esim": Access(CUSTOMER, "line"),
    "portal:esim_status": Access(CUSTOMER, "line"),
    # No eSIM profile on the test line: the owner's QR is not found either (the API matrix tests
    # the same ownership rule with a real profile).
    "portal:esim_qr": Access(CUSTOMER, "line", owner_answers=(404,)),
    "portal:esim_reinstall": Access(CUSTOMER, "line", method="post"),
    "portal:esim_refund": Access(CUSTOMER, "line", method="post"),
    "portal:orders": Access(CUSTOMER),
    "portal:order_detail": Access(CUSTOMER, "order"),
    "portal:order_confirmation": Access(CUSTOMER, "order"),
    "portal:order_receipt_pdf": Access(CUSTOMER, "order"),
    "portal:order_credit_note_pdf": Access(CUSTOMER, "credit_note"),
    "portal:payment_return": Access(CUSTOMER, "order"),
    "portal:payment_status": Access(CUSTOMER, "order"),
    "portal:payment_cancel": Access(CUSTOMER, "order", method="post"),
    "portal:gift_return": Access(PUBLIC, note="a guest's payment return; the unguessable token is the key"),
    "portal:gift_payment_status": Access(PUBLIC, note="a guest's QR payment followed; the token is the key"),
    "portal:gift_payment_cancel": Access(
        PUBLIC, method="post", note="a guest gives up a QR payment; the token is the key"
    ),
    # Refill any number, no account (refill.portal.refill_views): the API gift refill's checks and limits
    "portal:refill_start": Access(PUBLIC),
    "portal:refill_to": Access(PUBLIC, note="a number's plans, as the number page shows them"),
    "portal:refill_pay": Access(PUBLIC, method="post", note="guest limits per address and number"),
    "portal:refill_pay_label": Access(PUBLIC, note="the Pay button's words for a number's choice"),
    "portal:refill_again": Access(PUBLIC, note="a guest's own order by its signed token, as gift_return"),
    "portal:wallet": Access(CUSTOMER),
    "portal:payment_methods": Access(CUSTOMER),
    "portal:redeem": Access(CUSTOMER),
    "portal:preferences": Access(CUSTOMER),
    "portal:privacy": Access(CUSTOMER),
    "portal:privacy_export": Access(CUSTOMER, method="post", note="only the customer's own data"),
    "portal:privacy_erase": Access(CUSTOMER, method="post", note="asks for the password"),
    "portal:set_language": Access(PUBLIC, method="post"),
    # allauth's pages (web)
    "account_login": Access(PUBLIC),
    "admin_login_to_refill": Access(PUBLIC, note="/admin/login/ redirects to account_login (staff use its code step)"),
    "account_logout": Access(PUBLIC, note="logs out on POST only"),
    "account_inactive": Access(PUBLIC),
    "account_signup": Access(PUBLIC),
    "account_email_verification_sent": Access(PUBLIC),
    "account_confirm_email": Access(PUBLIC, note="the emailed key is the credential"),
    "account_reset_password": Access(PUBLIC),
    "account_reset_password_done": Access(PUBLIC),
    "account_reset_password_from_key": Access(PUBLIC, note="single-use, 1 h key (test_authentication)"),
    "account_reset_password_from_key_done": Access(PUBLIC),
    "account_request_login_code": Access(PUBLIC, note="rate limited (test_authentication)"),
    "account_confirm_login_code": Access(PUBLIC, note="only with a pending login in the session"),
    "account_verify_phone": Access(PUBLIC, note="only with a pending verification in the session"),
    "mfa_authenticate": Access(PUBLIC, note="only with a pending login in the session"),
    "account_reauthenticate": Access(ACCOUNT),
    "account_email": Access(ACCOUNT),
    "account_change_password": Access(ACCOUNT),
    "account_set_password": Access(ACCOUNT),
    "account_change_phone": Access(ACCOUNT),
    "mfa_index": Access(ACCOUNT),
    "mfa_reauthenticate": Access(ACCOUNT),
    "mfa_activate_totp": Access(ACCOUNT),
    "mfa_deactivate_totp": Access(ACCOUNT),
    "mfa_view_recovery_codes": Access(ACCOUNT),
    "mfa_generate_recovery_codes": Access(ACCOUNT),
    "mfa_download_recovery_codes": Access(ACCOUNT),
    # allauth headless, for the mobile app (X-Session-Token)
    "headless:app:config": Access(PUBLIC),
    "headless:app:account:login": Access(PUBLIC, method="post"),
    "headless:app:account:signup": Access(PUBLIC, method="post", note="shadowed by app_signup_closed"),
    "app_signup_closed": Access(PUBLIC, method="post", note="403 for everyone: customers register on the web"),
    "headless:app:account:request_login_code": Access(PUBLIC, method="post"),
    "headless:app:account:confirm_login_code": Access(PUBLIC, method="post"),
    "headless:app:account:request_password_reset": Access(PUBLIC, method="post"),
    "headless:app:account:reset_password": Access(PUBLIC, method="post"),
    "headless:app:account:verify_email": Access(PUBLIC, method="post"),
    "headless:app:account:resend_email_verification_code": Access(PUBLIC, method="post"),
    "headless:app:account:verify_phone": Access(PUBLIC, method="post"),
    "headless:app:account:resend_phone_verification_code": Access(PUBLIC, method="post"),
    "headless:app:account:resend_login_code": Access(PUBLIC, method="post"),
    "headless:app:mfa:authenticate": Access(PUBLIC, method="post", note="only with a pending login"),
    "headless:app:tokens:refresh": Access(PUBLIC, method="post", note="the refresh token is the credential"),
    "headless:app:account:current_session": Access(APP),
    "headless:app:account:reauthenticate": Access(APP, method="post"),
    "headless:app:account:change_password": Access(APP, method="post"),
    "headless:app:account:manage_email": Access(APP),
    "headless:app:account:manage_phone": Access(APP),
    "headless:app:mfa:reauthenticate": Access(APP, method="post"),
    "headless:app:mfa:authenticators": Access(APP),
    "headless:app:mfa:manage_totp": Access(APP),
    "headless:app:mfa:manage_recovery_codes": Access(APP),
}


def _walk(resolver: URLResolver, namespace: str | None = None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n) if pattern.namespace else namespace
            yield from _walk(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern


def every_url() -> dict[str, URLPattern]:
    urls = {}
    for name, pattern in _walk(get_resolver()):
        if name.endswith(":None") and name.startswith(f"{ADMIN_NAMESPACE}:"):
            name = f"{ADMIN_NAMESPACE}:{pattern.pattern}"  # the admin's own unnamed redirects
        assert name and not name.endswith(":None"), f"unnamed URL pattern {pattern.pattern}: name it"
        urls.setdefault(name, pattern)
    return urls


def _api_schema_paths() -> set[str]:
    return set(api.get_openapi_schema(path_prefix="/api/v1/")["paths"])


def _as_schema_path(pattern: URLPattern) -> str:
    return "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))


def test_every_url_has_a_permission_decision():
    schema_paths = _api_schema_paths()
    undecided = []
    for name, pattern in sorted(every_url().items()):
        namespace, _, short = name.rpartition(":")
        if name.startswith(f"{ADMIN_NAMESPACE}:"):
            decided = True
        elif namespace in MATRICES:
            decided = short in MATRICES[namespace]
        elif namespace == API_NAMESPACE and _as_schema_path(pattern) in schema_paths:
            decided = True  # an operation of the schema: the API matrix has a row for each
        else:
            decided = name in ACCESS
        if not decided:
            undecided.append(name)
    assert undecided == [], "URLs without a permission decision (see this file's docstring)"


def test_the_api_matrix_has_a_row_for_every_operation():
    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    from_schema = {(method, path) for path, methods in schema["paths"].items() for method in methods}
    assert from_schema == set(API_ROWS)


def test_access_names_only_urls_that_exist():
    assert set(ACCESS) - set(every_url()) == set()


# --- the rules written above, tested ------------------------------------------------------------


@pytest.fixture
def world():
    market = make_market()
    plan = make_plan(market, "us-30day")
    owner, owner_user = make_customer("owner@example.com")
    line = make_line(owner, market, plan)
    order, _ = renew(line, plan)
    refund = order_refund(
        order=order, amount="1.00", destination="wallet", idempotency_key="every-url", reason_code="customer_request"
    )
    _stranger, stranger_user = make_customer("stranger@example.com")
    args = {"line": [line.pk], "order": [order.pk], "credit_note": [order.pk, refund.credit_note.pk]}
    return {"args": args, "owner": owner_user, "stranger": stranger_user}


def _call(client: Client, name: str, args=None, **extra):
    rule = ACCESS[name]
    return getattr(client, rule.method)(reverse(name, args=args), **extra)


def _goes_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", sorted(n for n, a in ACCESS.items() if a.who == CUSTOMER))
def test_customer_pages_send_anonymous_callers_to_login_and_hide_other_customers_objects(world, name):
    rule = ACCESS[name]
    args = world["args"][rule.args] if rule.args else None
    assert _goes_to_login(_call(Client(), name, args))

    stranger = Client()
    login(stranger, world["stranger"])
    answer = _call(stranger, name, args)
    if rule.args:
        assert answer.status_code == 404, "another customer's object must not be found"

    owner = Client()
    login(owner, world["owner"])
    answer = _call(owner, name, args)
    # The owner is let in: the page, or a redirect somewhere that is not the login page.
    assert answer.status_code in rule.owner_answers and not _goes_to_login(answer), (
        answer.status_code,
        answer.get("Location"),
    )


@pytest.mark.parametrize("name", sorted(n for n, a in ACCESS.items() if a.who == ACCOUNT))
def test_account_pages_need_a_login(name):
    assert _goes_to_login(_call(Client(), name))


@pytest.mark.parametrize("name", sorted(n for n, a in ACCESS.items() if a.who == APP))
def test_app_account_endpoints_need_an_app_session(name):
    answer = _call(Client(), name, content_type="application/json")
    assert answer.status_code == 401


@pytest.mark.parametrize("name", sorted(n for n, a in ACCESS.items() if a.who == PUBLIC and a.method == "get"))
def test_public_pages_answer_anonymous_callers_without_a_server_error(name):
    rule = ACCESS[name]
    if name in ("portal:gift_return", "portal:refill_again", "portal:gift_payment_status"):
        answer = Client().get(reverse(name, args=["not-a-real-token"]))
        assert answer.status_code == 404
        return
    if name == "portal:refill_to":
        answer = Client().get(reverse(name, args=["+12025550100"]))
        assert answer.status_code == 404  # an unknown number: the number page says so
        return
    if name == "account_confirm_email":
        answer = Client().get(reverse(name, args=["not-a-real-key"]))
    elif name == "account_reset_password_from_key":
        answer = Client().get(reverse(name, kwargs={"uidb36": "zz", "key": "not-a-real-key"}))
        assert answer.context["token_fail"] is True
    else:
        answer = _call(Client(), name)
    assert answer.status_code < 500 or (name in ("healthz", "readyz") and answer.status_code == 503), rule


def test_the_sandbox_confirm_page_is_gone_without_the_sandbox(settings, world):
    settings.REFILL_PAYMENT_GATEWAY = "stripe"
    assert Client().get(reverse("sandbox_confirm", args=["anything"])).status_code == 404


def test_provider_callbacks_refuse_callers_without_the_secret():
    webhook = Client().post(
        reverse("provider_webhook", args=["sandbox"]), b'{"type": "charge.succeeded"}', content_type="application/json"
    )
    assert webhook.status_code in (400, 401, 403)
    esim = Client().post(reverse("esim_download_progress"), b"{}", content_type="application/json")
    assert esim.status_code in (401, 403)


def _admin_urls_without_arguments() -> list[str]:
    names = []
    for name, pattern in every_url().items():
        if name.startswith(f"{ADMIN_NAMESPACE}:") and not pattern.pattern.regex.groups:
            names.append(name)
    return sorted(names)


def test_the_admin_turns_away_anonymous_callers_and_customers(world):
    customer = Client()
    login(customer, world["owner"])
    admin_login = reverse("admin:login")
    for name in _admin_urls_without_arguments():
        if name in ("admin:login", "admin:logout"):
            continue
        for who, client in (("anonymous", Client()), ("customer", customer)):
            answer = client.get(reverse(name))
            refused = answer.status_code in (302, 403, 404) and (
                answer.status_code != 302
                or answer["Location"].startswith((admin_login, settings.LOGIN_URL, "/accounts/"))
            )
            assert refused, (name, who, answer.status_code, answer.get("Location"))
