"""What the AWS APIs refuse, checked on the resources a plan would create.

The SDK's mocks accept any input; AWS does not. Each rule here is one an AWS
API applies before acting (cited beside it), checked on the inputs the
program registers, so `orgtrail plan` refuses what the first real
`pulumi up` would have failed on, or (for server access logs) what AWS would
accept and then silently never deliver.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orgtrail.contract.config import MAX_LIFECYCLE_RULES, partition_of
from orgtrail.offline.simulate import Resource
from orgtrail.policy_eval import ALLOW, Request, evaluate

BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
TRAIL = "aws:cloudtrail/trail:Trail"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ORGANIZATIONS_POLICY = "aws:organizations/policy:Policy"
STACK_SET = "aws:cloudformation/stackSet:StackSet"


@dataclass(frozen=True)
class Refusal:
    resource: str  # the resource's name in the program
    type: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource} ({self.type}): {self.message}"


class RefusedByAws(ValueError):
    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        lines = "\n".join(f"  - {refusal}" for refusal in refusals)
        super().__init__(f"AWS would refuse {len(refusals)} resource input(s):\n{lines}")


class Stack:
    """The plan's resources, indexed once, for rules that look across resources."""

    def __init__(self, resources: Iterable[Resource], account_id: str):
        self.resources = list(resources)
        self.account_id = account_id  # whose credentials the stack runs with
        self.by_urn = {r.urn: r for r in self.resources}
        self.parts: dict[tuple[str, str], list[Resource]] = {}
        for resource in self.resources:
            bucket = resource.inputs.get("bucket")
            if isinstance(bucket, str):
                self.parts.setdefault((resource.type, bucket), []).append(resource)

    def part(self, type_token: str, bucket: str) -> list[Resource]:
        return self.parts.get((type_token, bucket), [])


Rule = Callable[[Resource, Stack], Iterable[str]]


# --- S3 lifecycle -----------------------------------------------------------------
# S3 user guide, "Lifecycle configuration elements" and "Transitioning objects"; S3 API
# reference, PutBucketLifecycleConfiguration. S3 answers InvalidArgument for each of these.

INFREQUENT_ACCESS = ("STANDARD_IA", "ONEZONE_IA")
MINIMUM_OBJECT_SIZE_BEHAVIOURS = ("all_storage_classes_128K", "varies_by_storage_class")


def _days(items: Any, key: str) -> list[tuple[float, str]]:
    return [(float(item.get(key, 0)), str(item.get("storageClass", ""))) for item in items or []]


