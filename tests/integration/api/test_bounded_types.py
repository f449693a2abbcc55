"""Every number and moment a request may carry is bounded (refill.api.types): a bare ``int``,
``Decimal`` or ``datetime`` in an input schema, path or query is how 1e400, 2**63 and year 9999
once reached the database as server errors (issue 24, item 3). This fails on a new bare one."""

import types
import typing
from datetime import datetime
from decimal import Decimal

import annotated_types
from pydantic import BaseModel

from refill.api.v1 import api


def unbounded(model: type[BaseModel], where: str):
    for name, field in model.model_fields.items():
        yield from _check(field.annotation, field.metadata, f"{where}.{name}")


def _check(annotation, metadata, where: str):
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:  # a pydantic Field() carries its constraints in its own metadata
            metadata = [*metadata, *getattr(item, "metadata", [item])]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for argument in typing.get_args(annotation):
            yield from _check(argument, metadata, where)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from unbounded(annotation, where)
    elif annotation is bool:
        return
    elif annotation is int:
        kinds = {type(m) for m in metadata}
        if not ({annotated_types.Ge, annotated_types.Gt} & kinds and {annotated_types.Le, annotated_types.Lt} & kinds):
            yield where
    elif annotation is Decimal:
        if not any(getattr(m, "max_digits", None) and getattr(m, "decimal_places", None) for m in metadata):
            yield where
    elif annotation is datetime:
        if not any(callable(getattr(m, "func", None)) for m in metadata):
            yield where


def test_every_number_and_moment_a_request_carries_is_bounded():
    found, checked = [], 0
    for _prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for model in operation.signature.models:
                    checked += 1
                    found += list(unbounded(model, path))
    assert checked > 20
    assert found == []
