"""`orgtrail verify`: check the live setup against what the two stacks promise.

The trail: an organization, multi-region, logging, validated, KMS-encrypted
trail recording management reads and writes, global service events, S3
object events of every bucket (its own log buckets aside) and Lambda
invocations, read and write, Insights, and delivering to CloudWatch Logs:
what the detections rely on. The central bucket: Object
Lock with a default retention, versioning, all of Block Public Access,
SSE-KMS, a policy letting CloudTrail write for this exact trail. Delivery:
every active account of the organisation has log files from the last 24
hours; silent accounts are named.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.text import Text

from orgtrail.analysis.cloudtrail_schema import ACCOUNT_PROJECTION, DATABASE, TABLE
from orgtrail.cli import add_json, add_profile, command
from orgtrail.contract.config import ConfigError, ManagementSettings
from orgtrail.contract.policy_documents import (
    PIPELINE_BUCKET_ACTIONS,
    PIPELINE_KEY_ACTIONS,
    PIPELINE_OBJECT_ACTIONS,
)
from orgtrail.contract.stack_config import StackConfigError, load_stack_settings
from orgtrail.ops.alert_path import check_alert_path
from orgtrail.ops.aws import (
    ACTIVE,
    AWS_ERRORS,
    DEFAULT_CONCURRENCY,
    Account,
    CredentialError,
    account_state,
    at_least_one,
    bucket_reader,
    current_account,
    error_text,
    paginate,
    region_name,
    region_names,
    role_arn,
)
from orgtrail.ops.deliveries import delivered_regions, deliveries, own_log_buckets, region_prefix
from orgtrail.ops.recording import Recording, recording
from orgtrail.ops.selectors import DATA, MANAGEMENT, NETWORK, Condition, Selector, gaps
from orgtrail.output import add_row, data_table, document, refuse
from orgtrail.policy_eval import ALLOW, DENY, Request, evaluate

INSIGHT_TYPES = {"ApiCallRateInsight", "ApiErrorRateInsight"}
S3_OBJECTS, LAMBDA_FUNCTIONS = "AWS::S3::Object", "AWS::Lambda::Function"
BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
# An ID no AWS account has: in the bucket-policy probe, it stands for accounts yet to join.
ANY_OTHER_ACCOUNT = "000000000000"


# Each guardrail policy of the management stack (components/guardrails.py) and its type.
GUARDRAILS = {
    "org-trail-deny-leave-organization": "SERVICE_CONTROL_POLICY",
    "org-trail-protect-log-pipeline": "SERVICE_CONTROL_POLICY",
    "org-trail-log-data-perimeter": "RESOURCE_CONTROL_POLICY",
    "org-trail-block-public-access": "S3_POLICY",
}
GUARDRAIL_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "S3_POLICY")


@dataclass(frozen=True)
class Expected:
    """What the stack config asks for (everything, unless a stack file says less)."""

    s3: bool = True
    lambda_functions: bool = True
    insights: bool = True
    insights_notifications: bool = True  # each Insights event told (alarms.insightsNotifications)
    network_sources: tuple[str, ...] = ()
    guardrails: tuple[str, ...] = tuple(GUARDRAILS)
    # From the security stack's file: its objectLock (mode, days) and its account.
    object_lock: tuple[str, int] | None = None
    security_account: str | None = None

    @property
    def guardrail_types(self) -> tuple[str, ...]:
        return tuple(t for t in GUARDRAIL_TYPES if t in {GUARDRAILS[g] for g in self.guardrails})


@dataclass
class Check:
    """One judgement. `id` is stable across releases (scripts key on it, as on a Prowler
    check ID); `subject` says which one when a check repeats (an account, a source, a
    policy type); `name` and `detail` are prose for people and may change."""

    id: str
    name: str
    ok: bool
    detail: str = ""
    subject: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


class Checks:
    def __init__(self):
        self.items: list[Check] = []

    def add(
        self, check_id: str, name: str, ok: bool, detail: str = "", *, subject: str = ""
    ) -> None:
        self.items.append(Check(check_id, name, bool(ok), detail, subject))

    def guarded(self, check_id: str, name: str, read, judge, *, subject: str = "") -> None:
        """Run one read; an API error is a failed check, named, not a crash."""
        try:
            value = read()
            ok, detail = judge(value)
        except (
            *AWS_ERRORS,
            ValueError,
            KeyError,
        ) as error:  # an API error, or a policy that is not JSON
            self.add(check_id, name, False, error_text(error), subject=subject)
            return
        self.add(check_id, name, ok, detail, subject=subject)


def _requires(required: set[str], present: set[str], detail: str) -> tuple[bool, str]:
    """Every required item present (detail), or which are missing."""
    missing = required - present
    return not missing, f"missing {', '.join(sorted(missing))}" if missing else detail


def _recorded(found: Recording, required: Selector, accepted: tuple[str, ...]) -> tuple[bool, str]:
    """Whether the trail records every event of `required` (its own log buckets aside)."""
    events = gaps([required], found.selectors.read, found.partition, accepted)
    if not events:
        return True, ""
    return False, "not recorded: " + "; ".join(gap.text for gap in events)


def _home_hint(cloudtrail, trail_name: str) -> str:
    """Where the trail lives, when `region` only holds its copy. A trail's name finds it in its
    home region only; elsewhere it is a shadow trail, listed when shadow trails are asked for
    (CloudTrail API reference, DescribeTrails `trailNameList`)."""
    try:
        listed = cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]
    except AWS_ERRORS:
        return ""
    homes = sorted(
        {
            t["HomeRegion"]
            for t in listed
            if trail_name in (t.get("Name"), t.get("TrailARN")) and t.get("HomeRegion")
        }
    )
    return f"; its home region is {homes[0]}: run with --region {homes[0]}" if homes else ""


def check_trail(
    checks: Checks,
    management: Account,
    trail_name: str,
    region: str,
    log_bucket: str,
    expected: Expected,
    accepted: tuple[str, ...] = (),
) -> dict | None:
    cloudtrail = management.client("cloudtrail", region)
    try:
        listed = cloudtrail.describe_trails(trailNameList=[trail_name], includeShadowTrails=False)[
            "trailList"
        ]
    except AWS_ERRORS as error:
        checks.add("trail.exists", "exists", False, error_text(error))
        return None
    found = [t for t in listed if trail_name in (t.get("Name"), t.get("TrailARN"))]
    if not found:
        checks.add(
            "trail.exists",
            "exists",
            False,
            f"no trail {trail_name} in {region}{_home_hint(cloudtrail, trail_name)}",
        )
        return None
    trail = found[0]
    arn = trail["TrailARN"]
    checks.add("trail.exists", "exists", True, arn)
    checks.add("trail.organization", "organization trail", trail.get("IsOrganizationTrail"))
    checks.add("trail.multi-region", "multi-region", trail.get("IsMultiRegionTrail"))
    try:
        status = cloudtrail.get_trail_status(Name=arn)
    except AWS_ERRORS as error:
        status = {"error": error_text(error)}
    # Without digest files, log file validation has nothing to validate against.
    digest_problem = (
        f"digest files not delivered: {status['LatestDigestDeliveryError']}"
        if status.get("LatestDigestDeliveryError")
        else f"digest delivery not known: {status['error']}"
        if "error" in status
        else ""
    )
    checks.add(
        "trail.log-file-validation",
        "log file validation",
        trail.get("LogFileValidationEnabled") and not digest_problem,
        digest_problem,
    )
    checks.add(
        "trail.kms-encryption",
        "KMS encryption",
        trail.get("KmsKeyId"),
        trail.get("KmsKeyId") or "no KmsKeyId",
    )
    checks.add(
        "trail.central-bucket",
        "delivers to the central bucket",
        trail.get("S3BucketName") == log_bucket,
        str(trail.get("S3BucketName")),
    )
    checks.add(
        "trail.global-service-events",
        "global service events",
        trail.get("IncludeGlobalServiceEvents"),
        "IAM, STS, CloudFront events recorded"
        if trail.get("IncludeGlobalServiceEvents")
        else "IncludeGlobalServiceEvents is off",
    )
    checks.add(
        "trail.logging",
        "logging without delivery errors",
        bool(status.get("IsLogging")) and not status.get("LatestDeliveryError"),
        status.get("error")
        or status.get("LatestDeliveryError")
        or ("logging" if status.get("IsLogging") else "not logging"),
    )
    group = trail.get("CloudWatchLogsLogGroupArn")
    cloudwatch_error = status.get("LatestCloudWatchLogsDeliveryError")
    checks.add(
        "trail.cloudwatch-logs",
        "CloudWatch Logs delivery",
        bool(group) and not cloudwatch_error and "error" not in status,
        cloudwatch_error or status.get("error") or group or "no CloudWatch Logs group",
    )

    def insights(response: dict) -> tuple[bool, str]:
        enabled = {selector["InsightType"] for selector in response.get("InsightSelectors", [])}
        return _requires(INSIGHT_TYPES, enabled, ", ".join(sorted(enabled)))

    if expected.insights:
        checks.guarded(
            "trail.insights",
            "Insights",
            lambda: cloudtrail.get_insight_selectors(TrailName=arn),
            insights,
        )

    try:
        found = recording(trail, cloudtrail.get_event_selectors(TrailName=arn))
    except AWS_ERRORS as error:
        checks.add("trail.event-selectors", "event selectors", False, error_text(error))
        return trail
    unread = found.selectors.unreadable
    checks.add(
        "trail.event-selectors",
        "event selectors read",
        not unread,
        "not read, so never counted as recording: " + "; ".join(unread)
        if unread
        else f"{len(found.selectors.read)} read",
    )
    ok, detail = _recorded(found, Selector(MANAGEMENT), accepted)
    checks.add(
        "trail.management-events",
        "management events, read and write",
        ok,
        detail or "read and write",
    )
    for check_id, resource_type, name, asked in (
        ("trail.s3-data-events", S3_OBJECTS, "S3 object data events", expected.s3),
        (
            "trail.lambda-data-events",
            LAMBDA_FUNCTIONS,
            "Lambda data events",
            expected.lambda_functions,
        ),
    ):
        if asked:
            of_type = Condition("resources.type", equals=frozenset({resource_type}))
            ok, detail = _recorded(found, Selector(DATA, (of_type,)), accepted)
            checks.add(check_id, name, ok, detail or "read and write, every resource")
    for source in expected.network_sources:
        from_source = Condition("eventSource", equals=frozenset({source}))
        ok, detail = _recorded(found, Selector(NETWORK, (from_source,)), accepted)
        checks.add(
            "trail.network-activity-events",
            f"network activity events of {source}",
            ok,
            detail or "every event",
            subject=source,
        )
    return trail


def check_bucket(
    checks: Checks,
    reader: Account,
    bucket: str,
    trail_arn: str,
    organization_id: str,
    key_prefix: str = "",
    object_lock: tuple[str, int] | None = None,
) -> dict:
    """The central bucket's checks; its default encryption rule, for the key checks."""
    s3 = reader.client("s3")

    def lock(response: dict) -> tuple[bool, str]:
        config = response.get("ObjectLockConfiguration", {})
        retention = config.get("Rule", {}).get("DefaultRetention")
        ok = config.get("ObjectLockEnabled") == "Enabled" and bool(retention)
        if not retention:
            return ok, "no default retention"
        detail = f"{retention.get('Mode')} {retention.get('Days') or retention.get('Years')}"
        if object_lock is None:
            return ok, detail
        # S3 keeps Days or Years; a year of retention is 365 days (S3 user guide, "Retention
        # periods").
        days = retention.get("Days") or 365 * (retention.get("Years") or 0)
        if (retention.get("Mode"), days) != object_lock:
            mode, wanted = object_lock
            return False, f"{detail}, the security stack asks {mode} {wanted} days"
        return ok, detail

    checks.guarded(
        "bucket.object-lock",
        "Object Lock with default retention",
        lambda: s3.get_object_lock_configuration(Bucket=bucket),
        lock,
    )
    checks.guarded(
        "bucket.versioning",
        "versioning",
        lambda: s3.get_bucket_versioning(Bucket=bucket),
        lambda r: (r.get("Status") == "Enabled", r.get("Status", "never enabled")),
    )

    def block(response: dict) -> tuple[bool, str]:
        config = response.get("PublicAccessBlockConfiguration", {})
        off = [setting for setting in BLOCK_SETTINGS if not config.get(setting)]
        return not off, f"off: {', '.join(off)}" if off else "all four on"

    checks.guarded(
        "bucket.block-public-access",
        "Block Public Access",
        lambda: s3.get_public_access_block(Bucket=bucket),
        block,
    )

    default_rule: dict = {}

    def encryption(response: dict) -> tuple[bool, str]:
        rules = response.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        default_rule.update(rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {})
        algorithms = [
            r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules
        ]
        named = ", ".join(filter(None, algorithms)) or "no default encryption algorithm"
        return any(a in ("aws:kms", "aws:kms:dsse") for a in algorithms), named

    checks.guarded(
        "bucket.sse-kms",
        "SSE-KMS default encryption",
        lambda: s3.get_bucket_encryption(Bucket=bucket),
        encryption,
    )

    def policy(response: dict) -> tuple[bool, str]:
        document = json.loads(response["Policy"])
        own_account = trail_arn.split(":")[4]

        def put(source_arn: str, account: str = own_account) -> Request:
            # Where the trail writes: under its S3 key prefix, when it has one.
            where = region_prefix(organization_id, account, "", key_prefix)
            folder = f"{bucket}/{where}".rstrip("/")
            context = {
                "aws:SecureTransport": "true",
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceArn": source_arn,
            }
            return Request(
                "s3:PutObject",
                f"arn:{reader.partition}:s3:::{folder}/x.json.gz",
                service="cloudtrail.amazonaws.com",
                context=context,
            )

        if evaluate(document, put(trail_arn)) != ALLOW:
            return False, f"CloudTrail may not write for {trail_arn}"
        # The organization trail writes each account's logs under AWSLogs/<organization>/<account>/,
        # accounts that join later too: one that is in no organization today stands for them.
        if evaluate(document, put(trail_arn, ANY_OTHER_ACCOUNT)) != ALLOW:
            return False, (
                f"CloudTrail may write only {own_account}'s logs, not every account's "
                f"(AWSLogs/{organization_id}/*)"
            )
        exact = evaluate(document, put(f"{trail_arn}-other")) != ALLOW
        return (
            exact,
            "only this trail may write"
            if exact
            else "other trails may write too (aws:SourceArn missing)",
        )

    checks.guarded(
        "bucket.policy",
        "policy lets this trail write",
        lambda: s3.get_bucket_policy(Bucket=bucket),
        policy,
    )
    return default_rule


