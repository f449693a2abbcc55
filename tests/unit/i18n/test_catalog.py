"""Every English string has a Chinese translation, and the compiled catalog matches the source."""

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[3] / "src" / "refill" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _context(value):
    # read_mo gives a context as bytes, read_po as str.
    return value.decode() if isinstance(value, bytes) else value


def _messages(catalog):
    """Entries by (context, msgid): one English word may have several contexts (pgettext)."""
    return {(_context(message.context), _key(message.id)): message for message in catalog if message.id}


def test_every_message_is_translated_and_not_fuzzy():
    with open(LOCALE / "django.po", "rb") as handle:
        catalog = read_po(handle)
    problems = []
    for key, message in _messages(catalog).items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            problems.append(key)
    assert problems == []


def test_compiled_catalog_is_up_to_date():
    with open(LOCALE / "django.po", "rb") as handle:
        source = _messages(read_po(handle))
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = _messages(read_mo(handle))
    stale = [
        key
        for key, message in source.items()
        if key not in compiled or _key(compiled[key].string) != _key(message.string)
    ]
    assert stale == [], "run `make messages` and commit django.mo"


def test_every_simple_string_in_the_source_is_in_the_catalog():
    """A catalog made while part of the source failed to extract loses messages silently; this
    finds the plain literals (``{% translate "…" %}`` and ``_("…")`` on one line) it would miss."""
    import re

    source_dir = LOCALE.parents[2]
    with open(LOCALE / "django.po", "rb") as handle:
        known = {msgid if isinstance(msgid, str) else msgid[0] for _context, msgid in _messages(read_po(handle))}
    template_literal = re.compile(r"""{%\s*(?:translate|trans)\s+"([^"\\]+)"(?:\s+(?:context|as|noop)\b[^%]*)?\s*%}""")
    python_literal = re.compile(r"""(?<![\w.])(?:_|gettext|gettext_lazy)\(\s*"([^"\\]+)"\s*\)""")
    missing = set()
    for path in source_dir.rglob("*"):
        if "static" in path.parts or "migrations" in path.parts or not path.is_file():
            continue
        if path.suffix in {".html", ".txt"}:
            found = template_literal.findall(path.read_text(encoding="utf-8"))
        elif path.suffix == ".py":
            found = python_literal.findall(path.read_text(encoding="utf-8"))
        else:
            continue
        missing.update(f"{path.relative_to(source_dir)}: {text}" for text in found if text not in known)
    assert sorted(missing) == [], "run `make messages` (makemessages) and translate"
