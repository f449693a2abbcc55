"""Our catalog is searched before the libraries' (allauth's login, sign-up and two-factor pages), so
a plain msgid we translate replaces the library's translation of the same English word wherever
the library uses it. "Code" translated as 优惠码 (promotion code) turned the two-factor page's
"Code" field into a promotion-code field. A word we use in one sense gets a context; a plain msgid
shared with a library may differ from the library's translation only where the meaning is the same
(reviewed and listed here)."""

from pathlib import Path

import allauth
from babel.messages.pofile import read_po

from refill.customers.library_words import EMAIL_PAGE, TWO_FACTOR

OURS = Path(__file__).resolve().parents[3] / "src/refill/locale/zh_Hans/LC_MESSAGES/django.po"
ALLAUTH = Path(allauth.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"
# Same meaning, our house wording (账户, 上次登录, 邮箱地址 …; two-factor recovery codes are 恢复码 on
# Refill's own recovery codes page, where allauth says 恢复代码).
SAME_MEANING = {"email address", "last login", "Login", "Remove", "Recovery codes", "Download codes", "Unused codes"}
# allauth's email and two-factor pages in our words (邮箱 for "Email地址", 两步验证 for "双因素身份认证"):
# refill/customers/library_words.py lists them, each with allauth's meaning.
SAME_MEANING |= set(EMAIL_PAGE) | set(TWO_FACTOR)


def _plain(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if isinstance(m.id, str) and m.id and not m.context}


def test_no_plain_msgid_gives_a_library_word_another_meaning():
    ours, theirs = _plain(OURS), _plain(ALLAUTH)
    differing = {word for word in ours.keys() & theirs.keys() if theirs[word] and ours[word] != theirs[word]}
    assert differing <= SAME_MEANING, sorted(differing - SAME_MEANING)


def test_the_two_factor_code_is_not_a_promotion_code():
    assert _plain(OURS).get("Code") in (None, _plain(ALLAUTH)["Code"])