def check_keys(
    checks: Checks,
    reader: Account,
    trail_key: str | None,
    bucket_rule: dict,
    security_account: str | None,
    members: set[str],
) -> None:
    """The trail's key and the bucket's default key: customer managed keys, enabled, of the
    security account (or, when it is not known, of an account of the organisation)."""
    owner = (
        f"the security account {security_account}"
        if security_account
        else "an active account of the organisation (no security account given)"
    )
    bucket_key = bucket_rule.get("KMSMasterKeyID")
    keys = (
        [("keys.trail-key", "trail key", trail_key)] if trail_key else []
    )  # none: "KMS encryption" fails
    if bucket_rule.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
        # SSE-KMS without a key ID uses the AWS managed key aws/s3 (S3 API reference,
        # ServerSideEncryptionByDefault `KMSMasterKeyID`).
        keys.append(("keys.bucket-key", "bucket key", bucket_key))
    for check_id, what, key in keys:
        name = f"{what} is a customer managed key of the security account"
        if not key:
            checks.add(check_id, name, False, "no KMSMasterKeyID: the AWS managed key aws/s3")
            continue

        def judge(response: dict) -> tuple[bool, str]:
            metadata = response["KeyMetadata"]
            account = metadata["Arn"].split(":")[4]
            problems = []
            if metadata.get("KeyManager") != "CUSTOMER":
                problems.append(f"managed by {metadata.get('KeyManager')}, not the customer")
            if metadata.get("KeyState") != "Enabled":
                problems.append(f"{metadata.get('KeyState')}")
            if security_account and account != security_account:
                problems.append(f"owned by {account}")
            elif not security_account and account not in members:
                problems.append(f"owned by {account}, not an active account of the organisation")
            return not problems, "; ".join([metadata["Arn"], *problems]) + f" (expected: {owner})"

        region = key.split(":")[3] if key.startswith("arn:") else None
        checks.guarded(
            check_id,
            name,
            lambda key=key, region=region: reader.client("kms", region).describe_key(KeyId=key),
            judge,
        )


