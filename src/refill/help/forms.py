from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from refill.catalog.models import Market

from .models import Article
from .search import QUERY_MAX_LENGTH
from .services import ARTICLE_FIELDS

MARKUP_HELP = _(
    "A blank line starts a new paragraph. “## ” starts a heading, “- ” a list item, “1. ” a numbered "
    "step. **bold**, and [text](/path) or [text](https://…) for a link. No HTML."
)

KEYWORDS_HELP = _(
    "Not shown. Words customers type that the text does not use, separated by commas, for example: "
    "money back, cancel. Search ranks them below the title and above the text."
)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the help centre"),
        max_length=QUERY_MAX_LENGTH,
        error_messages={
            "required": _("Type a few words to search for."),
            "max_length": _("Use at most %(limit_value)d characters."),
        },
        widget=forms.TextInput(attrs={"type": "search", "enterkeyhint": "search"}),
    )

    def clean_q(self) -> str:
        query = self.cleaned_data["q"].strip()
        if not query:
            raise forms.ValidationError(_("Type a few words to search for."), code="required")
        return query


class ArticleForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Article.Category.choices)
    market = forms.ModelChoiceField(
        label=_("Market"),
        queryset=Market.objects.order_by("name"),
        required=False,
        empty_label=_("Every market"),
        help_text=_("A market's own article for a topic replaces the every-market one there."),
    )
    topic = forms.SlugField(
        label=_("Topic"),
        max_length=64,
        required=False,
        help_text=_("Optional. Pages link to the article by this key, for example: renew, payment-declined."),
        error_messages={"invalid": _("Use lower-case letters, digits and hyphens only.")},
    )
    slug = forms.SlugField(
        label=_("Address"),
        max_length=80,
        required=False,
        help_text=_("The end of the article's address (/help/…/). Empty: made from the English title."),
        error_messages={"invalid": _("Use lower-case letters, digits and hyphens only.")},
    )
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Text in English"), required=False, widget=forms.Textarea(attrs={"rows": 18}), help_text=MARKUP_HELP
    )
    title_zh_hans = forms.CharField(label=_("Title in Chinese"), max_length=200, required=False)
    body_zh_hans = forms.CharField(
        label=_("Text in Chinese"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "lang": "zh-Hans"}),
        help_text=MARKUP_HELP,
    )

    keywords_en = forms.CharField(
        label=_("Search words in English"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=KEYWORDS_HELP,
    )
    keywords_zh_hans = forms.CharField(
        label=_("Search words in Chinese"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "lang": "zh-Hans"}),
        help_text=KEYWORDS_HELP,
    )

    @classmethod
    def initial_for(cls, article: Article) -> dict:
        return {name: getattr(article, name) for name in ARTICLE_FIELDS}

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("title_en", "").strip() or cleaned.get("title_zh_hans", "").strip()):
            raise forms.ValidationError(_("Give the article a title in at least one language."))
        for name in ("topic", "slug"):
            if name in cleaned:
                cleaned[name] = cleaned[name].lower()
        return cleaned

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in ARTICLE_FIELDS}

    def add_service_errors(self, error) -> None:
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)
