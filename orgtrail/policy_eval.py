"""A small evaluator of IAM resource policies (bucket and key policies).

It answers "would this policy allow this request?" the way AWS evaluates a
single resource policy: an explicit Deny wins, then any Allow, otherwise the
request is implicitly denied. It supports what org-trail's policies and the
checks on live policies need: Principal (`*`, AWS accounts and ARNs,
services), NotPrincipal, Action/NotAction and Resource/NotResource with
wildcards, policy variables such as `${aws:PrincipalAccount}`, and the
String, Arn, Bool and Null condition operators (with IfExists). Anything
else raises rather than guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
# The elements of the IAM JSON policy grammar (IAM user guide, "Grammar of the IAM JSON policy
# language"): AWS refuses a policy with any other, so an unknown one here is a broken document.
_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_VERSIONS = ("2012-10-17", "2008-10-17")


@dataclass(frozen=True)
class Request:
    """Who asks (`service` or `principal_arn`), for what, on which resource, in what context."""

    action: str
    resource: str
    service: str | None = None
    principal_arn: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    def context_values(self, key: str) -> list[str] | None:
        for name, value in self.context.items():
            if name.lower() == key.lower():
                return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        return None


class UnsupportedPolicy(ValueError):
    pass


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _wild(text: str) -> str:
    """An IAM pattern as a regular expression: `*` any run of characters, `?` any one."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def _substitute(pattern: str, request: Request, like: bool) -> str | None:
    """Resolve ${...} policy variables; None when a variable has no value (the statement
    cannot match). With `like`, the result is a regular expression in which the pattern's
    wildcards stay wildcards and what the variables stand for is literal: `${*}`, `${?}` and
    `${$}` are the characters themselves (IAM user guide, "Special characters")."""
    literal, wild = (re.escape, _wild) if like else (str, str)
    parts, position = [], 0
    for match in _VARIABLE.finditer(pattern):
        name = match.group(1)
        values = [name] if name in ("*", "?", "$") else request.context_values(name)
        if not values:
            return None
        parts += [wild(pattern[position : match.start()]), literal(values[0])]
        position = match.end()
    return "".join([*parts, wild(pattern[position:])])


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise UnsupportedPolicy(f"unsupported Principal {principal!r}")
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "AWS":
                if value == "*":
                    return True
                if request.principal_arn is None:
                    continue
                _, partition, _, _, account, *_ = request.principal_arn.split(":")
                if value in (
                    account,
                    f"arn:{partition}:iam::{account}:root",
                    request.principal_arn,
                ):
                    return True
            elif kind == "Service":
                if request.service == value:
                    return True
            else:
                raise UnsupportedPolicy(f"unsupported principal type {kind!r}")
    return False


def _like(regex: str, value: str) -> bool:
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _string_test(operator: str) -> tuple[bool, Any]:
    """(negated, test(policy_value, request_value)); a test named in LIKE takes a regex."""
    base = operator.removesuffix("IfExists")
    tests = {
        "StringEquals": lambda p, v: p == v,
        "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
        "StringLike": _like,
        "ArnEquals": lambda p, v: p == v,
        "ArnLike": _like,
        "Bool": lambda p, v: p.lower() == v.lower(),
    }
    negations = {
        "StringNotEquals": "StringEquals",
        "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
        "StringNotLike": "StringLike",
        "ArnNotEquals": "ArnEquals",
        "ArnNotLike": "ArnLike",
    }
    if base in negations:
        return True, tests[negations[base]]
    if base in tests:
        return False, tests[base]
    raise UnsupportedPolicy(f"unsupported condition operator {operator!r}")


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    actual = request.context_values(key)
    if operator == "Null":
        wanted = str(_as_list(expected)[0]).lower()
        if wanted not in ("true", "false"):
            raise UnsupportedPolicy(f"Null takes true or false, not {wanted!r}")
        wants_absent = wanted == "true"
        return (actual is None) == wants_absent
    if_exists = operator.endswith("IfExists")
    negated, test = _string_test(operator)
    if actual is None:
        return if_exists or negated
    like = test is _like
    resolved = (_substitute(str(e), request, like) for e in _as_list(expected))
    patterns = [p for p in resolved if p is not None]
    matched = any(test(pattern, value) for pattern in patterns for value in actual)
    return not matched if negated else matched


def _actions_match(patterns: Any, request: Request) -> bool:
    # Action names are case-insensitive (IAM user guide, "IAM JSON policy elements: Action").
    return any(re.fullmatch(_wild(a), request.action, re.IGNORECASE) for a in _as_list(patterns))


def _resources_match(patterns: Any, request: Request) -> bool:
    resources = [_substitute(r, request, like=True) for r in _as_list(patterns)]
    return any(r is not None and _like(r, request.resource) for r in resources)


def _statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    # NotPrincipal, NotAction and NotResource match everything their list does not name
    # (IAM user guide, "IAM JSON policy elements").
    if "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"], request):
            return False
    elif not _principal_matches(statement.get("Principal", "*"), request):
        return False
    if "NotAction" in statement:
        if _actions_match(statement["NotAction"], request):
            return False
    elif not _actions_match(statement.get("Action"), request):
        return False
    if "NotResource" in statement:
        if _resources_match(statement["NotResource"], request):
            return False
    # A role's trust policy has no Resource: the role itself is the resource.
    elif not _resources_match(statement.get("Resource", "*"), request):
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, expected in tests.items():
            if not _condition_holds(operator, key, expected, request):
                return False
    return True


def _check_grammar(policy: Mapping[str, Any]) -> None:
    for element in policy:
        if element not in _POLICY_ELEMENTS:
            raise UnsupportedPolicy(f"unknown policy element {element!r}")
    # Without a Version, AWS reads a policy as 2008-10-17, in which ${...} is literal text.
    version = policy.get("Version", "2008-10-17")
    if version not in _VERSIONS:
        raise UnsupportedPolicy(f"unknown policy Version {version!r}")
    if version != "2012-10-17" and "${" in json.dumps(policy):
        raise UnsupportedPolicy("policy variables need Version 2012-10-17")
    for statement in _as_list(policy.get("Statement")):
        for element in statement:
            if element not in _STATEMENT_ELEMENTS:
                raise UnsupportedPolicy(f"unknown statement element {element!r}")
        if statement.get("Effect") not in (ALLOW, DENY):
            raise UnsupportedPolicy(
                f"Effect must be Allow or Deny, not {statement.get('Effect')!r}"
            )


def evaluate(policy: Mapping[str, Any], request: Request) -> str:
    """ALLOW, DENY (an explicit Deny matched) or IMPLICIT_DENY."""
    _check_grammar(policy)
    decision = IMPLICIT_DENY
    for statement in _as_list(policy.get("Statement")):
        if _statement_applies(statement, request):
            if statement.get("Effect") == "Deny":
                return DENY
            decision = ALLOW
    return decision


def allows(policy: Mapping[str, Any], request: Request) -> bool:
    return evaluate(policy, request) == ALLOW
