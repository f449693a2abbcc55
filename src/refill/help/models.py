"""Help centre articles, written and published by staff in the back office, read by anyone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Article(models.Model):
    """One help article in English and Simplified Chinese.

    ``market`` empty: the article is for every market. A market's own published article for a
    ``topic`` wins over the every-market one (``refill.help.selectors``). Among published articles a
    topic is taken once per market (and once among the every-market articles): drafts may share it,
    so a replacement can be written while the old one stays online."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Category(models.TextChoices):
        RENEWING = "renewing", pgettext_lazy("help topic", "Renewing")
        PAYING = "paying", _("Paying")
        ESIM = "esim", _("eSIM")
        LINE_STATUS = "line_status", _("Line status")
        REFILL_PINS = "refill_pins", _("Refill PINs")
        ACCOUNT = "account", pgettext_lazy("help topic", "Account")

    topic = models.SlugField(max_length=64, blank=True, help_text=_("A stable key that other pages link to."))
    market = models.ForeignKey(
        "catalog.Market", null=True, blank=True, on_delete=models.PROTECT, related_name="help_articles"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    category = models.CharField(max_length=16, choices=Category.choices)
    slug = models.SlugField(max_length=80, unique=True)
    title_en = models.CharField(max_length=200, blank=True)
    title_zh_hans = models.CharField(max_length=200, blank=True)
    body_en = models.TextField(blank=True)
    body_zh_hans = models.TextField(blank=True)
    # Words a customer may type that the text does not use ("money back" for a refund): search
    # weighs them between the title and the body. Comma- or line-separated; never shown.
    keywords_en = models.TextField(blank=True)
    keywords_zh_hans = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["category", "title_en", "pk"]
        permissions = [("publish_article", "Can publish and unpublish help articles")]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "market"],
                condition=Q(status="published", market__isnull=False) & ~Q(topic=""),
                name="help_article_topic_per_market",
            ),
            # NULLs are never equal in a unique index: the every-market articles need their own.
            models.UniqueConstraint(
                fields=["topic"],
                condition=Q(status="published", market__isnull=True) & ~Q(topic=""),
                name="help_article_topic_every_market",
            ),
        ]
        indexes = [models.Index(fields=["status", "market"])]

    def __str__(self) -> str:
        return self.title_en or self.title_zh_hans or self.slug

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def title(self) -> str:
        """The title in the active language (the other one when it is still missing)."""
        if translation.get_language() == "zh-hans":
            return self.title_zh_hans or self.title_en
        return self.title_en or self.title_zh_hans

    @property
    def body(self) -> str:
        if translation.get_language() == "zh-hans":
            return self.body_zh_hans or self.body_en
        return self.body_en or self.body_zh_hans

    def missing_languages(self) -> list[str]:
        """The languages whose title or body is still empty (codes: ``en``, ``zh-hans``)."""
        missing = []
        if not (self.title_en.strip() and self.body_en.strip()):
            missing.append("en")
        if not (self.title_zh_hans.strip() and self.body_zh_hans.strip()):
            missing.append("zh-hans")
        return missing
