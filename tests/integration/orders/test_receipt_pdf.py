"""Receipt PDFs in the customer's language, with real CJK glyphs (checked by rasterising)."""

import io

import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone

from refill.orders.receipts import receipt_pdf
from tests.factories import login, make_customer, make_line, make_market, make_plan, renew

pytestmark = pytest.mark.django_db


def _paid_order(language: str):
    market = make_market()
    plan = make_plan(market, "p30", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    customer, user = make_customer(language=language)
    line = make_line(customer, market, plan, msisdn="+12025550143")
    order, _ = renew(line, plan, now=timezone.now())
    return order, user


def _text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    return "".join(page.get_textpage().get_text_range() for page in document)


def test_english_receipt_pdf_has_everything():
    order, _ = _paid_order("en")
    text = _text(receipt_pdf(order))
    for words in [
        "Receipt",
        order.receipt.display_number,
        "30-Day Plan",
        "$25.00",
        "VISA",
        "4242",
        "Refill Mobile",
        "+1 202-555-0143",
    ]:
        assert words in text, words
    assert "4242424242424242" not in text


def _ink(image, box) -> bytes:
    return image.crop(box).convert("L").point(lambda v: 0 if v > 200 else 255).tobytes()


def test_chinese_receipt_renders_real_glyphs():
    from weasyprint import HTML

    order, _ = _paid_order("zh-hans")
    pdf = receipt_pdf(order)
    text = _text(pdf)
    assert "收据" in text and "30天套餐" in text and order.receipt.display_number in text
    # Rasterise two different Chinese words in the receipt's font stack: with a CJK font they differ
    # and carry ink; with the font missing both would be the same empty .notdef boxes.
    style = 'font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; font-size: 48px'
    images = []
    for word in ("收据", "续费"):
        page = pypdfium2.PdfDocument(HTML(string=f"<p style='{style}'>{word}</p>").write_pdf())[0]
        images.append(page.render(scale=1).to_pil())
    box = (0, 0, 300, 140)
    first, second = (_ink(image, box) for image in images)
    assert first != second
    assert first.count(255) > 500 and second.count(255) > 500
    # and the receipt page itself has ink where its Chinese title is
    receipt_image = pypdfium2.PdfDocument(pdf)[0].render(scale=1).to_pil()
    assert _ink(receipt_image, (0, 0, 300, 120)).count(255) > 300


def test_receipt_pdf_download_is_owner_only(client):
    order, user = _paid_order("en")
    login(client, user)
    response = client.get(reverse("portal:order_receipt_pdf", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert order.receipt.display_number in _text(response.content)
    stranger_customer, stranger = make_customer()
    login(client, stranger)
    assert client.get(reverse("portal:order_receipt_pdf", args=[order.pk])).status_code == 404
    assert io  # keep the import used
