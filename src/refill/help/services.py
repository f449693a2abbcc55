"""Staff writes to help articles: create, edit, publish and unpublish, each with its audit row.

The rules they keep:

- a published article has its title and body in English and in Chinese: publishing one that lacks
  either is refused, and so is an edit that would empty one;
- among published articles a topic is taken once per market (and once among the every-market
  ones): publishing, or an edit of a published article, that would take it twice is refused;
- addresses (slugs) are unique; one is made from the English title when none is given.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record

from .models import Article

ARTICLE_FIELDS = (
    "topic",
    "market",
    "category",
    "slug",
    "title_en",
    "title_zh_hans",
    "body_en",
    "body_zh_hans",
    "keywords_en",
    "keywords_zh_hans",
)
LANGUAGE_NAMES = {"en": _("English"), "zh-hans": _("Chinese")}
SLUG_TAKEN = _("Another article already has this address.")
TOPIC_TAKEN = _("A published article for this market already has this topic. Unpublish that one first.")


def languages_missing_message(missing: list[str]) -> str:
    names = ", ".join(str(LANGUAGE_NAMES[code]) for code in missing)
    return _("A published article needs a title and a body in English and in Chinese. Missing: %(languages)s.") % {
        "languages": names
    }


def _plain(value: Any) -> Any:
    """A column's value as it is written in the audit row."""
    return value.pk if isinstance(value, models.Model) else value


def _column(article: Article, name: str) -> Any:
    return getattr(article, Article._meta.get_field(name).attname)


def _topic_taken(article: Article) -> bool:
    if not article.topic:
        return False
    others = Article.objects.filter(topic=article.topic, status=Article.Status.PUBLISHED).exclude(pk=article.pk)
    if article.market_id is None:
        return others.filter(market__isnull=True).exists()
    return others.filter(market_id=article.market_id).exists()


# Addresses under /help/ that are pages of their own, not articles.
RESERVED_SLUGS = frozenset({"search"})


def _slug_taken(slug: str, *, but: int | None = None) -> bool:
    return slug in RESERVED_SLUGS or Article.objects.filter(slug=slug).exclude(pk=but).exists()


def slug_suggest(title: str) -> str:
    """A free address made from ``title`` (``article`` when it has no Latin letters)."""
    base = (slugify(title)[:70].strip("-")) or "article"
    slug, number = base, 1
    while _slug_taken(slug):
        number += 1
        slug = f"{base}-{number}"
    return slug


def _check_published(article: Article) -> None:
    """Raise ValidationError if ``article`` cannot be online as it is."""
    missing = article.missing_languages()
    if missing:
        raise ValidationError(languages_missing_message(missing), code="language_missing")
    if _topic_taken(article):
        raise ValidationError({"topic": TOPIC_TAKEN}, code="topic_taken")


def _save(article: Article, **kwargs) -> None:
    # Two staff members publishing the same topic at once: the database's unique index refuses the
    # second, which is told like the check above tells.
    try:
        with transaction.atomic():
            article.save(**kwargs)
    except IntegrityError:
        if _topic_taken(article):
            raise ValidationError({"topic": TOPIC_TAKEN}, code="topic_taken") from None
        if _slug_taken(article.slug, but=article.pk):
            raise ValidationError({"slug": SLUG_TAKEN}, code="slug_taken") from None
        raise


def _snapshot(article: Article, names) -> dict[str, Any]:
    return {name: _plain(_column(article, name)) for name in names}


@transaction.atomic
def article_create(*, values: dict[str, Any], actor) -> Article:
    """A new draft from ``values`` (``ARTICLE_FIELDS``; validated by the back-office form)."""
    unknown = set(values) - set(ARTICLE_FIELDS)
    if unknown:
        raise ValueError(f"not article fields: {sorted(unknown)}")
    values = {**values}
    if not values.get("slug"):
        values["slug"] = slug_suggest(values.get("title_en", ""))
    elif _slug_taken(values["slug"]):
        raise ValidationError({"slug": SLUG_TAKEN}, code="slug_taken")
    now = timezone.now()
    article = Article(**values, status=Article.Status.DRAFT, created_at=now, updated_at=now, updated_by=actor)
    _save(article, force_insert=True)
    audit_record(
        actor=actor, action="help.article_create", obj=article, data={"after": _snapshot(article, ARTICLE_FIELDS)}
    )
    return article


@transaction.atomic
def article_update(*, article: Article, values: dict[str, Any], actor) -> list[str]:
    """Change ``article`` to ``values``; the names of what changed (nothing changed: no audit row).
    A published article stays published, so the edit must keep it publishable."""
    unknown = set(values) - set(ARTICLE_FIELDS)
    if unknown:
        raise ValueError(f"not article fields: {sorted(unknown)}")
    locked = Article.objects.select_for_update().get(pk=article.pk)
    values = {**values}
    if "slug" in values and not values["slug"]:
        values["slug"] = locked.slug
    changed = [name for name, value in values.items() if _plain(value) != _column(locked, name)]
    if not changed:
        return []
    if "slug" in changed and _slug_taken(values["slug"], but=locked.pk):
        raise ValidationError({"slug": SLUG_TAKEN}, code="slug_taken")
    before = _snapshot(locked, changed)
    for name in changed:
        setattr(locked, name, values[name])
    if locked.is_published:
        _check_published(locked)
    locked.updated_at = timezone.now()
    locked.updated_by = actor
    _save(locked, update_fields=[*changed, "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        action="help.article_update",
        obj=locked,
        data={"before": before, "after": _snapshot(locked, changed)},
    )
    article.refresh_from_db()
    return changed


@transaction.atomic
def article_publish(*, article: Article, actor) -> bool:
    """Put ``article`` online; False if it already was. Raises ValidationError when a language is
    missing or its topic is already taken in its market."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if locked.is_published:
        return False
    _check_published(locked)
    now = timezone.now()
    locked.status = Article.Status.PUBLISHED
    locked.published_at = now
    locked.published_by = actor
    locked.updated_at = now
    locked.updated_by = actor
    _save(locked, update_fields=["status", "published_at", "published_by", "updated_at", "updated_by"])
    audit_record(actor=actor, action="help.article_publish", obj=locked, data={"topic": locked.topic})
    article.refresh_from_db()
    return True


@transaction.atomic
def article_unpublish(*, article: Article, actor) -> bool:
    """Take ``article`` offline (back to a draft); False if it was not online."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if not locked.is_published:
        return False
    locked.status = Article.Status.DRAFT
    locked.updated_at = timezone.now()
    locked.updated_by = actor
    locked.save(update_fields=["status", "updated_at", "updated_by"])
    audit_record(actor=actor, action="help.article_unpublish", obj=locked, data={"topic": locked.topic})
    article.refresh_from_db()
    return True
