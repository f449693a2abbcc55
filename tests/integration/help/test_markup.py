"""The article markup: what it supports, and that nothing an author types becomes live HTML."""

import pytest

from refill.help.markup import plain_text, render_markup, safe_url


def test_paragraphs_headings_lists_bold_and_links():
    text = (
        "First paragraph\nsame paragraph.\n\n## Steps\n1. Open **My lines**.\n2. Press [Renew](/lines/).\n\n"
        "- one\n- [docs](https://example.com/a?b=1&c=2)\n\nLast."
    )
    assert str(render_markup(text)) == (
        "<p>First paragraph<br>same paragraph.</p>\n<h2>Steps</h2>\n<ol>\n"
        '<li>Open <strong>My lines</strong>.</li>\n<li>Press <a href="/lines/">Renew</a>.</li>\n</ol>\n'
        "<ul>\n<li>one</li>\n"
        '<li><a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">docs</a></li>\n</ul>\n'
        "<p>Last.</p>"
    )


def test_chinese_text_is_kept_as_written():
    assert str(render_markup("## 续费\n点击 **续费**。")) == "<h2>续费</h2>\n<p>点击 <strong>续费</strong>。</p>"


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "**<svg onload=alert(1)>**",
        "## <iframe src=//evil.example>",
        "- <a href='javascript:alert(1)'>x</a>",
        '[x](/ok"onmouseover="alert(1))',
        "[<b onclick=alert(1)>x</b>](/lines/)",
        "</p><script>alert(1)</script><p>",
    ],
)
def test_no_html_from_the_author_ever_reaches_the_page(attack):
    html = str(render_markup(attack))
    for tag in ("<script", "<img", "<svg", "<iframe", "<b ", "<a href='", 'onmouseover="'):
        assert tag not in html
    assert "&lt;" in html or "&quot;" in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "//evil.example/path",
        "/\\evil.example",
        "http://example.com/",
        "https:/example.com",
        "https://",
        "mailto:someone@example.com",
        "java\tscript:alert(1)",
    ],
)
def test_links_go_only_to_this_site_or_https(url):
    assert not safe_url(url)
    html = str(render_markup(f"[click]({url})"))
    assert "<a " not in html
    assert "click" in html


@pytest.mark.parametrize("url", ["/lines/", "/help/reset-password/#top", "https://example.com/a?b=1"])
def test_safe_links_are_kept(url):
    assert safe_url(url)
    assert "<a href=" in str(render_markup(f"[here]({url})"))


def test_plain_text_drops_the_markup():
    text = "## Title\n1. Press **Renew** on [My lines](/lines/).\n- item\n\nEnd."
    assert plain_text(text) == "Title Press Renew on My lines. item End."
