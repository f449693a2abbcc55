"""The help articles' small markup, rendered safely.

Supported: paragraphs (separated by a blank line), ``## `` headings, ``- `` and ``1. `` lists,
``**bold**`` and ``[text](url)`` links whose address is relative (``/...``) or ``https://``.
Everything the author typed is escaped before any tag is added, and the only tags ever written are
the ones below: no author's HTML reaches the page, whatever they type."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe

_HEADING = re.compile(r"^##\s+(.*)$")
_BULLET = re.compile(r"^-\s+(.*)$")
_NUMBERED = re.compile(r"^\d{1,3}[.)]\s+(.*)$")
# A link: text without brackets, an address without spaces, brackets or parentheses.
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Characters a browser drops or reads as a separator inside an address.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f\\<>\"'`]")


def safe_url(url: str) -> bool:
    """A relative address on this site (``/...``, never ``//host``) or an ``https://`` address."""
    if not url or _UNSAFE_IN_URL.search(url):
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and url.lower().startswith("https://")


def _bold(escaped: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def _inline(text: str) -> str:
    """One line of text: escaped, then bold and links added."""
    out: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        out.append(_bold(escape(text[position : match.start()])))
        label, url = match.group(1), match.group(2)
        if safe_url(url):
            rel = ' rel="noopener noreferrer"' if url.startswith("https://") else ""
            out.append(f'<a href="{escape(url)}"{rel}>{_bold(escape(label))}</a>')
        else:
            # Not an address we link to: the reader sees what was typed, as text.
            out.append(_bold(escape(match.group(0))))
        position = match.end()
    out.append(_bold(escape(text[position:])))
    return "".join(out)


def render_markup(text: str) -> SafeString:
    """The article body as HTML (see the module's docstring for what is supported)."""
    html: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None

    def end_paragraph() -> None:
        if paragraph:
            html.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def end_list() -> None:
        nonlocal list_tag
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = None

    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            end_paragraph()
            end_list()
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if heading:
            end_paragraph()
            end_list()
            html.append(f"<h2>{_inline(heading.group(1))}</h2>")
        elif bullet or numbered:
            end_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                end_list()
                html.append(f"<{tag}>")
                list_tag = tag
            html.append(f"<li>{_inline((bullet or numbered).group(1))}</li>")
        else:
            end_list()
            paragraph.append(line)
    end_paragraph()
    end_list()
    return mark_safe("\n".join(html))  # noqa: S308 - every piece of text above went through escape()


def plain_text(text: str) -> str:
    """The body without markup (for search and excerpts): headings, list marks and bold removed,
    links reduced to their text, lines joined."""
    lines = []
    for raw in (text or "").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        for pattern in (_HEADING, _BULLET, _NUMBERED):
            found = pattern.match(line)
            if found:
                line = found.group(1)
                break
        line = _LINK.sub(lambda match: match.group(1), line)
        lines.append(line.replace("**", ""))
    return " ".join(lines)
