"""Reading resource properties the way the engine sends them.

Props are read-only Mappings (proxies that raise UnknownValueError on an
unknown preview value), lists are Sequences, numbers are floats, and the same
setting has different shapes across pulumi-aws v6/v7, aws-native and the
legacy inline forms. These helpers tolerate missing keys and odd types;
unknown values still raise, so the caller decides what "unknown" means.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

ENABLED_STRINGS = ("true", "enabled")


def get(props: Any, *path: str) -> Any:
    """props[path[0]][path[1]]..., or None when any step is missing or not a Mapping."""
    value = props
    for step in path:
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def items(value: Any) -> Iterator[Any]:
    """The elements of a Sequence (one element for a lone Mapping; none otherwise)."""
    if isinstance(value, Mapping):
        yield value
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index in range(len(value)):
            yield value[index]


def each(props: Any, *names: str) -> list[Any]:
    """Every value found along `names`, whatever shape each step has.

    The same setting arrives singular and as a Mapping (pulumi-aws v7 and the
    legacy inline forms: `serverSideEncryptionConfiguration.rule`) or plural
    and as a list (v6 `BucketV2`: `serverSideEncryptionConfigurations[].rules[]`):
    each step reads `name` and `name + "s"`, a Mapping or a list of them.
    """
    found = [props]
    for name in names:
        following = []
        for value in found:
            for key in (name, f"{name}s"):
                step = get(value, key)
                if isinstance(step, Mapping) or (
                    isinstance(step, Sequence) and not isinstance(step, str)
                ):
                    following.extend(items(step))
                elif step is not None:
                    following.append(step)
        found = following
    return found


def is_on(value: Any) -> bool:
    """True, "true" and "Enabled" all mean on (providers disagree on the type)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ENABLED_STRINGS


def plain(value: Any) -> Any:
    """A proxied value as plain dicts and lists (unknowns still raise)."""
    if isinstance(value, Mapping):
        return {key: plain(value[key]) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(value[index]) for index in range(len(value))]
    return value


class MalformedPolicy(ValueError):
    pass


def policy_document(value: Any) -> dict | None:
    """A bucket policy as a dict, whether sent as JSON text or as an object; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise MalformedPolicy(
                f"is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})"
            ) from None
    document = plain(value)
    if not isinstance(document, dict):
        raise MalformedPolicy("is not a JSON object")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        document["Statement"] = [statements]
    elif not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise MalformedPolicy("has no list of Statement objects")
    return document


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]