def lifecycle_refusals(resource: Resource, stack: Stack) -> Iterable[str]:
    rules = resource.inputs.get("rules") or []
    if len(rules) > MAX_LIFECYCLE_RULES:
        yield f"{len(rules)} rules; a bucket's lifecycle configuration holds at most {MAX_LIFECYCLE_RULES}"
    behaviour = resource.inputs.get("transitionDefaultMinimumObjectSize")
    if behaviour is not None and behaviour not in MINIMUM_OBJECT_SIZE_BEHAVIOURS:
        yield f"transitionDefaultMinimumObjectSize {behaviour!r} is not one of {', '.join(MINIMUM_OBJECT_SIZE_BEHAVIOURS)}"
    ids = [rule.get("id") for rule in rules]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        yield f"rule id {duplicate!r} is used twice; ids must be unique"
    for rule in rules:
        at = f"rule {rule.get('id')!r}"
        if len(str(rule.get("id", ""))) > 255:
            yield f"{at}: id longer than 255 characters"
        transitions = _days(rule.get("transitions"), "days")
        noncurrent = _days(rule.get("noncurrentVersionTransitions"), "noncurrentDays")
        for days, storage_class in transitions + noncurrent:
            if storage_class in INFREQUENT_ACCESS and days < 30:
                yield f"{at}: a transition to {storage_class} must be at least 30 days after creation, not {days:g}"
        expiration = (rule.get("expiration") or {}).get("days")
        if expiration is not None and transitions and expiration <= max(d for d, _ in transitions):
            yield (
                f"{at}: 'Days' in the Expiration action ({expiration:g}) must be greater than "
                f"'Days' in the Transition action ({max(d for d, _ in transitions):g})"
            )
        noncurrent_expiry = (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")
        if (
            noncurrent_expiry is not None
            and noncurrent
            and noncurrent_expiry <= max(d for d, _ in noncurrent)
        ):
            yield (
                f"{at}: 'NoncurrentDays' in the NoncurrentVersionExpiration action "
                f"({noncurrent_expiry:g}) must be greater than 'NoncurrentDays' in the "
                f"NoncurrentVersionTransition action ({max(d for d, _ in noncurrent):g})"
            )


# --- S3 server access logs ------------------------------------------------------------
# S3 user guide, "Enabling Amazon S3 server access logging": the destination must be in
# the same Region and account, must not have Object Lock with a default retention period
# (Object Lock considerations: "can't be used as destination buckets"), must not use
# SSE-KMS default encryption (only SSE-S3 is supported), and its bucket policy must let
# logging.s3.amazonaws.com PutObject under the prefix. PutBucketLogging accepts all of
# these; delivery then silently never happens.


def logging_refusals(resource: Resource, stack: Stack) -> Iterable[str]:
    source, target = resource.inputs.get("bucket"), resource.inputs.get("targetBucket")
    if not isinstance(target, str):
        return
    if target == source:
        yield f"{source!r} logs to itself: every delivery would be logged again"
    for bucket in stack.part(BUCKET, target):
        if bucket.inputs.get("objectLockEnabled"):
            yield f"target {target!r} has Object Lock: S3 never delivers server access logs to it"
    for encryption in stack.part(ENCRYPTION, target):
        for rule in encryption.inputs.get("rules") or []:
            algorithm = (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            if algorithm and algorithm != "AES256":
                yield f"target {target!r} encrypts with {algorithm}: server access log delivery supports SSE-S3 (AES256) only"
    policies = stack.part(BUCKET_POLICY, target)
    if policies and isinstance(source, str):
        region = resource.outputs.get("region") or "us-east-1"
        partition = partition_of(region)
        key = f"arn:{partition}:s3:::{target}/{resource.inputs.get('targetPrefix', '')}log-file"
        delivery = Request(
            "s3:PutObject",
            key,
            service="logging.s3.amazonaws.com",
            context={
                "aws:SourceArn": f"arn:{partition}:s3:::{source}",
                "aws:SourceAccount": stack.account_id,
                "aws:SecureTransport": "true",
            },
        )
        if not any(evaluate(json.loads(p.inputs["policy"]), delivery) == ALLOW for p in policies):
            yield (
                f"the bucket policy of {target!r} does not let logging.s3.amazonaws.com put "
                f"{source!r}'s logs under {resource.inputs.get('targetPrefix', '')!r}"
            )


# --- policy document sizes ----------------------------------------------------------

# (type, input, limit, how AWS counts, source)
POLICY_LIMITS = {
    BUCKET_POLICY: ("policy", 20 * 1024, "bytes", "S3 user guide, bucket policies: 20 KB"),
    KEY: ("policy", 32 * 1024, "bytes", "KMS developer guide, key policies: 32 KB"),
    ROLE_POLICY: (
        "policy",
        10_240,
        "characters without white space",
        "IAM user guide, IAM and STS quotas: inline role policies 10,240 characters",
    ),
    ROLE: (
        "assumeRolePolicy",
        2_048,
        "characters without white space",
        "IAM user guide, IAM and STS quotas: role trust policy 2,048 characters (default quota)",
    ),
    TOPIC_POLICY: ("policy", 30 * 1024, "bytes", "SNS developer guide: topic policies 30 KB"),
    ORGANIZATIONS_POLICY: (
        "content",
        5_120,
        "characters",
        "Organizations user guide, quotas: SCP and RCP 5,120 characters",
    ),
}


def size_refusals(resource: Resource, stack: Stack) -> Iterable[str]:
    key, limit, unit, source = POLICY_LIMITS[resource.type]
    text = resource.inputs.get(key)
    if isinstance(text, str):
        yield from _over(key, text, limit, unit, source)


def _over(what: str, text: str, limit: int, unit: str, source: str) -> Iterable[str]:
    if unit == "bytes":
        size = len(text.encode())
    elif unit == "characters":
        size = len(text)
    else:
        size = len("".join(text.split()))
    if size > limit:
        yield f"{what} is {size} {unit}, over the limit of {limit} ({source})"


# CloudFormation user guide, "CloudFormation quotas": a template body in a request, 51,200
# bytes. The roles a StackSet's template creates meet IAM's limits when each stack is
# created, in every account: checked here on the template, before any account fails.
TEMPLATE_BODY_LIMIT = (51_200, "bytes", "CloudFormation quotas: template body 51,200 bytes")


def stack_set_refusals(resource: Resource, stack: Stack) -> Iterable[str]:
    body = resource.inputs.get("templateBody")
    if not isinstance(body, str):
        return
    yield from _over("templateBody", body, *TEMPLATE_BODY_LIMIT)
    for name, part in json.loads(body).get("Resources", {}).items():
        if part.get("Type") != "AWS::IAM::Role":
            continue
        properties = part.get("Properties", {})
        trust = json.dumps(properties.get("AssumeRolePolicyDocument", {}))
        _, limit, unit, source = POLICY_LIMITS[ROLE]
        yield from _over(f"{name}'s AssumeRolePolicyDocument", trust, limit, unit, source)
        _, limit, unit, source = POLICY_LIMITS[ROLE_POLICY]
        for policy in properties.get("Policies", []):
            document = json.dumps(policy.get("PolicyDocument", {}))
            yield from _over(
                f"{name}'s policy {policy.get('PolicyName')}", document, limit, unit, source
            )


# --- CloudTrail ---------------------------------------------------------------------
# CloudTrail API reference, PutEventSelectors / AdvancedFieldSelector, and the user guide's
# quotas: at most 500 values over all conditions of all advanced selectors; each field
# selector needs an operator; `eventCategory` takes Equals only; names up to 1,000 characters.

SELECTOR_FIELDS = (
    "eventCategory", "eventSource", "eventName", "eventType", "readOnly", "resources.type",
    "resources.ARN", "sessionCredentialFromConsole", "userIdentity.arn", "errorCode", "vpcEndpointId",
)  # fmt: skip
OPERATORS = ("equals", "notEquals", "startsWiths", "notStartsWiths", "endsWiths", "notEndsWiths")
MAX_SELECTOR_VALUES = 500


def trail_refusals(resource: Resource, stack: Stack) -> Iterable[str]:
    selectors = resource.inputs.get("advancedEventSelectors") or []
    values = 0
    for selector in selectors:
        name = str(selector.get("name", ""))
        if len(name) > 1000:
            yield f"selector {name[:40]!r}...: name longer than 1,000 characters"
        for field in selector.get("fieldSelectors") or []:
            label = f"selector {name!r}, field {field.get('field')!r}"
            if field.get("field") not in SELECTOR_FIELDS:
                yield f"{label}: not a field CloudTrail selects on ({', '.join(SELECTOR_FIELDS)})"
            used = [op for op in OPERATORS if field.get(op)]
            if not used:
                yield f"{label}: needs at least one operator"
            if field.get("field") == "eventCategory" and used != ["equals"]:
                yield f"{label}: eventCategory takes Equals only"
            values += sum(len(field[op]) for op in used)
    if values > MAX_SELECTOR_VALUES:
        yield f"{values} values over all advanced selector conditions; CloudTrail allows {MAX_SELECTOR_VALUES}"
    if (
        resource.inputs.get("insightSelectors")
        and selectors
        and not any(_records_management_writes(selector) for selector in selectors)
    ):
        # CloudTrail user guide, "Working with CloudTrail Insights": Insights analyses the
        # trail's management events, so the trail must log them.
        yield "Insights is on but no selector logs write management events"


def _records_management_writes(selector: Mapping[str, Any]) -> bool:
    fields = {f.get("field"): f for f in selector.get("fieldSelectors") or []}
    category = fields.get("eventCategory", {}).get("equals") or []
    read_only = fields.get("readOnly", {}).get("equals")
    return "Management" in category and read_only in (None, ["false"])


# --- CloudWatch ---------------------------------------------------------------------
# CloudWatch Logs API reference, PutMetricFilter: filterPattern at most 1,024 characters.


def metric_filter_refusals(resource: Resource, stack: Stack) -> Iterable[str]:
    pattern = resource.inputs.get("pattern") or ""
    if len(pattern) > 1024:
        yield f"filter pattern is {len(pattern)} characters; CloudWatch Logs allows 1,024"


RULES: dict[str, Rule] = {
    LIFECYCLE: lifecycle_refusals,
    LOGGING: logging_refusals,
    TRAIL: trail_refusals,
    METRIC_FILTER: metric_filter_refusals,
    **dict.fromkeys(POLICY_LIMITS, size_refusals),
    STACK_SET: stack_set_refusals,
}


def refusals(resources: Iterable[Resource], account_id: str) -> list[Refusal]:
    """Every input of `resources` that the AWS API would refuse (or accept and never honour)."""
    stack = Stack(resources, account_id)
    return [
        Refusal(resource.name, resource.type, message)
        for resource in stack.resources
        if resource.type in RULES
        for message in RULES[resource.type](resource, stack)
    ]