def check_delivery(
    checks: Checks,
    reader: Account,
    bucket: str,
    organization_id: str,
    active: list[dict],
    regions: list[str] | None,
    now: datetime,
    key_prefix: str = "",
    concurrency: int = DEFAULT_CONCURRENCY,
) -> None:
    """Every active account has a log file of the last 24 hours, under the trail's key prefix."""
    s3 = reader.client("s3")
    since = now - timedelta(hours=24)

    def delivered(account: dict) -> bool | str:
        """Whether the account delivered, or why that could not be read."""
        try:
            account_regions = regions or delivered_regions(
                s3, bucket, organization_id, account["Id"], key_prefix
            )
            return any(
                deliveries(s3, bucket, organization_id, account["Id"], r, since, now, key_prefix)
                for r in account_regions
            )
        except AWS_ERRORS as error:
            return error_text(error)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = list(pool.map(delivered, active))
    silent, unverified = [], []
    for account, outcome in zip(active, outcomes, strict=True):
        named = f"{account['Id']} ({account.get('Name', '')})"
        if isinstance(outcome, str):
            # Not read is not delivered: the account counts as unverified, never as fine.
            checks.add(
                "delivery.account",
                f"account {account['Id']}",
                False,
                outcome,
                subject=account["Id"],
            )
            unverified.append(named)
        elif not outcome:
            silent.append(named)
    problems = [f"silent: {', '.join(silent)}"] if silent else []
    problems += [f"not verified: {', '.join(unverified)}"] if unverified else []
    detail = "; ".join(problems) or f"{len(active)} active accounts delivered"
    checks.add(
        "delivery.every-account",
        "every active account delivered in the last 24 h",
        not problems,
        detail,
    )


