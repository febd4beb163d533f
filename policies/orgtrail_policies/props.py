"""Reading resource properties the way the engine sends them.

Props are read-only Mappings (proxies that raise UnknownValueError on an
unknown preview value), lists are Sequences, numbers are floats, and the same
setting has different shapes across pulumi-aws v6/v7, aws-native and the
legacy inline forms. These helpers tolerate missing keys and odd types;
unknown values still raise, so the caller decides what "unknown" means.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

ENABLED_STRINGS = ("true", "enabled")


def get(props: Any, *path: str) -> Any:
    """props[path[0]][path[1]]..., or None when any step is missing or not a Mapping.

    Raises Undecided where the way passes a value a preview does not know (`settled`)."""
    value = props
    for step in path:
        if isinstance(value, Pending):
            raise Undecided(value)
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    if isinstance(value, Pending):
        raise Undecided(value)
    return value


def items(value: Any) -> Iterator[Any]:
    """The elements of a Sequence (one element for a lone Mapping; none otherwise)."""
    if isinstance(value, Pending):
        raise Undecided(value)
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
    for value in found:
        if isinstance(value, Pending):
            raise Undecided(value)
    return found


def is_on(value: Any) -> bool:
    """True, "true" and "Enabled" all mean on (providers disagree on the type)."""
    if isinstance(value, Pending):
        raise Undecided(value)
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


# The IAM JSON policy grammar (IAM user guide, "Grammar of the IAM JSON policy language" and
# "IAM JSON policy elements reference"): the elements a resource policy may have, and the
# shape of each. AWS rejects a document with any other element or shape (MalformedPolicy),
# so the pack does too, naming what is wrong, instead of guessing what was meant.
DOCUMENT_ELEMENTS = frozenset({"Version", "Id", "Statement"})
STATEMENT_ELEMENTS = frozenset(
    {
        "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
        "Resource", "NotResource", "Condition",
    }
)  # fmt: skip
EFFECTS = ("Allow", "Deny")


def policy_document(value: Any) -> dict | None:
    """A bucket policy as a dict, whether sent as JSON text or as an object; None when absent.

    Raises MalformedPolicy naming the first element that the policy grammar does not allow."""
    if isinstance(value, Pending):
        raise Undecided(value)
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
    unknown = sorted(set(document) - DOCUMENT_ELEMENTS)
    if unknown:
        raise MalformedPolicy(
            f"has the element {unknown[0]!r}, which is not one of {', '.join(sorted(DOCUMENT_ELEMENTS))}"
        )
    statements = document.get("Statement")
    if isinstance(statements, dict):
        document["Statement"] = [statements]
    elif not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise MalformedPolicy("has no list of Statement objects")
    for number, statement in enumerate(document["Statement"], 1):
        problem = _statement_problem(statement)
        if problem:
            sid = statement.get("Sid")
            where = f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement {number}"
            raise MalformedPolicy(f"has a {where} whose {problem}")
    return document


def _strings(value: Any) -> bool:
    """A string or a non-empty list of strings: the shape of Action, Resource and their Nots."""
    if isinstance(value, str):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _statement_problem(statement: Mapping[str, Any]) -> str | None:
    unknown = sorted(set(statement) - STATEMENT_ELEMENTS)
    if unknown:
        return f"element {unknown[0]!r} is not one of {', '.join(sorted(STATEMENT_ELEMENTS))}"
    if statement.get("Effect") not in EFFECTS:
        return f"Effect {statement.get('Effect')!r} is not Allow or Deny"
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in statement and not _strings(statement[element]):
            return f"{element} is not a string or a list of strings"
    for element in ("Principal", "NotPrincipal"):
        if element not in statement:
            continue
        principal = statement[element]
        if principal == "*":
            continue
        if (
            not isinstance(principal, dict)
            or not principal
            or not all(isinstance(k, str) and _strings(v) for k, v in principal.items())
        ):
            return (
                f'{element} is not "*" or a map of principal types to strings or lists of strings'
            )
    condition = statement.get("Condition", {})
    if not isinstance(condition, dict):
        return "Condition is not a map of operators"
    for operator, tests in condition.items():
        if not isinstance(tests, dict) or not tests:
            return f"Condition operator {operator!r} is not a map of condition keys"
        for key, values in tests.items():
            if not (
                isinstance(values, str | bool | int | float)
                or (
                    isinstance(values, list)
                    and all(isinstance(v, str | bool | int | float) for v in values)
                )
            ):
                return f"Condition {operator} {key!r} is not a value or a list of values"
    return None


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


# --- what a preview knows ------------------------------------------------------------------


class Pending:
    """A value set from another resource's output that a preview does not know yet."""

    def __init__(self, key: str, sources: Sequence[str]):
        self.key, self.sources = key, tuple(sources)

    def __repr__(self) -> str:
        return f"Pending({self.key!r}, from {', '.join(self.sources)})"


class Undecided(Exception):
    """A rule's verdict depends on a value the preview does not know."""

    def __init__(self, pending: Pending):
        super().__init__(
            f"{pending.key} comes from {', '.join(pending.sources)}, whose outputs are not known "
            "until it is created"
        )
        self.pending = pending


def settled(resource: Any) -> dict[str, Any]:
    """A stack resource's properties as plain data, each unknown replaced by what it means.

    In a preview, AnalyzeStack receives each created or replaced resource's *planned* outputs:
    pulumi/pulumi pkg/resource/deploy/step.go (CreateStep.Apply calls the provider's Create
    with Preview set to the dry run; UpdateStep.Apply likewise, SameStep keeps the old
    outputs) and step_generator.go (AnalyzeResources sends `v.Outputs` of every resource in
    `news`, with its PropertyDependencies). A bridged provider plans an optional, computed
    attribute the program left unset as unknown (object_lock_enabled, bucket, acl, policy... of
    aws_s3_bucket are Optional+Computed in terraform-provider-aws). An input set from an output
    not yet known is unknown too, and then the input's property dependencies name its source.

    So: an unknown with no property dependency was not asked for and is dropped (the provider
    decides it, as if left out); one with dependencies becomes `Pending`, which `get` turns into
    `Undecided` when a rule reads it.
    """
    raw = resource.props
    dependencies = getattr(resource, "property_dependencies", {}) or {}
    result: dict[str, Any] = {}
    for key in raw:
        sources = [d.name for d in dependencies.get(key, []) if d is not None]
        value = _settle(lambda key=key: raw[key], Pending(key, sources) if sources else None)
        if value is not _DROP:
            result[key] = value
    return result


_DROP = object()  # an unknown nobody asked for: left out, as if the program had not set it


def _settle(read: Callable[[], Any], pending: Pending | None) -> Any:
    """The value `read` returns, settled all the way down; `pending` stands for its unknowns
    (None: they were not asked for)."""
    try:
        value = read()
    except UnknownValueError:
        return pending if pending is not None else _DROP
    if isinstance(value, Mapping):
        settled_map = {}
        for key in value:
            item = _settle(lambda key=key: value[key], pending)
            if item is not _DROP:
                settled_map[key] = item
        return settled_map
    if isinstance(value, Sequence) and not isinstance(value, str):
        elements = [_settle(lambda i=i: value[i], pending) for i in range(len(value))]
        return [element for element in elements if element is not _DROP]
    return value
