"""What a reader of a page sees, for assertions that something is NOT on it.

A page carries random values in its markup (the CSRF token, idempotency keys, request ids), and
"1881" or "bob" can turn up inside one of them by chance. A negative check made on the text the
reader sees, not on the raw HTML, cannot fail that way."""

from __future__ import annotations

from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template"}:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template"} and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str | bytes) -> str:
    """The page's text without tags, attributes, scripts or styles, whitespace collapsed."""
    parser = _Text()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