def check_analysis(checks: Checks, reader: Account, region: str, active: list[dict]) -> None:
    """Athena sees every active account: partition projection of type enum sees only the
    accounts its values list (Athena User Guide, partition projection, enum), so an account
    missing there is skipped by every query over the organisation, silently."""

    def read() -> dict:
        glue = reader.client("glue", region)
        return glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]

    def judge(table: dict) -> tuple[bool, str]:
        parameters = table.get("Parameters") or {}
        if parameters.get("projection.enabled") != "true":
            return False, f"{DATABASE}.{TABLE} does not project its partitions"
        listed = {a for a in parameters.get(ACCOUNT_PROJECTION, "").split(",") if a}
        unseen = [f"{a['Id']} ({a.get('Name', '')})" for a in active if a["Id"] not in listed]
        if unseen:
            return False, f"not in {ACCOUNT_PROJECTION}, so no query sees them: " + ", ".join(
                unseen
            )
        return True, f"{len(active)} active accounts projected"

    checks.guarded("analysis.every-account", "Athena sees every active account", read, judge)


@dataclass(frozen=True)
class Pipeline:
    """What the guardrails protect, for probing their content."""

    partition: str
    buckets: tuple[str, ...]  # ARNs of the log bucket and its access-log bucket
    key_arn: str | None
    security_account: str | None


