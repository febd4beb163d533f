"""Stack-level rules: settings that live in separate resources, correlated with their bucket.

A bucket's public access block, versioning, encryption, lock configuration,
policy and logging are separate resources in pulumi-aws. Each is matched to
its bucket first by property dependency (its `bucket` input came from the
bucket's output) and otherwise by bucket name, through dictionaries built
once per stack: linear in the number of resources.

Every rule reads properties as a preview means them (`props.settled`): an
unknown the program did not ask for is absent, one that comes from another
resource's output is undecided. A mandatory rule reports an undecided verdict
as a violation that says what is not known; an advisory one leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource

from orgtrail_policies.buckets import (
    ACCOUNT_PUBLIC_ACCESS_BLOCK,
    BLOCK_SETTINGS,
    BUCKET_TYPES,
    NATIVE_BUCKET,
    PUBLIC_ACCESS_BLOCK,
    describe_bucket,
    enforces_tls,
)
from orgtrail_policies.props import (
    MalformedPolicy,
    Undecided,
    each,
    get,
    is_on,
    items,
    policy_document,
    settled,
)

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
# Inline server access logging and the key naming its destination: v7/legacy `logging`, v6
# BucketV2 `loggings[]`, aws-native `loggingConfiguration`.
INLINE_LOGGING = {
    "logging": "targetBucket",
    "loggings": "targetBucket",
    "loggingConfiguration": "destinationBucketName",
}


@dataclass
class Bucket:
    resource: PolicyResource
    props: dict[str, Any]  # settled: what the preview knows of the bucket
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Receives server access logs: S3 then requires SSE-S3 and no default retention.
    access_log_target: bool = False

    def part(self, kind: str) -> list[dict[str, Any]]:
        """The settled properties of each resource of `kind` that configures this bucket."""
        return self.parts.get(kind, [])

    @property
    def label(self) -> str:
        """The bucket in a message: its logical name, and its physical one when known."""
        try:
            return describe_bucket(self.resource.name, self.props)
        except Undecided:
            return describe_bucket(self.resource.name, {})


def _decided(read: Callable[[], Any], default: Any = None) -> Any:
    """A value, or `default` when the preview does not know it."""
    try:
        return read()
    except Undecided:
        return default


def _bucket_names(props: Mapping[str, Any]) -> list[str]:
    names = [_decided(lambda key=key: get(props, key)) for key in ("bucket", "bucketName", "id")]
    return [name for name in names if isinstance(name, str) and name]


class BucketIndex:
    """Every bucket of a stack with the resources that configure it."""

    def __init__(self, resources: Iterable[PolicyResource]):
        self.buckets: dict[str, Bucket] = {}
        self.by_name: dict[str, Bucket] = {}
        parts: list[tuple[str, PolicyResource, dict[str, Any]]] = []
        # Providers (None: the default one) whose account has a complete account-level block,
        # and those whose block has a setting a preview does not know.
        self.blocked_providers: set[str | None] = set()
        self.undecided_providers: dict[str | None, Undecided] = {}
        for resource in resources:
            if resource.resource_type in BUCKET_TYPES:
                bucket = Bucket(resource, settled(resource))
                self.buckets[resource.urn] = bucket
                for name in _bucket_names(bucket.props):
                    self.by_name.setdefault(name, bucket)
            elif resource.resource_type in PART_TYPES:
                parts.append((PART_TYPES[resource.resource_type], resource, settled(resource)))
            elif resource.resource_type == ACCOUNT_PUBLIC_ACCESS_BLOCK:
                props = settled(resource)
                try:
                    if all(is_on(get(props, setting)) for setting in BLOCK_SETTINGS):
                        self.blocked_providers.add(_provider_urn(resource))
                except Undecided as error:
                    self.undecided_providers.setdefault(_provider_urn(resource), error)
        for kind, resource, props in parts:
            bucket = self._owner(resource, props, "bucket")
            if bucket is not None:
                bucket.parts.setdefault(kind, []).append(props)
            if kind == "logging":
                target = self._owner(resource, props, "targetBucket")
                if target is not None:
                    target.access_log_target = True
        for bucket in self.buckets.values():
            for prop, key in INLINE_LOGGING.items():
                if prop in bucket.props:
                    for target in self._inline_targets(bucket, prop, key):
                        target.access_log_target = True

    def _owner(
        self, resource: PolicyResource, props: Mapping[str, Any], prop: str
    ) -> Bucket | None:
        """The bucket `prop` names: by where its value came from, else by its value. Of
        several buckets it came from, none (which one is meant is not known)."""
        sources = [
            self.buckets[d.urn]
            for d in resource.property_dependencies.get(prop, [])
            if d.urn in self.buckets
        ]
        if sources:
            return sources[0] if len(sources) == 1 else None
        name = _decided(lambda: get(props, prop))
        return self.by_name.get(name) if isinstance(name, str) else None

    def _inline_targets(self, bucket: Bucket, prop: str, key: str) -> list[Bucket]:
        """The buckets an inline logging configuration delivers to: by name, or (a name not
        known yet in a preview, often another bucket's id) by the dependency it came from."""
        names = _decided(lambda: [get(entry, key) for entry in items(bucket.props[prop])])
        if names is None:
            found = self._owner(bucket.resource, bucket.props, prop)
            return [found] if found is not None else []
        return [self.by_name[n] for n in names if isinstance(n, str) and n in self.by_name]

    def __iter__(self):
        return iter(self.buckets.values())

    def account_block_covers(self, bucket: Bucket) -> bool:
        """An account-level block with all four settings, through the same provider, covers
        the bucket. Undecided when that block has a setting the preview does not know."""
        provider = _provider_urn(bucket.resource)
        if provider in self.blocked_providers:
            return True
        if provider in self.undecided_providers:
            raise self.undecided_providers[provider]
        return False


def _provider_urn(resource: PolicyResource) -> str | None:
    return resource.provider.urn if resource.provider is not None else None


# --- the checks: each returns a problem for a bucket, or None -------------------------

ACCESS_LOG_TARGET_REASON = (
    "receives server access logs: S3 cannot deliver them to a bucket with Object Lock "
    "(S3 user guide, Object Lock considerations), so no lock is asked of it; it must still "
    "be private, blocked and TLS-only"
)


def _object_lock_on(bucket: Bucket) -> bool:
    """Whether some form S3 accepts enables Object Lock on the bucket; Undecided when none is
    known to and one is not known at all.

    At creation: `objectLockEnabled` (pulumi-aws v6/v7 and aws-native) or the legacy inline
    `objectLockConfiguration.objectLockEnabled: Enabled`. Later: PutObjectLockConfiguration
    with ObjectLockEnabled Enabled enables it on an existing versioned bucket (S3 API
    reference; the pulumi-aws BucketObjectLockConfiguration docs: "can be used to enable Object
    Lock for new and existing buckets"), which is `aws.s3.BucketObjectLockConfiguration`(V2)
    `objectLockEnabled: Enabled` or aws-native `objectLockConfiguration.objectLockEnabled`.
    """
    forms = [
        lambda: get(bucket.props, "objectLockEnabled"),
        lambda: get(bucket.props, "objectLockConfiguration", "objectLockEnabled"),
    ]
    forms += [lambda p=part: get(p, "objectLockEnabled") for part in bucket.part("object_lock")]
    undecided = None
    for form in forms:
        try:
            if is_on(form()):
                return True
        except Undecided as error:
            undecided = undecided or error
    if undecided is not None:
        raise undecided
    return False


def missing_object_lock(index: BucketIndex, bucket: Bucket) -> str | None:
    """Object Lock, except on the one kind of bucket S3 forbids to lock."""
    if bucket.access_log_target:
        return None
    try:
        if _object_lock_on(bucket):
            return None
    except Undecided as error:
        return (
            f"Bucket {bucket.label}: whether it has Object Lock is not known before it is "
            f"created ({error}), so the preview cannot show it will be locked. Set "
            "objectLockEnabled: true on the bucket as a plain value."
        )
    return (
        f"Bucket {bucket.label} has no Object Lock. Set objectLockEnabled: true on a new "
        "bucket; for an existing one, add an aws.s3.BucketObjectLockConfiguration with "
        'objectLockEnabled: "Enabled" (S3 then turns versioning on, and it cannot be undone).'
    )


def unlocked_access_log_target(bucket: Bucket) -> str | None:
    """Why an unlocked bucket is let through: it is the destination of a logging configuration."""
    if bucket.access_log_target and not _decided(lambda: _object_lock_on(bucket), False):
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
    return any(each(part, "rule", "defaultRetention") for part in bucket.part("object_lock"))


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
        found += each(part, "rule", *default)
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
            get(p, "versioningConfiguration", "status") == "Enabled"
            for p in bucket.part("versioning")
        )
    ):
        return None
    return f"Bucket {bucket.label} is not versioned. Add an aws.s3.BucketVersioning with status Enabled."


