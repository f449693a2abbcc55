"""Support tests share: attachments kept in a temporary folder, a market and plan, customers
with lines, staff of each role, and small files of each kind."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from refill.customers.models import User
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
TEXT = "The app says: error 42 when I pay.\n错误代码 42\n".encode()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def attachments_dir(settings, tmp_path):
    folder = tmp_path / "support-attachments"
    settings.REFILL_SUPPORT_ATTACHMENTS_DIR = folder
    return folder


def stored_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def us():
    return make_market()


@pytest.fixture
def plan(us):
    return make_plan(us, "us-30day")


def staff_user(role: str, email: str | None = None) -> User:
    return make_staff(role, email or f"{role}-support@example.com")


def client_of(user) -> Client:
    client = Client()
    login(client, user)
    return client


@pytest.fixture
def alice(us, plan):
    """An English customer with a line, who allows email and SMS."""
    customer, user = make_customer("alice@example.com", language="en", tz="Asia/Shanghai")
    return customer, user, make_line(customer, us, plan)


@pytest.fixture
def li(us, plan):
    """A customer who reads Simplified Chinese, with a line."""
    customer, user = make_customer("li@example.com", language="zh-hans", tz="Asia/Shanghai")
    return customer, user, make_line(customer, us, plan)