PROBE_ROLE = "org-trail-verify-probe"  # a role no exemption should name
OUTSIDER_ORGANIZATION = "o-outsider000"


def guardrail_problems(name: str, content: dict, pipeline: Pipeline) -> list[str]:
    """What the guardrail policy `name` no longer denies (empty: all it must), evaluated with
    the project's policy evaluator rather than matched by name."""
    if name == "org-trail-block-public-access":
        # Organizations S3 policy syntax: the four settings assigned "all".
        assigned = (
            content.get("s3_attributes", {})
            .get("public_access_block_configuration", {})
            .get("@@assign")
        )
        return [] if assigned == "all" else [f"public_access_block_configuration is {assigned!r}"]
    p = pipeline.partition
    objects = [f"{bucket}/AWSLogs/x" for bucket in pipeline.buckets]
    keys = [pipeline.key_arn] if pipeline.key_arn else []
    if name == "org-trail-deny-leave-organization":
        member = f"arn:{p}:iam::{ANY_OTHER_ACCOUNT}:role/{PROBE_ROLE}"
        probes = [Request("organizations:LeaveOrganization", "*", principal_arn=member)]
    elif name == "org-trail-protect-log-pipeline":
        insider = f"arn:{p}:iam::{pipeline.security_account or ANY_OTHER_ACCOUNT}:role/{PROBE_ROLE}"
        wanted = [(a, r) for a in PIPELINE_BUCKET_ACTIONS for r in pipeline.buckets]
        wanted += [(a, r) for a in PIPELINE_OBJECT_ACTIONS for r in objects]
        wanted += [(a, r) for a in PIPELINE_KEY_ACTIONS for r in keys]
        context = {"aws:PrincipalArn": insider}
        probes = [Request(a, r, principal_arn=insider, context=context) for a, r in wanted]
    elif name == "org-trail-log-data-perimeter":
        outsider = f"arn:{p}:iam::{ANY_OTHER_ACCOUNT}:role/{PROBE_ROLE}"
        context = {
            "aws:PrincipalOrgID": OUTSIDER_ORGANIZATION,
            "aws:PrincipalIsAWSService": "false",
        }
        wanted = [("s3:GetObject", r) for r in objects] + [("kms:Decrypt", k) for k in keys]
        probes = [Request(a, r, principal_arn=outsider, context=context) for a, r in wanted]
    else:
        return [f"{name} is not a guardrail this tool knows"]
    allowed: dict[str, list[str]] = {}
    for probe in probes:
        if evaluate(content, probe) != DENY:
            allowed.setdefault(probe.resource, []).append(probe.action)
    return [f"does not deny {', '.join(actions)} on {arn}" for arn, actions in allowed.items()]


