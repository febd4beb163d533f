"""Validate a command's --json output against its committed schema (schema/<name>.schema.json)."""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator

from orgtrail.project import CHECKOUT


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((CHECKOUT / "schema" / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(name: str, document: object) -> list[str]:
    """Every way the document departs from the schema, each with where it is."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator(name).iter_errors(document), key=lambda e: list(e.path))
    ]


def conforming(name: str, printed: str) -> dict:
    """The document a command printed, after checking it is one JSON document that conforms."""
    document = json.loads(printed)
    found = problems(name, document)
    assert not found, f"{name} --json does not match schema/{name}.schema.json:\n" + "\n".join(
        found
    )
    return document
