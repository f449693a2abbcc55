"""Partner and network API keys: created and revoked in the back office, stored hashed, shown
once, and checked with their scopes; GET /api/v1/plans as the first endpoint they reach."""

import pytest

from refill.apikeys.models import ApiKey
from refill.apikeys.services import apikey_authenticate, apikey_create, apikey_revoke
from refill.audit.models import AuditEvent
from tests.factories import login, make_customer, make_market, make_plan, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(django_user_model):
    return make_staff(email="keys@example.com", permissions=["apikeys.view_apikey", "apikeys.add_apikey"])


@pytest.fixture
def catalog():
    us = make_market()
    cn = make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    plans = [make_plan(us, f"us-{n}", price="5.00") for n in range(3)] + [make_plan(cn, "cn-1", price="30.00")]
    return us, cn, plans


def test_a_key_is_shown_once_and_stored_hashed(admin):
    key, text = apikey_create(name="Reseller A", scopes=["read", "vouchers"], actor=admin)
    assert text.startswith(f"rfk_{key.prefix}_") and len(text) > 40
    secret = text.split("_", 2)[2]  # the secret itself may contain "_"
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert apikey_authenticate(text) == key
    assert apikey_authenticate(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    assert apikey_authenticate("rfk_nope_x") is None and apikey_authenticate("") is None
    apikey_revoke(key=key, actor=admin, reason="left us")
    assert apikey_authenticate(text) is None
    assert list(AuditEvent.objects.filter(object_id=str(key.pk)).values_list("action", flat=True).order_by("pk")) == [
        "apikey.created",
        "apikey.revoked",
    ]


@pytest.mark.parametrize(("name", "scopes"), [("", ["read"]), ("x", []), ("x", ["admin"]), ("x" * 101, ["read"])])
def test_bad_keys_are_refused(admin, name, scopes):
    from refill.errors import RefillError

    with pytest.raises(RefillError):
        apikey_create(name=name, scopes=scopes, actor=admin)
    assert not ApiKey.objects.exists()


def test_back_office_creates_shows_once_and_revokes(client, admin, django_user_model):
    login(client, admin)
    page = client.post("/backoffice/api-keys/", {"name": "Network", "kind": "network", "scopes": ["usage:write"]})
    html = page.content.decode()
    key = ApiKey.objects.get()
    assert page["Cache-Control"] == "no-store" and f'value="rfk_{key.prefix}_' in html
    assert (key.kind, key.scopes, key.created_by) == ("network", ["usage:write"], admin)
    assert f"rfk_{key.prefix}_" in client.get("/backoffice/api-keys/").content.decode()
    assert 'data-testid="new-key"' not in client.get("/backoffice/api-keys/").content.decode()
    client.post("/backoffice/api-keys/", {"revoke": key.pk, "reason": "rotated"})
    assert ApiKey.objects.get().revoked_at is not None
    viewer = make_staff(email="v@example.com", permissions=["apikeys.view_apikey"])
    login(client, viewer)
    assert client.get("/backoffice/api-keys/").status_code == 200
    assert client.post("/backoffice/api-keys/", {"name": "x", "scopes": ["read"]}).status_code == 403
    customer_user = make_customer()[1]
    login(client, customer_user)
    assert client.get("/backoffice/api-keys/").status_code in (302, 403)


def test_plans_for_each_kind_of_caller(client, admin, catalog):
    _, text = apikey_create(name="Reader", scopes=["read"], actor=admin)
    _, no_read = apikey_create(name="PINs only", scopes=["vouchers"], actor=admin)
    revoked, revoked_text = apikey_create(name="Old", scopes=["read"], actor=admin)
    apikey_revoke(key=revoked, actor=admin)
    assert client.get("/api/v1/plans").status_code == 401
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {revoked_text}"}).status_code == 401
    refused = client.get("/api/v1/plans", headers={"Authorization": f"Bearer {no_read}"})
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    assert refused["Content-Type"] == "application/problem+json" and "read" in refused.json()["detail"]
    ok = client.get("/api/v1/plans?market=cn", headers={"Authorization": f"Bearer {text}"})
    assert ok.status_code == 200 and [p["code"] for p in ok.json()["items"]] == ["cn-1"]
    assert ok.json()["items"][0]["price"] == "30.00" and ok.json()["items"][0]["currency"] == "CNY"
    login(client, make_customer()[1])
    assert client.get("/api/v1/plans").status_code == 200


def test_plans_page_by_cursor(client, admin, catalog):
    _, text = apikey_create(name="Reader", scopes=["read"], actor=admin)
    headers = {"Authorization": f"Bearer {text}"}
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/plans?limit=2&cursor={cursor}", headers=headers).json()
        seen += [p["code"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["us-0", "us-1", "us-2", "cn-1"]
    bad = client.get("/api/v1/plans?cursor=!!!", headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


def test_plan_names_in_the_callers_language(client, admin, catalog):
    _, text = apikey_create(name="Reader", scopes=["read"], actor=admin)
    headers = {"Authorization": f"Bearer {text}", "Accept-Language": "zh-hans"}
    names = {p["code"]: p["name"] for p in client.get("/api/v1/plans", headers=headers).json()["items"]}
    assert all(not name.isascii() for name in names.values()), names
