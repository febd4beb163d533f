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

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


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


def _wildcard(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    # IAM wildcards are * and ?; fnmatch's [] classes must be taken literally.
    escaped = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, escaped)


def _substitute(pattern: str, request: Request) -> str | None:
    """Resolve ${...} policy variables; None when a variable has no value (the statement cannot match)."""
    missing = False

    def value_of(match: re.Match) -> str:
        nonlocal missing
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        values = request.context_values(name)
        if not values:
            missing = True
            return ""
        return values[0]

    resolved = _VARIABLE.sub(value_of, pattern)
    return None if missing else resolved


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
                account = request.principal_arn.split(":")[4]
                if (
                    value == account
                    or value.endswith(f":iam::{account}:root")
                    or value == request.principal_arn
                ):
                    return True
            elif kind == "Service":
                if request.service == value:
                    return True
            else:
                raise UnsupportedPolicy(f"unsupported principal type {kind!r}")
    return False


def _string_test(operator: str) -> tuple[bool, Any]:
    """(negated, test(policy_value, request_value))."""
    base = operator.removesuffix("IfExists")
    tests = {
        "StringEquals": lambda p, v: p == v,
        "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
        "StringLike": lambda p, v: _wildcard(p, v),
        "ArnEquals": lambda p, v: p == v,
        "ArnLike": lambda p, v: _wildcard(p, v),
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
        wants_absent = str(_as_list(expected)[0]).lower() == "true"
        return (actual is None) == wants_absent
    if_exists = operator.endswith("IfExists")
    negated, test = _string_test(operator)
    if actual is None:
        return if_exists or negated
    patterns = [
        p for p in (_substitute(str(e), request) for e in _as_list(expected)) if p is not None
    ]
    matched = any(test(pattern, value) for pattern in patterns for value in actual)
    return not matched if negated else matched


def _actions_match(patterns: Any, request: Request) -> bool:
    return any(_wildcard(a, request.action, case_sensitive=False) for a in _as_list(patterns))


def _resources_match(patterns: Any, request: Request) -> bool:
    resources = [_substitute(r, request) for r in _as_list(patterns)]
    return any(r is not None and _wildcard(r, request.resource) for r in resources)


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


def evaluate(policy: Mapping[str, Any], request: Request) -> str:
    """ALLOW, DENY (an explicit Deny matched) or IMPLICIT_DENY."""
    decision = IMPLICIT_DENY
    for statement in _as_list(policy.get("Statement")):
        if _statement_applies(statement, request):
            if statement.get("Effect") == "Deny":
                return DENY
            decision = ALLOW
    return decision


def allows(policy: Mapping[str, Any], request: Request) -> bool:
    return evaluate(policy, request) == ALLOW