def check_guardrails(
    checks: Checks, management: Account, expected: Expected, pipeline: Pipeline
) -> None:
    """Each guardrail policy type enabled on the root, org-trail's policies of it attached, and
    each of them still denying what it must."""
    organizations = management.client("organizations")
    try:
        root = organizations.list_roots()["Roots"][0]
    except AWS_ERRORS as error:
        checks.add("guardrails.policy-types", "policy types", False, error_text(error))
        return
    # PolicyTypeSummary.Status: ENABLED, PENDING_ENABLE or PENDING_DISABLE; only the first applies.
    statuses = {t["Type"]: t.get("Status") for t in root.get("PolicyTypes", [])}
    for kind in expected.guardrail_types:
        name = f"{kind} enabled and attached"
        attached = functools.partial(checks.add, "guardrails.attached", name, subject=kind)
        if statuses.get(kind) != "ENABLED":
            state = "not enabled" if kind not in statuses else f"{statuses[kind]}, not ENABLED"
            attached(
                False,
                f"{state}: aws organizations enable-policy-type "
                f"--root-id {root['Id']} --policy-type {kind}",
            )
            continue
        try:
            ours = [
                p
                for p in paginate(organizations, "list_policies", "Policies", Filter=kind)
                if p["Name"].startswith("org-trail-")
            ]
            places = {
                p["Name"]: [
                    t["TargetId"]
                    for t in paginate(
                        organizations, "list_targets_for_policy", "Targets", PolicyId=p["Id"]
                    )
                ]
                for p in ours
            }
        except AWS_ERRORS as error:
            attached(False, error_text(error))
            continue
        unattached = sorted(policy for policy, targets in places.items() if not targets)
        detail = "; ".join(
            f"{policy} -> {', '.join(targets)}" for policy, targets in places.items()
        )
        if not places:
            attached(False, "no org-trail policy of this type")
            continue
        attached(
            not unattached,
            f"not attached: {', '.join(unattached)}" if unattached else detail,
        )
        for guardrail in (g for g in expected.guardrails if GUARDRAILS[g] == kind):
            _check_content(checks, organizations, guardrail, ours, pipeline)


