"""Searching the help articles in English and Chinese, the same way on every database.

The ranking runs in Python over the published articles a visitor may see (hundreds, not millions),
so SQLite and PostgreSQL answer alike. A text becomes tokens: English words folded to lower case,
with their endings lightly trimmed (refunds, refunded, refunding → refund); Chinese, written without
spaces, becomes its overlapping pairs of characters (and single characters, so a one-character
query still finds something). Both languages of an article are searched: people type "eSIM" or
"PIN" in a Chinese query too. Each article also has search words (``keywords_en``,
``keywords_zh_hans``): what customers type that the text does not say ("money back", "换手机").

An article matches when it holds a token of the query. Only the articles holding the most of the
query's tokens are kept (a query of three words is not answered by every article holding one of
them), and of those the ones scoring at least a quarter of the best. The score weighs a token in
the title above one in the search words above one in the body; ties go to the article whose body
says it more often, then by title and id, so the order is stable."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation

from .markup import plain_text
from .models import Article

QUERY_MAX_LENGTH = 100
EXCERPT_LENGTH = 160

_WORD = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Words that say nothing about what is asked (dropped from a query that has other words).
STOP_WORDS = frozenset(
    "a an and are can do does for how i in is it my of on or the to what when where why with you your".split()
    + ["如何", "怎么", "怎样", "什么", "为什", "我的", "可以", "一个"]
)


TITLE_WEIGHT = 4
KEYWORD_WEIGHT = 2
BODY_WEIGHT = 1
# A hit scoring under 1/SCORE_CUT of the best one is left out.
SCORE_CUT = 4
# A doubled consonant left by a trimmed ending is made single (stopped → stop), except these,
# which English doubles in the word itself (install, pass, staff).
_KEEP_DOUBLE = frozenset("lsfz")


def _stem(word: str) -> str:
    """A light English stemmer, the same for articles and queries, so that the forms of one word
    meet: plurals, -ed and -ing, and a final -e on longer words (charge, charged, charging → charg).
    Not a dictionary: two words may share a stem by chance; search weighs titles to make up."""
    if word.isdigit():
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 3 and len(word) > 4:
            word = word[: -len(ending)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _KEEP_DOUBLE and word[-1] not in "aeiou":
                word = word[:-1]
            return word
    if len(word) >= 6 and word.endswith("e"):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def tokens(text: str, *, query: bool = False) -> list[str]:
    """The tokens of ``text`` in order. For a document, Chinese runs also give their single
    characters; for a query, only a one-character run does."""
    found: list[str] = []
    for run in _WORD.findall(normalize(text)):
        if not _CJK.match(run):
            found.append(_stem(run))
            continue
        if len(run) == 1:
            found.append(run)
            continue
        found.extend(run[i : i + 2] for i in range(len(run) - 1))
        if not query:
            found.extend(run)
    return found


def query_tokens(text: str) -> list[str]:
    """The distinct tokens of a query, without stop words unless there is nothing else."""
    every = list(dict.fromkeys(tokens(text, query=True)))
    meaningful = [token for token in every if token not in STOP_WORDS]
    return meaningful or every


@dataclass(frozen=True)
class Hit:
    article: Article
    title_matches: int
    keyword_matches: int
    body_matches: int
    # How often the query's tokens occur in the body: between two articles that match alike, the
    # one about the subject says it more often.
    body_frequency: int
    excerpt: str

    @property
    def score(self) -> int:
        return (
            TITLE_WEIGHT * self.title_matches + KEYWORD_WEIGHT * self.keyword_matches + BODY_WEIGHT * self.body_matches
        )


def _excerpt(body: str, terms: Iterable[str]) -> str:
    """About ``EXCERPT_LENGTH`` characters of the body, around the first place a term appears."""
    text = plain_text(body)
    if len(text) <= EXCERPT_LENGTH:
        return text
    folded = normalize(text)
    positions = [folded.find(term) for term in terms if term and folded.find(term) >= 0]
    start = max(0, min(positions) - EXCERPT_LENGTH // 4) if positions else 0
    if start:
        # Begin at a word, not inside one (Chinese has no spaces and begins anywhere).
        space = text.find(" ", start, start + 20)
        start = space + 1 if space >= 0 else start
    piece = text[start : start + EXCERPT_LENGTH].strip()
    return ("…" if start else "") + piece + ("…" if start + EXCERPT_LENGTH < len(text) else "")


def _term_forms(query: str) -> list[str]:
    """What to look for in the plain body to place the excerpt: the query's words as typed and
    its tokens (stems, pairs of Chinese characters)."""
    return [run for run in _WORD.findall(normalize(query)) if run not in STOP_WORDS] + query_tokens(query)


def articles_search(*, articles: Iterable[Article], query: str) -> list[Hit]:
    """The ``articles`` (already limited to what the visitor may see) matching ``query``, best
    first; each with an excerpt in the active language."""
    wanted = query_tokens(query)
    if not wanted:
        return []
    chinese = translation.get_language() == "zh-hans"
    hits = []
    coverage: dict[int, int] = {}
    for article in articles:
        title = set(tokens(f"{article.title_en}\n{article.title_zh_hans}"))
        keywords = set(tokens(f"{article.keywords_en}\n{article.keywords_zh_hans}"))
        body_tokens = Counter(tokens(f"{plain_text(article.body_en)}\n{plain_text(article.body_zh_hans)}"))
        body = set(body_tokens)
        found = [token for token in wanted if token in title or token in keywords or token in body]
        if not found:
            continue
        shown = (article.body_zh_hans if chinese else article.body_en) or article.body
        hit = Hit(
            article,
            sum(1 for token in wanted if token in title),
            sum(1 for token in wanted if token in keywords),
            sum(1 for token in wanted if token in body),
            sum(body_tokens[token] for token in wanted),
            _excerpt(shown, _term_forms(query)),
        )
        coverage[id(hit)] = len(found)
        hits.append(hit)
    # The articles that hold the most of what was asked; a stray word shared with others does not
    # bring every article along.
    best = max(coverage.values(), default=0)
    hits = [hit for hit in hits if coverage[id(hit)] == best]
    # And of those, the ones that match nearly as well as the best: words every article uses
    # ("not", "work") do not list the whole help centre under the one that answers.
    top = max((hit.score for hit in hits), default=0)
    hits = [hit for hit in hits if hit.score * SCORE_CUT >= top]
    hits.sort(
        key=lambda hit: (
            -hit.score,
            -hit.title_matches,
            -hit.keyword_matches,
            -hit.body_frequency,
            hit.article.title,
            hit.article.pk,
        )
    )
    return hits
