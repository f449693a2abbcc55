from __future__ import annotations

import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.formatting import zone_choice_text

LANGUAGE_CHOICES = [("en", "English"), ("zh-hans", "简体中文")]


def time_zone_choices() -> list[tuple[str, str]]:
    """Every zone, named as people say it in the active language ("Eastern time (New York)"),
    sorted by that name; the value stored is the IANA key."""
    keys = [name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"]
    labelled = [(key, zone_choice_text(key)) for key in keys]
    return sorted(labelled, key=lambda choice: (choice[0] != "UTC", choice[1], choice[0]))


class Customer(models.Model):
    """A person or a business that owns lines and pays."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        BUSINESS = "business", _("Business")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSON)
    display_name = models.CharField(max_length=200, blank=True)
    preferred_language = models.CharField(max_length=16, choices=LANGUAGE_CHOICES, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    notify_email = models.BooleanField(default=True)
    notify_sms = models.BooleanField(default=True)
    shop_pin_hash = models.CharField(max_length=200, blank=True)
    # Marketing segments a promotion may be limited to (e.g. "student"); the customer's kind
    # (person, business) counts as one too.
    segments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.display_name or f"customer {self.pk}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def segment_set(self) -> frozenset[str]:
        return frozenset([*(str(segment).strip().lower() for segment in self.segments or []), self.kind])

    def email_address(self) -> str:
        """Where customer email goes: the first of the customer's logins that has an address."""
        return self.users.filter(email__isnull=False).values_list("email", flat=True).first() or ""


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **extra) -> User:
        if email:
            email = self.normalize_email(email).lower()
        user = self.model(email=email or None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Subscribers are linked to a Customer; staff and shop agents may not be."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Shop agent")
        STAFF = "staff", _("Operator staff")

    email = models.EmailField(_("email address"), null=True, blank=True)
    phone = models.CharField(_("mobile number"), max_length=16, null=True, blank=True)
    phone_verified = models.BooleanField(default=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.UniqueConstraint(fields=["phone"], name="user_phone_unique"),
            models.CheckConstraint(
                condition=models.Q(email__isnull=False) | models.Q(phone__isnull=False),
                name="user_has_email_or_phone",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or f"user {self.pk}"

    def save(self, *args, **kwargs) -> None:
        # Blank means "none": store NULL so that the unique constraints ignore it.
        self.email = (self.email or "").strip().lower() or None
        self.phone = (self.phone or "").strip() or None
        super().save(*args, **kwargs)