def _check_content(
    checks: Checks, organizations, guardrail: str, ours: list[dict], pipeline: Pipeline
) -> None:
    name = f"{guardrail} denies what it must"
    policy = next((p for p in ours if p["Name"] == guardrail), None)
    if policy is None:
        checks.add(
            "guardrails.content", name, False, f"no policy named {guardrail}", subject=guardrail
        )
        return

    def judge(response: dict) -> tuple[bool, str]:
        problems = guardrail_problems(
            guardrail, json.loads(response["Policy"]["Content"]), pipeline
        )
        return not problems, "; ".join(problems) or "every probe denied"

    checks.guarded(
        "guardrails.content",
        name,
        lambda: organizations.describe_policy(PolicyId=policy["Id"]),
        judge,
        subject=guardrail,
    )


def verify(
    management: Account,
    log_bucket: str,
    trail_name: str,
    region: str,
    regions: list[str] | None = None,
    reader: Account | None = None,
    now: datetime | None = None,
    expected: Expected = Expected(),
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[Check]:
    checks = Checks()
    reader = reader or management
    accepted = own_log_buckets(reader, log_bucket)
    trail = check_trail(checks, management, trail_name, region, log_bucket, expected, accepted)
    organizations = management.client("organizations")
    try:
        organization_id = organizations.describe_organization()["Organization"]["Id"]
    except AWS_ERRORS as error:
        checks.add("organization.readable", "readable", False, error_text(error))
        return checks.items
    trail_arn = (
        trail["TrailARN"]
        if trail
        else f"arn:{management.partition}:cloudtrail:{region}:{management.account_id}:trail/{trail_name}"
    )
    key_prefix = (trail or {}).get("S3KeyPrefix") or ""
    bucket_rule = check_bucket(
        checks, reader, log_bucket, trail_arn, organization_id, key_prefix, expected.object_lock
    )
    try:
        accounts = paginate(organizations, "list_accounts", "Accounts")
    except AWS_ERRORS as error:
        accounts, unlisted = [], error_text(error)
    else:
        unlisted = None
    active = sorted((a for a in accounts if account_state(a) == ACTIVE), key=lambda a: a["Id"])
    # The security account: as the stack says, else the account whose role reads the bucket.
    security = expected.security_account or (
        reader.account_id if reader is not management else None
    )
    trail_key = (trail or {}).get("KmsKeyId")
    check_keys(checks, reader, trail_key, bucket_rule, security, {a["Id"] for a in active})
    buckets = tuple(prefix.rstrip("/") for prefix in accepted)  # the log buckets' ARNs
    pipeline = Pipeline(management.partition, buckets, trail_key, security)
    check_guardrails(checks, management, expected, pipeline)
    check_alert_path(
        checks, management, trail, expected.insights and expected.insights_notifications
    )
    if unlisted is not None:
        checks.add("delivery.every-account", "accounts", False, unlisted)
        return checks.items
    check_analysis(checks, reader, region, active)
    check_delivery(
        checks,
        reader,
        log_bucket,
        organization_id,
        active,
        regions,
        (now or datetime.now(UTC)).astimezone(UTC),
        key_prefix,
        concurrency,
    )
    return checks.items


# --- command -------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = command(
        subparsers,
        "verify",
        summary="check the live trail, bucket and delivery against what the stacks promise",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        examples=(
            (
                "everything, with what both stacks configure",
                "orgtrail verify --log-bucket acme-org-trail-logs --trail org-trail "
                "--stack-config Pulumi.management.yaml --stack-config Pulumi.security.yaml",
            ),
            (
                "the bucket read through the security account, JSON for a scheduled job",
                "orgtrail verify --log-bucket acme-org-trail-logs --trail org-trail "
                "--log-bucket-role-arn arn:aws:iam::222222222222:role/org-trail-log-reader --json",
            ),
        ),
        exit_codes={0: "every check passed", 1: "a check failed (each failure has its detail)"},
    )
    parser.add_argument("--log-bucket", required=True, help="the organization trail's S3 bucket")
    parser.add_argument("--trail", required=True, help="organization trail name or ARN")
    parser.add_argument(
        "--region", type=region_name, help="the trail's home region (default: the session's)"
    )
    parser.add_argument(
        "--regions",
        type=region_names,
        default="",
        help="comma-separated regions to look for deliveries in (default: every region found)",
    )
    parser.add_argument(
        "--log-bucket-role-arn",
        type=role_arn,
        help="role to assume for reading the central bucket and its key (IAM role ARN)",
    )
    parser.add_argument(
        "--stack-config",
        type=Path,
        action="append",
        default=[],
        help="a stack file, repeatable: Pulumi.<management stack>.yaml for the data events, "
        "Insights and guardrails it configures (default: all of them), Pulumi.<security "
        "stack>.yaml for the Object Lock retention and the account owning the keys",
    )
    parser.add_argument(
        "--concurrency",
        type=at_least_one,
        default=DEFAULT_CONCURRENCY,
        help="accounts whose deliveries are read at once",
    )
    add_json(parser, "verify")
    add_profile(parser)
    parser.set_defaults(run=run)


