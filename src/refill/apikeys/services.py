"""Creating, revoking and checking API keys. A key's secret is shown once, at creation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.errors import RefillError

from .models import SCOPES, ApiKey

PREFIX = "rfk_"
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


class InvalidScopes(RefillError):
    code = "invalid_scopes"
    message = _("Choose at least one of the listed permissions.")


class InvalidKeyName(RefillError):
    code = "invalid_key_name"
    message = _("Give the key a name (up to 100 characters).")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def apikey_create(*, name: str, scopes: list[str], kind: str = ApiKey.Kind.PARTNER, actor) -> tuple[ApiKey, str]:
    """A new key and its full text (shown to the creator once; only its hash is kept)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidKeyName()
    if not scopes or any(scope not in SCOPES for scope in scopes):
        raise InvalidScopes()
    if kind not in ApiKey.Kind.values:
        raise InvalidScopes()
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        key = ApiKey.objects.create(
            name=name, kind=kind, prefix=prefix, digest=_digest(secret), scopes=sorted(set(scopes)), created_by=actor
        )
        audit_record(actor=actor, action="apikey.created", obj=key, data={"name": name, "scopes": key.scopes})
    return key, f"{PREFIX}{prefix}_{secret}"


def apikey_revoke(*, key: ApiKey, actor, reason: str = "") -> ApiKey:
    _recent.pop(key.prefix, None)
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is None:
            locked.revoked_at, locked.revoked_by = timezone.now(), actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(actor=actor, action="apikey.revoked", obj=locked, reason=reason)
    return locked


# Keys read in the last few seconds, by prefix, in this process: the API's hot reads need no query
# for their key. A revocation reaches every process within this time (and this one at once).
KEY_CACHE_SECONDS = 5.0
_recent: dict[str, tuple[float, ApiKey | None]] = {}


def _key_by_prefix(prefix: str) -> ApiKey | None:
    now = time.monotonic()
    found = _recent.get(prefix)
    if found is not None and now - found[0] < KEY_CACHE_SECONDS:
        return found[1]
    key = ApiKey.objects.filter(prefix=prefix).first()
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[prefix] = (now, key)
    return key


def apikey_authenticate(text: str) -> ApiKey | None:
    """The active key ``text`` is, or None (unknown, malformed or revoked: no difference shown)."""
    if not text or not text.startswith(PREFIX):
        return None
    prefix, _, secret = text[len(PREFIX) :].partition("_")
    if not prefix or not secret or len(text) > 200:
        return None
    key = _key_by_prefix(prefix)
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.digest, _digest(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
