"""Shops, the agents who work in them, what they sold, one-time codes sent to verify a customer at
the counter, and the end-of-day drawer closes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Shop(models.Model):
    """A store where agents serve customers of one market and take cash in its currency."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    market = models.ForeignKey("catalog.Market", on_delete=models.PROTECT, related_name="shops")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ShopAgent(models.Model):
    """The shop an agent works for. An agent without one cannot use the desk."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shop_agent")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="agents")

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop.code}"


class DrawerClose(models.Model):
    """An end-of-day count of a shop's cash drawer: what the sales since the previous close say
    should be there (``expected``), what the agent counted, and the difference (counted − expected).
    Each cash sale is settled by exactly one close (ShopSale.drawer_close)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="drawer_closes")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=80)
    closed_at = models.DateTimeField(default=timezone.now)
    currency = models.CharField(max_length=3)
    expected = models.DecimalField(max_digits=12, decimal_places=4)
    counted = models.DecimalField(max_digits=12, decimal_places=4)
    difference = models.DecimalField(max_digits=12, decimal_places=4)
    cash_sales = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-closed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], name="drawer_close_shop_key_unique"),
            models.CheckConstraint(condition=Q(counted__gte=0), name="drawer_close_counted_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.shop.code} {self.closed_at:%Y-%m-%d %H:%M}"


class CommissionRate(models.Model):
    """What an agent earns for selling a plan at the counter: a percentage of the price before tax,
    plus a fixed amount (either may be zero). Set per plan in the admin; a sale keeps what it earned
    when it was made."""

    plan = models.OneToOneField("catalog.Plan", on_delete=models.PROTECT, related_name="commission_rate")
    percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    amount = models.DecimalField(max_digits=12, decimal_places=4, default=0)  # in the plan's market currency

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100, amount__gte=0), name="commission_rate_in_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.percent}% + {self.amount}"


class ShopSale(models.Model):
    """An order made at a shop's counter: which shop and agent made it, and (for cash) the drawer
    close that settled it. Receipts and sales are shown to a shop's agents only through this."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="shop_sale")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="sales")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    drawer_close = models.ForeignKey(DrawerClose, null=True, blank=True, on_delete=models.PROTECT, related_name="sales")
    # What the agent earns for it once it is paid (CommissionRate of the plan sold, when made).
    commission = models.DecimalField(max_digits=12, decimal_places=4, default=0)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "created_at"]),
            models.Index(fields=["shop"], name="shop_sale_open_drawer", condition=Q(drawer_close__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} @ {self.shop_id}"

    @property
    def net(self):
        """The order's price before tax (what commission rates apply to)."""
        return self.order.total - self.order.tax


class OneTimeCode(models.Model):
    """A 6-digit code sent by SMS to a line so the customer at the counter can prove they hold it.
    Only a keyed hash is kept; it expires, allows a few attempts, and is used once."""

    line = models.ForeignKey("lines.Line", on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["line", "created_at"])]

    def __str__(self) -> str:
        return f"code for line {self.line_id} ({self.created_at:%Y-%m-%d %H:%M})"
