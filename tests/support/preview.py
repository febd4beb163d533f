"""Stacks as a real `pulumi preview` hands them to a policy pack.

What the engine sends (pulumi/pulumi, pkg/resource/deploy):

- `Analyze`, before each resource's step (step_generator.go, analyzeAll): the resource's
  inputs after the provider's Check (defaults and auto-names filled in; a value from an
  output not yet known is unknown), with its provider (URN, type, name, inputs) and parent.
  No property dependencies.
- `AnalyzeStack`, once every step has run (deployment_executor.go calls
  stepGen.AnalyzeResources; step_generator.go sends `v.Outputs` of every resource in
  `news`), with parent, dependencies, property dependencies and provider. In a preview a
  created or replaced resource's outputs are the provider's *planned* outputs (step.go,
  CreateStep.Apply: Create with Preview set to the dry run), an updated one's the planned
  outputs of its Update, an unchanged one's its old outputs (SameStep.Apply). The root
  `pulumi:pulumi:Stack` and each provider resource are in `news` too.

A bridged provider plans each Optional+Computed attribute the program left unset as unknown:
for aws_s3_bucket (terraform-provider-aws internal/service/s3/bucket.go) `bucket` is
auto-named by Pulumi, and object_lock_enabled, acl, policy, grant, versioning, logging,
server_side_encryption_configuration, object_lock_configuration... are computed, as are
arn, id, region and the domain names. aws-native plans read-only properties (arn,
domainName...) as unknown and leaves unset writable ones out.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE

from orgtrail.offline.simulate import Resource
from tests.support.policy import urn

STACK_URN = "urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev"
PROVIDERS = {
    "aws": "urn:pulumi:dev::app::pulumi:providers:aws::default_7_0_0",
    "aws-native": "urn:pulumi:dev::app::pulumi:providers:aws-native::default_1_0_0",
    "random": "urn:pulumi:dev::app::pulumi:providers:random::default_4_0_0",
}
UNKNOWN = UNKNOWN_STRING_VALUE
PROVIDER_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a provider's id is unknown in a preview

# Attributes each resource type computes when the program leaves them unset (planned unknown).
COMPUTED: dict[str, dict[str, Any]] = {
    "aws:s3/bucket:Bucket": {
        "arn": UNKNOWN_STRING_VALUE,
        "id": UNKNOWN_STRING_VALUE,
        "bucketDomainName": UNKNOWN_STRING_VALUE,
        "region": UNKNOWN_STRING_VALUE,
        "objectLockEnabled": UNKNOWN_BOOLEAN_VALUE,
        "acl": UNKNOWN_STRING_VALUE,
        "policy": UNKNOWN_STRING_VALUE,
        "grants": UNKNOWN_STRING_VALUE,
        "versioning": UNKNOWN_STRING_VALUE,
        "logging": UNKNOWN_STRING_VALUE,
        "serverSideEncryptionConfiguration": UNKNOWN_STRING_VALUE,
        "objectLockConfiguration": UNKNOWN_STRING_VALUE,
    },
    "aws:s3/bucketV2:BucketV2": {
        "arn": UNKNOWN_STRING_VALUE,
        "id": UNKNOWN_STRING_VALUE,
        "objectLockEnabled": UNKNOWN_BOOLEAN_VALUE,
        "acl": UNKNOWN_STRING_VALUE,
        "policy": UNKNOWN_STRING_VALUE,
        "grants": UNKNOWN_STRING_VALUE,
        "versionings": UNKNOWN_STRING_VALUE,
        "loggings": UNKNOWN_STRING_VALUE,
        "serverSideEncryptionConfigurations": UNKNOWN_STRING_VALUE,
        "objectLockConfiguration": UNKNOWN_STRING_VALUE,
    },
    "aws-native:s3:Bucket": {
        "arn": UNKNOWN_STRING_VALUE,
        "domainName": UNKNOWN_STRING_VALUE,
        "regionalDomainName": UNKNOWN_STRING_VALUE,
    },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {"id": UNKNOWN_STRING_VALUE},
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": {
        "id": UNKNOWN_STRING_VALUE,
        "objectLockEnabled": "Enabled",  # Default "Enabled": a default is planned as known
    },
    "aws:s3/accessPoint:AccessPoint": {
        "arn": UNKNOWN_STRING_VALUE,
        "id": UNKNOWN_STRING_VALUE,
        "networkOrigin": UNKNOWN_STRING_VALUE,
        "policy": UNKNOWN_STRING_VALUE,
    },
    "random:index/randomPet:RandomPet": {"id": UNKNOWN_STRING_VALUE},
}


def provider_of(resource_type: str) -> str:
    return f"{PROVIDERS[resource_type.split(':', 1)[0]]}::{PROVIDER_ID}"


def planned(
    resource_type: str,
    name: str,
    inputs: dict[str, Any],
    from_outputs: dict[str, Resource | tuple[Resource, Any]] | None = None,
) -> Resource:
    """A resource to be created, as a preview sends it.

    `from_outputs`: inputs set from another resource's output, not known yet (unknown in both
    the inputs and the planned outputs, and named by the property dependencies); a
    (resource, value) pair for a value only partly unknown."""
    sources = {
        key: given[0] if isinstance(given, tuple) else given
        for key, given in (from_outputs or {}).items()
    }
    values = {
        key: given[1] if isinstance(given, tuple) else UNKNOWN_STRING_VALUE
        for key, given in (from_outputs or {}).items()
    }
    given = {**inputs, **values}
    computed = {k: v for k, v in COMPUTED.get(resource_type, {}).items() if k not in given}
    if resource_type.startswith("aws-native:") and "id" not in given:
        computed = {**computed, "id": UNKNOWN_STRING_VALUE}
    return Resource(
        urn=urn(resource_type, name),
        type=resource_type,
        name=name,
        custom=True,
        id="",
        inputs=given,
        outputs={**given, **computed},
        parent=STACK_URN,
        provider=provider_of(resource_type),
        dependencies=sorted({r.urn for r in sources.values()}),
        property_dependencies={key: [source.urn] for key, source in sources.items()},
    )


def stack(*resources: Resource) -> list[Resource]:
    """The whole of `news`: the root stack, each provider used, and the resources."""
    root = Resource(
        urn=STACK_URN, type="pulumi:pulumi:Stack", name="app-dev", custom=False, id="",
        inputs={}, outputs={},
    )  # fmt: skip
    providers = [
        Resource(
            urn=PROVIDERS[package],
            type=f"pulumi:providers:{package}",
            name=PROVIDERS[package].rsplit("::", 1)[1],
            custom=True,
            id=PROVIDER_ID,
            inputs={"region": "eu-west-1"} if package != "random" else {},
            outputs={"region": "eu-west-1"} if package != "random" else {},
        )
        for package in sorted({r.type.split(":", 1)[0] for r in resources})
    ]
    return [root, *providers, *resources]
