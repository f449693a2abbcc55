"""Schemas more than one router takes."""

from __future__ import annotations

from ninja import Schema

from .types import CardDatePart


class CardIn(Schema):
    number: str
    exp_month: CardDatePart
    exp_year: CardDatePart
    cvc: str
    holder: str = ""
