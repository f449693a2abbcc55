"""Back-office pages for the help centre: the list with filters, create, edit (English and Chinese
side by side), a preview as the public will see it, publish and unpublish. Every change goes
through ``refill.help.services``, which writes its audit row."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refill.catalog.models import Market
from refill.customers.staff import require_perm

from . import selectors, services
from .forms import ArticleForm
from .markup import render_markup
from .models import Article

LIST_LIMIT = 500


def _form_page(request: HttpRequest, form: ArticleForm, article: Article | None) -> HttpResponse:
    return render(
        request,
        "help/staff/article_form.html",
        {"form": form, "article": article},
        status=400 if form.errors else 200,
    )


@require_perm("help.view_article")
def articles_view(request: HttpRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "").strip() for name in ("status", "market", "category", "text")}
    articles = selectors.articles_for_staff(**filters)
    return render(
        request,
        "help/staff/articles.html",
        {
            "articles": articles[:LIST_LIMIT],
            "filters": filters,
            "statuses": Article.Status.choices,
            "categories": Article.Category.choices,
            "markets": Market.objects.order_by("name"),
            "every_market": selectors.EVERY_MARKET,
        },
    )


@require_perm("help.add_article")
def article_create_view(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(values=form.values(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The article was saved as a draft."))
            return redirect("help_admin:article_preview", pk=article.pk)
    return _form_page(request, form, None)


@require_perm("help.change_article")
def article_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    form = ArticleForm(request.POST or None, initial=ArticleForm.initial_for(article))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.article_update(article=article, values=form.values(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The article was saved.") if changed else _("Nothing was changed."))
            return redirect("help_admin:article_preview", pk=article.pk)
    return _form_page(request, form, article)


@require_perm("help.view_article")
def article_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The article in both languages, each as the public page shows it, with its state and actions."""
    article = get_object_or_404(Article.objects.select_related("market", "updated_by", "published_by"), pk=pk)
    versions = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            versions.append(
                {
                    "language": language,
                    "html_lang": "zh-Hans" if language == "zh-hans" else "en",
                    "title": article.title,
                    "category": str(article.get_category_display()),
                    "body_html": render_markup(article.body),
                }
            )
    context = {"article": article, "versions": versions, "missing": article.missing_languages()}
    return render(request, "help/staff/article_preview.html", context)


def _publish_set(request: HttpRequest, pk: int, *, publish: bool) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    try:
        if publish:
            done = services.article_publish(article=article, actor=request.user)
            text = _("The article is published.") if done else _("The article was already published.")
        else:
            done = services.article_unpublish(article=article, actor=request.user)
            text = _("The article is now a draft.") if done else _("The article was not published.")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, text)
    return redirect("help_admin:article_preview", pk=article.pk)


@require_perm("help.publish_article")
@require_POST
def article_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _publish_set(request, pk, publish=True)


@require_perm("help.publish_article")
@require_POST
def article_unpublish_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _publish_set(request, pk, publish=False)
