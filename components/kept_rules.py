"""The lifecycle rules a legacy bucket already has, carried over beside the archive rules.

`PutBucketLifecycleConfiguration` replaces a bucket's whole lifecycle configuration (S3 API
reference: "Creates a new lifecycle configuration for the bucket or replaces an existing
lifecycle configuration"), so the archive rules alone would delete whatever rules the
bucket's owner had. The program reads the bucket as Cloud Control API describes it (the
provider's `aws.cloudcontrol.get_resource` data source, type `AWS::S3::Bucket`: the
CloudFormation shape of `LifecycleConfiguration.Rules`, AWS::S3::Bucket Rule in the
CloudFormation User Guide) and sends every rule back with the archive rules. A rule, or a
field of one, that cannot be carried over exactly is refused, named, before anything is
registered: never a rule silently changed or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi_aws as aws

from components.archive_rules import SMALL_OBJECTS_STAY

Rule = aws.s3.BucketLifecycleConfigurationRuleArgs
OUR_RULES = "org-trail-archive-"  # the IDs of the rules this project writes
S3_MAXIMUM_RULES = 1000  # "Lifecycle configuration elements": up to 1,000 rules

RULE_FIELDS = {
    "Id",
    "Status",
    "Prefix",
    "TagFilters",
    "ObjectSizeGreaterThan",
    "ObjectSizeLessThan",
    "Transitions",
    "Transition",
    "ExpirationInDays",
    "ExpirationDate",
    "ExpiredObjectDeleteMarker",
    "NoncurrentVersionTransitions",
    "NoncurrentVersionTransition",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionExpirationInDays",
    "AbortIncompleteMultipartUpload",
}


@dataclass
class KeptRules:
    rules: list[Rule] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def kept_rules(bucket: str, properties: str | None, ours: int) -> KeptRules:
    """The bucket's own rules (not this project's), as typed rule args, and what cannot be
    kept; `properties` is the data source's JSON, `ours` how many rules we add."""
    kept = KeptRules()
    document = json.loads(properties or "{}")
    lifecycle = document.get("LifecycleConfiguration") or {}
    minimum = lifecycle.get("TransitionDefaultMinimumObjectSize")
    if minimum not in (None, SMALL_OBJECTS_STAY):
        kept.problems.append(
            f"bucket {bucket}: its transitionDefaultMinimumObjectSize is {minimum!r}; the "
            f"archive rules need {SMALL_OBJECTS_STAY!r}, which would change how its own rules "
            "move small objects"
        )
    theirs = [
        r for r in lifecycle.get("Rules") or [] if not str(r.get("Id", "")).startswith(OUR_RULES)
    ]
    if len(theirs) + ours > S3_MAXIMUM_RULES:
        kept.problems.append(
            f"bucket {bucket}: {len(theirs)} rules of its own and {ours} archive rules exceed "
            f"S3's {S3_MAXIMUM_RULES}"
        )
    for index, rule in enumerate(theirs):
        name = f"bucket {bucket}, rule {rule.get('Id') or f'#{index + 1}'}"
        unknown = sorted(set(rule) - RULE_FIELDS)
        if unknown:
            kept.problems.append(f"{name}: cannot carry over {', '.join(unknown)}")
            continue
        kept.rules.append(_rule(rule, index))
        kept.ids.append(rule.get("Id") or f"kept-{index + 1}")
    return kept


def _rule(rule: Mapping[str, Any], index: int) -> Rule:
    """One CloudFormation-shaped rule as the provider's typed args, field for field."""
    args = Rule(
        id=rule.get("Id") or f"kept-{index + 1}",
        status=rule.get("Status", "Enabled"),
        filter=_filter(rule),
    )
    transitions = [
        *rule.get("Transitions", []),
        *([rule["Transition"]] if "Transition" in rule else []),
    ]
    if transitions:
        args.transitions = [
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                storage_class=t["StorageClass"],
                days=_number(t.get("TransitionInDays")),
                date=t.get("TransitionDate"),
            )
            for t in transitions
        ]
    if {"ExpirationInDays", "ExpirationDate", "ExpiredObjectDeleteMarker"} & rule.keys():
        args.expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
            days=_number(rule.get("ExpirationInDays")),
            date=rule.get("ExpirationDate"),
            expired_object_delete_marker=rule.get("ExpiredObjectDeleteMarker"),
        )
    noncurrent = [
        *rule.get("NoncurrentVersionTransitions", []),
        *([rule["NoncurrentVersionTransition"]] if "NoncurrentVersionTransition" in rule else []),
    ]
    if noncurrent:
        args.noncurrent_version_transitions = [
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                storage_class=t["StorageClass"],
                noncurrent_days=_number(t.get("TransitionInDays")),
                newer_noncurrent_versions=_number(t.get("NewerNoncurrentVersions")),
            )
            for t in noncurrent
        ]
    expiry = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "NoncurrentVersionExpirationInDays" in rule
        else None
    )
    if expiry:
        args.noncurrent_version_expiration = (
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=_number(expiry.get("NoncurrentDays")),
                newer_noncurrent_versions=_number(expiry.get("NewerNoncurrentVersions")),
            )
        )
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        args.abort_incomplete_multipart_upload = (
            aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=_number(days)
            )
        )
    return args


def _filter(rule: Mapping[str, Any]) -> aws.s3.BucketLifecycleConfigurationRuleFilterArgs:
    """Prefix, tags and sizes: one condition alone, several under `and` (as S3 needs)."""
    prefix = rule.get("Prefix")
    tags = {t["Key"]: t["Value"] for t in rule.get("TagFilters", [])}
    larger = _number(rule.get("ObjectSizeGreaterThan"))
    smaller = _number(rule.get("ObjectSizeLessThan"))
    conditions = sum(x is not None for x in (larger, smaller)) + len(tags) + (prefix is not None)
    if conditions > 1:
        return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
            and_=aws.s3.BucketLifecycleConfigurationRuleFilterAndArgs(
                prefix=prefix,
                tags=tags or None,
                object_size_greater_than=larger,
                object_size_less_than=smaller,
            )
        )
    if tags:
        ((key, value),) = tags.items()
        return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
            tag=aws.s3.BucketLifecycleConfigurationRuleFilterTagArgs(key=key, value=value)
        )
    if larger is not None or smaller is not None:
        return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
            object_size_greater_than=larger, object_size_less_than=smaller
        )
    return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix or "")


def _number(value: Any) -> int | None:
    return None if value is None else int(value)
