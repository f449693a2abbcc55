"""Fill untranslated or fuzzy entries of the zh_Hans catalog from a JSON file of msgid -> msgstr.

    .venv/bin/python tools/po_fill.py translations.json
    .venv/bin/python tools/po_fill.py --overwrite translations.json

The JSON file is one object. Each key names a catalog entry, each value is its translation:

- ``"msgid": "译文"`` — a plain entry (gettext / {% translate %}).
- ``"context\\u0004msgid": "译文"`` — an entry with a context (pgettext /
  {% translate "…" context "…" %}): the context, the EOT character U+0004 (written ``\\u0004`` in
  JSON), then the msgid. This is how gettext itself joins the two in a .mo file.
- Plurals (ngettext / {% blocktranslate count … %}): the key is the singular msgid (with
  ``"context\\u0004"`` in front when it has one); the value is either one string, used for every
  plural form (Chinese has one), or a list with one string per plural form.

Only entries that are untranslated or fuzzy are filled, so one helper's file cannot undo another's
wording; ``--overwrite`` also replaces the translation of entries that already have one (for
deliberate wording fixes). Entries that are still untranslated afterwards are listed so nothing is
silently left untranslated (exit status 1 then). Keys that match no entry are listed as "unused" on
stderr (a typo, or a string that no longer exists).

Run it only under the catalog lock, between two `make messages` (see docs/development.md).
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "src/refill/locale/zh_Hans/LC_MESSAGES/django.po"
CONTEXT_SEPARATOR = "\x04"


def entry_key(message) -> str:
    """The JSON key of a catalog entry: singular msgid, prefixed by its context and U+0004."""
    key = message.id if isinstance(message.id, str) else message.id[0]
    if message.context:
        return f"{message.context}{CONTEXT_SEPARATOR}{key}"
    return key


def translation(message, value, forms: int):
    """The msgstr for ``message`` from a JSON value (a string, or a list for plural forms)."""
    if isinstance(message.id, tuple):
        if isinstance(value, list):
            return (tuple(value) + (value[-1],) * forms)[:forms]
        return (value,) * forms
    if isinstance(value, list):
        return value[0]
    return value


def main(argv: list[str]) -> int:
    overwrite = "--overwrite" in argv
    paths = [arg for arg in argv if arg != "--overwrite"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    table = json.loads(Path(paths[0]).read_text(encoding="utf-8"))
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    used = set()
    for message in catalog:
        if not message.id:
            continue
        key = entry_key(message)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        done = all(strings) and not message.fuzzy
        if key in table:
            used.add(key)
            if done and not overwrite:
                continue
            message.string = translation(message, table[key], catalog.num_plurals)
            message.flags.discard("fuzzy")
            message.previous_id = []
        elif not done:
            missing.append(key)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for key in sorted(set(table) - used):
        print("unused:", key.replace(CONTEXT_SEPARATOR, " | "), file=sys.stderr)
    for key in missing:
        print("untranslated:", key.replace(CONTEXT_SEPARATOR, " | "))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