def expected_from(paths: Sequence[Path] | Path | None) -> Expected:
    """What the stack files given ask for: each says what its stack configures."""
    if isinstance(paths, Path):
        paths = [paths]
    found: dict = {}
    for settings in (load_stack_settings(path) for path in paths or ()):
        if isinstance(settings, ManagementSettings):
            guardrails = settings.guardrails
            wanted = {
                "org-trail-deny-leave-organization": guardrails.deny_leave_organization,
                "org-trail-protect-log-pipeline": guardrails.protect_log_pipeline,
                "org-trail-log-data-perimeter": guardrails.data_perimeter,
                "org-trail-block-public-access": guardrails.block_public_access,
            }
            found |= {
                "s3": settings.data_events.s3,
                "lambda_functions": settings.data_events.lambda_functions,
                "insights": settings.insights,
                "insights_notifications": settings.alarms.insights_notifications,
                "network_sources": tuple(settings.data_events.network_activity),
                "guardrails": tuple(name for name in GUARDRAILS if wanted[name]),
            }
        else:
            lock = settings.object_lock
            found["object_lock"] = (lock.mode, lock.days)
        found["security_account"] = settings.organization.security_account_id
    return Expected(**found)


def run(args: argparse.Namespace, console: Console) -> int:
    try:
        expected = expected_from(args.stack_config)
        management = current_account(args.profile, args.region)
        reader = bucket_reader(management, args.log_bucket_role_arn)
    except (ConfigError, StackConfigError, CredentialError, OSError) as error:
        return refuse(args, str(error), type(error).__name__)
    regions = args.regions or None
    region = args.region or management.session.region_name
    results = verify(
        management,
        args.log_bucket,
        args.trail,
        region,
        regions,
        reader,
        expected=expected,
        concurrency=args.concurrency,
    )
    failed = sum(not check.ok for check in results)
    if args.json:
        print(
            document(
                trail=args.trail,
                logBucket=args.log_bucket,
                region=region,
                checks=[check_json(check) for check in results],
                summary={"passed": len(results) - failed, "failed": failed},
            )
        )
    else:
        table = data_table(
            f"verify {args.trail} -> s3://{args.log_bucket}", ("id", "check", "result", "detail")
        )
        for check in results:
            result = Text.assemble(("PASS", "green") if check.ok else ("FAIL", "red"))
            add_row(table, check.id, check.name, result, check.detail)
        console.print(table)
        console.print(Text(f"{len(results) - failed} passed, {failed} failed"), soft_wrap=True)
    return 1 if failed else 0


def check_json(check: Check) -> dict:
    return {
        "id": check.id,
        "area": check.area,
        "subject": check.subject,
        "name": check.name,
        "result": "PASS" if check.ok else "FAIL",
        "ok": check.ok,
        "detail": check.detail,
    }
