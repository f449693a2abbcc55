"""The Chinese catalog says the right thing where money and dates are read closely (issue 23, item 10).

The rules here are the ones docs/translation.md states for translators: one term per line state,
续费 for plans and 充值 only for the wallet, a context for an English word with two meanings, and
punctuation inside the translated strings."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "src" / "refill"
PO = SOURCE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
GLOSSARY = ROOT / "docs" / "translation.md"

# The line states a customer reads on the badge, the card, emails, SMS and help (docs/translation.md).
STATE_TERMS = {
    "grace": "宽限期",
    "suspended": "已停机",
    "deactivated": "预销户",
}
# Words translators reached for that name a state wrongly: 注销 says the number is gone for good
# (a deactivated number can still be renewed); 暂停 and 停用 are a second and third name for a state.
WRONG_STATE_WORDS = ("注销", "暂停", "停用")
# In Chinese-only text (the help articles) 暂停 alone may pause something else (card payments).
WRONG_STATE_FORMS = ("注销", "已暂停", "被暂停", "停用")


def _catalog():
    with PO.open("rb") as handle:
        return [message for message in read_po(handle) if message.id]


def _text(value) -> str:
    return value if isinstance(value, str) else " ".join(value)


def _entries():
    """(context, English, Chinese) of every translated catalog entry (a fuzzy one is a guess that
    test_catalog refuses); plural entries joined by spaces."""
    return [(message.context, _text(message.id), _text(message.string)) for message in _catalog() if not message.fuzzy]


def _translations() -> dict:
    return {(context, english): chinese for context, english, chinese in _entries()}


# --- one English word, two meanings ---------------------------------------------------------------

SHARED_WORDS = {
    # (context, msgid): translation a reader expects there
    ("support ticket status", "Closed"): "已关闭",
    ("cash drawer close time", "Closed"): "结账时间",
    ("help topic", "Account"): "账户",
    ("ledger account", "Account"): "科目",
    ("support ticket reference", "Reference"): "工单编号",
    ("ledger entry reference", "Reference"): "凭证编号",
    ("number of periods", "Periods"): "周期数",
    ("list of a line's periods", "Periods"): "套餐周期",
    ("the card", "Refill PIN"): "充值卡",
    ("the PIN printed on the card", "Refill PIN"): "充值卡密码",
}


def test_a_word_with_two_meanings_has_a_context_and_a_translation_for_each():
    translations = _translations()
    assert {key: translations.get(key) for key in SHARED_WORDS} == SHARED_WORDS
    # Without a context, one of the meanings would get the other's words again.
    plain = {english for context, english in translations if context is None}
    assert plain.isdisjoint({english for _context, english in SHARED_WORDS})


# --- line states ---------------------------------------------------------------------------------


def _help_demo_texts() -> list[str]:
    """Every string literal of the demo help articles (the Chinese ones are checked)."""
    paths = [SOURCE / "help" / "demo.py", *sorted((SOURCE / "help" / "demo_articles").glob("*.py"))]
    source = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    matches = re.findall(r'"""(.*?)"""|"([^"\n]*)"', source, flags=re.S)
    return [group for match in matches for group in match if group]


def _state_problems(english: str | None, chinese: str) -> list[str]:
    """What is wrong with how a text names line states (``english`` is None for Chinese-only text)."""
    if english is None:
        problems = [word for word in WRONG_STATE_FORMS if word in chinese]
    else:
        problems = [word for word in WRONG_STATE_WORDS if word in chinese and _names_a_line_state(english)]
    if "注销" in chinese:
        problems.append("注销")
    english = english or ""
    if re.search(r"(?i)\bsuspen", english) and "停机" not in chinese:
        problems.append("suspended without 停机")
    if re.search(r"(?i)\bdeactivat", english) and STATE_TERMS["deactivated"] not in chinese:
        problems.append("deactivated without 预销户")
    if re.search(r"(?i)\bgrace\b", english) and STATE_TERMS["grace"] not in chinese:
        problems.append("grace without 宽限期")
    return sorted(set(problems))


def _names_a_line_state(english: str) -> bool:
    """Whether an entry speaks of a line (not of a paused promotion or a webhook switched off)."""
    return bool(re.search(r"(?i)\b(line|number|plan|suspen|deactivat|grace|lapse|renew)", english))


def test_each_line_state_has_one_name_in_the_catalog():
    problems = {
        english: found for _context, english, chinese in _entries() if (found := _state_problems(english, chinese))
    }
    assert problems == {}, "use the terms of docs/translation.md"


def test_each_line_state_has_one_name_in_the_demo_help_articles():
    problems = {
        text[:60]: found
        for text in _help_demo_texts()
        if re.search(r"[\u4e00-\u9fff]", text) and (found := _state_problems(None, text))
    }
    assert problems == {}, "use the terms of docs/translation.md"


def test_the_glossary_names_each_state_term():
    glossary = GLOSSARY.read_text(encoding="utf-8")
    for term in (*STATE_TERMS.values(), "续费", "充值"):
        assert term in glossary


def test_the_badges_use_the_glossary_terms():
    from django.utils import translation

    from refill.domain.lifecycle import LineStatus
    from refill.lines.models import STATUS_LABELS

    with translation.override("zh-hans"):
        labels = {status.value: str(STATUS_LABELS[status]) for status in LineStatus}
    assert {state: labels[state] for state in STATE_TERMS} == STATE_TERMS


# --- 续费 for plans, 充值 only for the wallet ---------------------------------------------------

# The product is a 充值卡 ("refill PIN" card) with a 充值卡密码 / 卡密: its name, not a top-up.
PIN_CARD_WORDS = re.compile(r"充值卡密码|充值卡密|充值卡|充值密码")


def test_chongzhi_is_only_said_of_the_wallet():
    wrong = {
        english: chinese
        for _context, english, chinese in _entries()
        if "充值" in PIN_CARD_WORDS.sub("", chinese) and not re.search(r"(?i)top.?up|topped up|wallet", english)
    }
    assert wrong == {}, "a plan is renewed (续费); only the wallet is topped up (充值)"


def test_gift_refills_are_renewals():
    wrong = {
        english: chinese
        for _context, english, chinese in _entries()
        if re.search(r"(?i)\brefill(ed|s)?\b(?! PIN)", english) and "充值" in PIN_CARD_WORDS.sub("", chinese)
    }
    assert wrong == {}


@pytest.mark.parametrize("code", ["insufficient_funds"])
def test_the_insufficient_funds_decline_speaks_of_the_bank_card_not_the_wallet(code):
    from django.utils import translation

    from refill.orders.errors import decline_message

    with translation.override("zh-hans"):
        text = decline_message(code)
    assert "银行卡" in text and "充值" not in text and "账户" not in text


def test_the_demo_help_articles_do_not_tell_a_declined_customer_to_top_up():
    for text in _help_demo_texts():
        assert "为账户充值" not in text and "账户余额不足" not in text


# --- punctuation belongs to the translated string ----------------------------------------------

# "{% translate "Current plan" %}: {{ … }}" puts an English colon after Chinese text; a colon or
# bracket that belongs to the sentence must be inside the msgid (then 当前套餐：…, （…）). The same
# for a bracket between two values outside any translated string: "{{ label }} ({{ currency }})".
LOOSE_PUNCTUATION = re.compile(
    r'(\{% (?:translate|trans) "[^"]*"[^%]*%\}|\{% endblocktranslate %\}) ?[:(]|(\}\}|%\}) \((\{\{|\{%)'
)
BLOCKS = re.compile(r"\{% blocktranslate.*?\{% endblocktranslate %\}", flags=re.S)


def test_no_colon_or_bracket_sits_outside_a_translated_string():
    found = []
    for path in sorted((SOURCE / "templates").rglob("*")):
        if path.suffix not in {".html", ".txt"}:
            continue
        # What is inside a blocktranslate is the translator's: only what is outside is looked at.
        text = BLOCKS.sub(lambda block: "{% endblocktranslate %}" + "\n" * block.group().count("\n"), path.read_text())
        found += [
            f"{path.relative_to(SOURCE)}:{number}"
            for number, line in enumerate(text.splitlines(), 1)
            if LOOSE_PUNCTUATION.search(line)
        ]
    assert found == []


def test_chinese_strings_use_full_width_colons_and_brackets():
    half_width = {
        english: chinese
        for _context, english, chinese in _entries()
        # A colon between CJK text and what follows, or a bracket opened right after CJK text.
        if re.search(r"[\u4e00-\u9fff]\s*[:(]|[:(]\s*[\u4e00-\u9fff]", chinese)
        # "type:id" is a format the reader types, not punctuation.
        and not re.search(r"\w:\w", english)
    }
    assert half_width == {}
