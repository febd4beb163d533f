"""Props and resources as the policy pack receives them from the engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orgtrail_policies.props import as_list
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from orgtrail.simulate import Resource

UNKNOWN_BOOL = UNKNOWN_BOOLEAN_VALUE
UNKNOWN_STRING = UNKNOWN_STRING_VALUE


def proxied(props: dict[str, Any]) -> Any:
    """Read-only, unknown-checking props, numbers as floats: what validators are handed."""
    return unknown_checking_proxy(deserialize_properties(_floats(props)))


def _floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::app::{resource_type}::{name}"


def resource(
    resource_type: str,
    name: str,
    props: dict[str, Any],
    property_dependencies: dict[str, list[PolicyResource]] | None = None,
    provider: Any = None,
) -> PolicyResource:
    options = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(
        resource_type,
        proxied(props),
        urn(resource_type, name),
        name,
        options,
        provider,
        None,
        [],
        property_dependencies or {},
    )


def declared(resource_type: str, name: str, props: dict[str, Any], **options: Any) -> Resource:
    """A resource as a program would register it, inputs and outputs alike, for the pack's protocol."""
    return Resource(
        urn=urn(resource_type, name),
        type=resource_type,
        name=name,
        custom=True,
        id=name,
        inputs=props,
        outputs=props,
        **options,
    )


def unconditioned_public_allows(policy: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Allow statements granting to everyone (`*` or AWS `*`) with no condition at all."""
    for statement in as_list(policy.get("Statement")):
        principal = statement.get("Principal")
        public = principal == "*" or (
            isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))
        )
        if statement.get("Effect") == "Allow" and public and not statement.get("Condition"):
            yield statement
