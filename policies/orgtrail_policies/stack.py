"""Stack-level rules: settings that live in separate resources, correlated with their bucket.

A bucket's public access block, versioning, encryption, lock configuration,
policy and logging are separate resources in pulumi-aws. Each is matched to
its bucket first by property dependency (its `bucket` input came from the
bucket's output) and otherwise by bucket name, through dictionaries built
once per stack: linear in the number of resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

from orgtrail_policies.buckets import (
    ACCOUNT_PUBLIC_ACCESS_BLOCK,
    BLOCK_SETTINGS,
    BUCKET_TYPES,
    NATIVE_BUCKET,
    PUBLIC_ACCESS_BLOCK,
    describe_bucket,
    enforces_tls,
    object_lock_problems,
)
from orgtrail_policies.props import MalformedPolicy, each, get, is_on, policy_document

# Each kind of bucket setting, under its pulumi-aws v6 and v7 type names.
PART_TYPES: dict[str, str] = {
    PUBLIC_ACCESS_BLOCK: "public_access_block",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "versioning",
    "aws:s3/bucketVersioning:BucketVersioning": "versioning",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "encryption",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "encryption",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": "object_lock",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "object_lock",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws-native:s3:BucketPolicy": "policy",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "logging",
    "aws:s3/bucketLogging:BucketLogging": "logging",
}
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@dataclass
class Bucket:
    resource: PolicyResource
    parts: dict[str, list[PolicyResource]] = field(default_factory=dict)
    # Receives server access logs: S3 then requires SSE-S3 and no default retention.
    access_log_target: bool = False

    @property
    def props(self) -> Mapping[str, Any]:
        return self.resource.props

    def part(self, kind: str) -> list[PolicyResource]:
        return self.parts.get(kind, [])

    @property
    def label(self) -> str:
        return describe_bucket(self.resource.name, self.props)


def _known(read: Callable[[], Any], default: Any = None) -> Any:
    """A value, or `default` when it is unknown during preview."""
    try:
        return read()
    except UnknownValueError:
        return default


def _bucket_names(resource: PolicyResource) -> list[str]:
    names = [
        _known(lambda key=key: get(resource.props, key)) for key in ("bucket", "bucketName", "id")
    ]
    return [name for name in names if isinstance(name, str) and name]


class BucketIndex:
    """Every bucket of a stack with the resources that configure it."""

    def __init__(self, resources: Iterable[PolicyResource]):
        self.buckets: dict[str, Bucket] = {}
        by_name: dict[str, Bucket] = {}
        parts: list[tuple[str, PolicyResource]] = []
        # Providers (None: the default one) whose account has a complete account-level block.
        self.blocked_providers: set[str | None] = set()
        for resource in resources:
            if resource.resource_type in BUCKET_TYPES:
                bucket = Bucket(resource)
                self.buckets[resource.urn] = bucket
                for name in _bucket_names(resource):
                    by_name.setdefault(name, bucket)
            elif resource.resource_type in PART_TYPES:
                parts.append((PART_TYPES[resource.resource_type], resource))
            elif resource.resource_type == ACCOUNT_PUBLIC_ACCESS_BLOCK and all(
                _known(lambda s=setting, r=resource: is_on(get(r.props, s)), False)
                for setting in BLOCK_SETTINGS
            ):
                self.blocked_providers.add(_provider_urn(resource))

        def owner(resource: PolicyResource, prop: str) -> Bucket | None:
            for dependency in resource.property_dependencies.get(prop, []):
                if dependency.urn in self.buckets:
                    return self.buckets[dependency.urn]
            name = _known(lambda: get(resource.props, prop))
            return by_name.get(name) if isinstance(name, str) else None

        for kind, resource in parts:
            bucket = owner(resource, "bucket")
            if bucket is not None:
                bucket.parts.setdefault(kind, []).append(resource)
            if kind == "logging":
                target = owner(resource, "targetBucket")
                if target is not None:
                    target.access_log_target = True
        for bucket in self.buckets.values():
            targets = _known(
                lambda b=bucket: [
                    *each(b.props, "logging", "targetBucket"),
                    *each(b.props, "loggingConfiguration", "destinationBucketName"),
                ],
                [],
            )
            for name in targets:
                target = by_name.get(name) if isinstance(name, str) else None
                if target is not None:
                    target.access_log_target = True

    def __iter__(self):
        return iter(self.buckets.values())

    def account_block_covers(self, bucket: Bucket) -> bool:
        """An account-level block with all four settings, through the same provider, covers the bucket."""
        return _provider_urn(bucket.resource) in self.blocked_providers


def _provider_urn(resource: PolicyResource) -> str | None:
    return resource.provider.urn if resource.provider is not None else None


# --- the checks: each returns a problem for a bucket, or None -------------------------

ACCESS_LOG_TARGET_REASON = (
    "receives server access logs: S3 cannot deliver them to a bucket with Object Lock "
    "(S3 user guide, Object Lock considerations), so no lock is asked of it; it must still "
    "be private, blocked and TLS-only"
)


def missing_object_lock(index: BucketIndex, bucket: Bucket) -> str | None:
    """Object Lock, except on the one kind of bucket S3 forbids to lock."""
    if bucket.access_log_target:
        return None
    problems = object_lock_problems(
        bucket.resource.resource_type, bucket.props, bucket.resource.name
    )
    return problems[0] if problems else None


def unlocked_access_log_target(bucket: Bucket) -> str | None:
    """Why an unlocked bucket is let through: it is the destination of a logging configuration."""
    if bucket.access_log_target and object_lock_problems(
        bucket.resource.resource_type, bucket.props, bucket.resource.name
    ):
        return ACCESS_LOG_TARGET_REASON
    return None


def missing_public_access_block(index: BucketIndex, bucket: Bucket) -> str | None:
    if bucket.resource.resource_type == NATIVE_BUCKET:
        return None  # inline publicAccessBlockConfiguration, checked per resource
    if bucket.part("public_access_block") or index.account_block_covers(bucket):
        return None
    return (
        f"Bucket {bucket.label} has no public access block. Add an aws.s3.BucketPublicAccessBlock "
        f"for it with {', '.join(BLOCK_SETTINGS)} all true (or an account-level block through the same provider)."
    )


def _default_retention(bucket: Bucket) -> bool:
    # Inline on the bucket (v6 `rules[].defaultRetentions[]`, v7/legacy and aws-native singular).
    if each(bucket.props, "objectLockConfiguration", "rule", "defaultRetention"):
        return True
    return any(each(part.props, "rule", "defaultRetention") for part in bucket.part("object_lock"))


def missing_default_retention(index: BucketIndex, bucket: Bucket) -> str | None:
    if bucket.access_log_target or _default_retention(bucket):
        return None
    return (
        f"Bucket {bucket.label} has no Object Lock default retention, so objects are written unlocked. "
        "Add an aws.s3.BucketObjectLockConfiguration with rule.defaultRetention (mode and days)."
    )


def _algorithms(bucket: Bucket) -> list[str]:
    default = ("applyServerSideEncryptionByDefault", "sseAlgorithm")
    found = each(bucket.props, "serverSideEncryptionConfiguration", "rule", *default)
    for part in bucket.part("encryption"):
        found += each(part.props, "rule", *default)
    found += each(
        bucket.props,
        "bucketEncryption",
        "serverSideEncryptionConfiguration",
        "serverSideEncryptionByDefault",
        "sseAlgorithm",
    )
    return [algorithm for algorithm in found if isinstance(algorithm, str)]


def missing_kms_encryption(index: BucketIndex, bucket: Bucket) -> str | None:
    if bucket.access_log_target or any(a in KMS_ALGORITHMS for a in _algorithms(bucket)):
        return None
    return (
        f"Bucket {bucket.label} does not encrypt with SSE-KMS by default. Add an "
        "aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, a customer key and bucketKeyEnabled."
    )


def missing_versioning(index: BucketIndex, bucket: Bucket) -> str | None:
    props = bucket.props
    if (
        is_on(get(props, "objectLockEnabled"))  # Object Lock turns versioning on for good
        or any(is_on(enabled) for enabled in each(props, "versioning", "enabled"))
        or get(props, "versioningConfiguration", "status") == "Enabled"
        or any(
            get(p.props, "versioningConfiguration", "status") == "Enabled"
            for p in bucket.part("versioning")
        )
    ):
        return None
    return f"Bucket {bucket.label} is not versioned. Add an aws.s3.BucketVersioning with status Enabled."


def missing_tls_only(index: BucketIndex, bucket: Bucket) -> str | None:
    documents = [get(bucket.props, "policy")]
    documents += [
        get(p.props, "policy") or get(p.props, "policyDocument") for p in bucket.part("policy")
    ]
    for value in documents:
        try:
            document = policy_document(value)
        except MalformedPolicy:
            continue  # reported by s3-no-public-bucket
        if document is not None and enforces_tls(document):
            return None
    return (
        f"Bucket {bucket.label} accepts requests without TLS. Add a bucket policy statement that denies "
        "s3:* to everyone when aws:SecureTransport is false."
    )


BucketCheck = Callable[[BucketIndex, Bucket], "str | None"]
Excuse = Callable[[Bucket], "str | None"]


def bucket_findings(
    resources: Iterable[PolicyResource], check: BucketCheck, excuse: Excuse | None = None
) -> tuple[list[tuple[Bucket, str]], list[tuple[Bucket, str]]]:
    """Run one check over every bucket: its problems, and the buckets let through and why.

    A bucket whose settings are unknown in preview is skipped.
    """
    index = BucketIndex(resources)
    findings, excused = [], []
    for bucket in index:
        problem = _known(lambda b=bucket: check(index, b))
        if problem:
            findings.append((bucket, problem))
        reason = _known(lambda b=bucket: excuse(b)) if excuse is not None else None
        if reason:
            excused.append((bucket, reason))
    return findings, excused
