"""Props and resources as the policy pack receives them from the engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orgtrail_policies.policies import policies
from orgtrail_policies.props import as_list
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

from orgtrail.offline.policy_check import Verdict, level_and_properties
from orgtrail.offline.simulate import Resource

UNKNOWN_BOOL = UNKNOWN_BOOLEAN_VALUE
# The statement that makes a bucket TLS-only (and, bent, the base of malformed documents).
TLS_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
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


OPTIONS = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource(
    resource_type: str,
    name: str,
    props: dict[str, Any],
    property_dependencies: dict[str, list[PolicyResource]] | None = None,
    provider: Any = None,
) -> PolicyResource:
    return PolicyResource(
        resource_type,
        proxied(props),
        urn(resource_type, name),
        name,
        OPTIONS,
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


class NotApplicable(Exception):
    pass


class _ResourceArgs(ResourceValidationArgs):
    def not_applicable(self, reason: str | None = None) -> None:
        raise NotApplicable(reason)


class InProcessPack:
    """The pack's policies called in this process the way the SDK's analyzer calls them
    (every resource through the resource policies, then the stack through the stack policies,
    in the pack's order), with `RunningPack`'s configuration and verdicts.

    The corpus runs both ways: over gRPC it proves what the CLI sees; in process it is what
    mutation testing sees, since mutmut only records the calls made in its own process.
    """

    def __init__(self) -> None:
        self.config: Mapping[str, Any] = {}

    def configure(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def _settings(self, policy: Any) -> tuple[str, dict[str, Any]]:
        level, values = level_and_properties(self.config.get(policy.name, {}))
        return level or policy.enforcement_level.value, values

    def verdicts(self, resources: list[Resource]) -> list[Verdict]:
        found: list[Verdict] = []
        stack = _policy_resources(resources)
        every = policies()
        for policy in sorted(every, key=lambda p: not isinstance(p, ResourceValidationPolicy)):
            level, config = self._settings(policy)
            if level == "disabled":
                continue

            def report(message: str, urn: str | None = None, policy=policy, level=level) -> None:
                text = f"{policy.description}\n{message}" if message else policy.description
                found.append(Verdict(policy.name, level, text, urn or ""))

            if isinstance(policy, ResourceValidationPolicy):
                for r in resources:
                    if not r.custom:
                        continue
                    args = _ResourceArgs(
                        r.type, proxied(r.inputs), r.urn, r.name, OPTIONS, None, config
                    )
                    try:
                        policy.validate(args, report)
                    except NotApplicable:
                        pass
                    except UnknownValueError as error:  # the SDK's note, as over gRPC
                        report(f"can't run policy '{policy.name}' during preview: {error.message}")
            else:
                policy.validate(StackValidationArgs(stack, config), report)
        return found


def _policy_resources(resources: list[Resource]) -> list[PolicyResource]:
    """The stack as AnalyzeStack hands it over: outputs, providers, parents and dependencies."""
    by_urn = {
        r.urn: PolicyResource(
            r.type,
            proxied(r.outputs),
            r.urn,
            r.name,
            OPTIONS,
            PolicyProviderResource("", {}, r.provider.rsplit("::", 1)[0], "")
            if r.provider
            else None,
            None,
            [],
            {},
        )
        for r in resources
    }
    for r in resources:
        made = by_urn[r.urn]
        made.parent = by_urn.get(r.parent)
        made.dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
        made.property_dependencies = {
            key: [by_urn[u] for u in urns if u in by_urn]
            for key, urns in r.property_dependencies.items()
        }
    return list(by_urn.values())