def missing_tls_only(index: BucketIndex, bucket: Bucket) -> str | None:
    documents = [get(bucket.props, "policy")]
    documents += [get(p, "policy") or get(p, "policyDocument") for p in bucket.part("policy")]
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
    resources: Iterable[PolicyResource],
    check: BucketCheck,
    excuse: Excuse | None = None,
    mandatory: bool = True,
) -> tuple[list[tuple[Bucket, str]], list[tuple[Bucket, str]]]:
    """Run one check over every bucket: its problems, and the buckets let through and why.

    A check that reads a value the preview does not know is a problem when the rule is
    `mandatory` (it says what is not known) and is left out otherwise. A check that fails on
    a shape it does not know is a problem of that bucket only."""
    index = BucketIndex(resources)
    findings, excused = [], []
    for bucket in index:
        try:
            problem = check(index, bucket)
        except Undecided as error:
            problem = (
                f"Bucket {bucket.label} cannot be judged before it is created ({error})."
                if mandatory
                else None
            )
        except Exception as error:  # one bucket's verdict, never every bucket's
            problem = (
                f"Bucket {bucket.label} could not be judged ({type(error).__name__}: {error})."
            )
        if problem:
            findings.append((bucket, problem))
        reason = _decided(lambda b=bucket: excuse(b)) if excuse is not None else None
        if reason:
            excused.append((bucket, reason))
    return findings, excused
