"""Fill untranslated or fuzzy entries of the zh_Hans catalog from a JSON file of msgid -> msgstr.

    .venv/bin/python tools/po_fill.py translations.json
Entries not in the file are listed so nothing is silently left untranslated."""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "src/refill/locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> int:
    table = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings) and not message.fuzzy:
            continue
        if key in table:
            value = table[key]
            message.string = (value,) if isinstance(message.id, tuple) else value
            message.flags.discard("fuzzy")
            message.previous_id = []
        else:
            missing.append(key)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for key in missing:
        print("untranslated:", key)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
