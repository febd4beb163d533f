"""`orgtrail verify`: check the live setup against what the two stacks promise.

The trail: an organization, multi-region, logging, validated, KMS-encrypted
trail with Insights and S3 + Lambda data events. The central bucket: Object
Lock with a default retention, versioning, all of Block Public Access,
SSE-KMS, a policy letting CloudTrail write for this exact trail. Delivery:
every active account of the organisation has log files from the last 24
hours; silent accounts are named.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from orgtrail.aws import (
    AWS_ERRORS,
    Account,
    CredentialError,
    bucket_reader,
    current_account,
    error_text,
    paginate,
)
from orgtrail.deliveries import delivered_regions, deliveries
from orgtrail.policy_eval import ALLOW, Request, evaluate

INSIGHT_TYPES = {"ApiCallRateInsight", "ApiErrorRateInsight"}
DATA_EVENT_TYPES = {"AWS::S3::Object", "AWS::Lambda::Function"}
BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


@dataclass
class Check:
    area: str
    name: str
    ok: bool
    detail: str = ""


class Checks:
    def __init__(self):
        self.items: list[Check] = []

    def add(self, area: str, name: str, ok: bool, detail: str = "") -> None:
        self.items.append(Check(area, name, bool(ok), detail))

    def guarded(self, area: str, name: str, read, judge) -> None:
        """Run one read; an API error is a failed check, named, not a crash."""
        try:
            value = read()
            ok, detail = judge(value)
        except (
            *AWS_ERRORS,
            ValueError,
            KeyError,
        ) as error:  # an API error, or a policy that is not JSON
            self.add(area, name, False, error_text(error))
            return
        self.add(area, name, ok, detail)


def _requires(required: set[str], present: set[str], detail: str) -> tuple[bool, str]:
    """Every required item present (detail), or which are missing."""
    missing = required - present
    return not missing, f"missing {', '.join(sorted(missing))}" if missing else detail


def _selector_types(selectors: dict) -> set[str]:
    types = set()
    for selector in selectors.get("AdvancedEventSelectors") or []:
        for field in selector.get("FieldSelectors", []):
            if field.get("Field") == "resources.type":
                types.update(field.get("Equals", []))
    for selector in selectors.get("EventSelectors") or []:
        types.update(resource.get("Type") for resource in selector.get("DataResources", []))
    return types


def check_trail(
    checks: Checks, management: Account, trail_name: str, region: str, log_bucket: str
) -> dict | None:
    cloudtrail = management.client("cloudtrail", region)
    try:
        listed = cloudtrail.describe_trails(trailNameList=[trail_name], includeShadowTrails=False)[
            "trailList"
        ]
    except AWS_ERRORS as error:
        checks.add("trail", "exists", False, error_text(error))
        return None
    found = [t for t in listed if trail_name in (t.get("Name"), t.get("TrailARN"))]
    if not found:
        checks.add("trail", "exists", False, f"no trail {trail_name} in {region}")
        return None
    trail = found[0]
    arn = trail["TrailARN"]
    checks.add("trail", "exists", True, arn)
    checks.add("trail", "organization trail", trail.get("IsOrganizationTrail"))
    checks.add("trail", "multi-region", trail.get("IsMultiRegionTrail"))
    checks.add("trail", "log file validation", trail.get("LogFileValidationEnabled"))
    checks.add(
        "trail", "KMS encryption", trail.get("KmsKeyId"), trail.get("KmsKeyId") or "no KmsKeyId"
    )
    checks.add(
        "trail",
        "delivers to the central bucket",
        trail.get("S3BucketName") == log_bucket,
        str(trail.get("S3BucketName")),
    )
    checks.guarded(
        "trail",
        "logging without delivery errors",
        lambda: cloudtrail.get_trail_status(Name=arn),
        lambda status: (
            bool(status.get("IsLogging")) and not status.get("LatestDeliveryError"),
            status.get("LatestDeliveryError")
            or ("logging" if status.get("IsLogging") else "not logging"),
        ),
    )

    def insights(response: dict) -> tuple[bool, str]:
        enabled = {selector["InsightType"] for selector in response.get("InsightSelectors", [])}
        return _requires(INSIGHT_TYPES, enabled, ", ".join(sorted(enabled)))

    checks.guarded(
        "trail", "Insights", lambda: cloudtrail.get_insight_selectors(TrailName=arn), insights
    )

    def data_events(response: dict) -> tuple[bool, str]:
        return _requires(
            DATA_EVENT_TYPES, _selector_types(response), "S3 objects and Lambda functions"
        )

    checks.guarded(
        "trail",
        "S3 and Lambda data events",
        lambda: cloudtrail.get_event_selectors(TrailName=arn),
        data_events,
    )
    return trail


def check_bucket(
    checks: Checks, reader: Account, bucket: str, trail_arn: str, organization_id: str
) -> None:
    s3 = reader.client("s3")

    def lock(response: dict) -> tuple[bool, str]:
        config = response.get("ObjectLockConfiguration", {})
        retention = config.get("Rule", {}).get("DefaultRetention")
        ok = config.get("ObjectLockEnabled") == "Enabled" and bool(retention)
        detail = (
            f"{retention.get('Mode')} {retention.get('Days') or retention.get('Years')}"
            if retention
            else "no default retention"
        )
        return ok, detail

    checks.guarded(
        "bucket",
        "Object Lock with default retention",
        lambda: s3.get_object_lock_configuration(Bucket=bucket),
        lock,
    )
    checks.guarded(
        "bucket",
        "versioning",
        lambda: s3.get_bucket_versioning(Bucket=bucket),
        lambda r: (r.get("Status") == "Enabled", r.get("Status", "never enabled")),
    )

    def block(response: dict) -> tuple[bool, str]:
        config = response.get("PublicAccessBlockConfiguration", {})
        off = [setting for setting in BLOCK_SETTINGS if not config.get(setting)]
        return not off, f"off: {', '.join(off)}" if off else "all four on"

    checks.guarded(
        "bucket", "Block Public Access", lambda: s3.get_public_access_block(Bucket=bucket), block
    )

    def encryption(response: dict) -> tuple[bool, str]:
        rules = response.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        algorithms = [
            r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules
        ]
        return any(a in ("aws:kms", "aws:kms:dsse") for a in algorithms), ", ".join(
            filter(None, algorithms)
        )

    checks.guarded(
        "bucket",
        "SSE-KMS default encryption",
        lambda: s3.get_bucket_encryption(Bucket=bucket),
        encryption,
    )

    def policy(response: dict) -> tuple[bool, str]:
        document = json.loads(response["Policy"])
        account = trail_arn.split(":")[4]
        key = f"arn:{reader.partition}:s3:::{bucket}/AWSLogs/{organization_id}/{account}/CloudTrail/x.json.gz"

        def put(source_arn: str) -> Request:
            context = {
                "aws:SecureTransport": "true",
                "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SourceArn": source_arn,
            }
            return Request("s3:PutObject", key, service="cloudtrail.amazonaws.com", context=context)

        allowed = evaluate(document, put(trail_arn)) == ALLOW
        exact = evaluate(document, put(f"{trail_arn}-other")) != ALLOW
        if not allowed:
            return False, f"CloudTrail may not write for {trail_arn}"
        return (
            exact,
            "only this trail may write"
            if exact
            else "other trails may write too (aws:SourceArn missing)",
        )

    checks.guarded(
        "bucket",
        "policy lets this trail write",
        lambda: s3.get_bucket_policy(Bucket=bucket),
        policy,
    )


def check_delivery(
    checks: Checks,
    management: Account,
    reader: Account,
    bucket: str,
    organization_id: str,
    regions: list[str] | None,
    now: datetime,
) -> None:
    try:
        accounts = paginate(management.client("organizations"), "list_accounts", "Accounts")
    except AWS_ERRORS as error:
        checks.add("delivery", "accounts", False, error_text(error))
        return
    active = sorted((a for a in accounts if a.get("Status") == "ACTIVE"), key=lambda a: a["Id"])
    s3 = reader.client("s3")
    since = now - timedelta(hours=24)
    silent = []
    for account in active:
        try:
            account_regions = regions or delivered_regions(
                s3, bucket, organization_id, account["Id"]
            )
            delivered = any(
                deliveries(s3, bucket, organization_id, account["Id"], r, since, now)
                for r in account_regions
            )
        except AWS_ERRORS as error:
            checks.add("delivery", f"account {account['Id']}", False, error_text(error))
            continue
        if not delivered:
            silent.append(f"{account['Id']} ({account.get('Name', '')})")
    detail = (
        f"silent: {', '.join(silent)}" if silent else f"{len(active)} active accounts delivered"
    )
    checks.add("delivery", "every active account delivered in the last 24 h", not silent, detail)


def verify(
    management: Account,
    log_bucket: str,
    trail_name: str,
    region: str,
    regions: list[str] | None = None,
    reader: Account | None = None,
    now: datetime | None = None,
) -> list[Check]:
    checks = Checks()
    reader = reader or management
    trail = check_trail(checks, management, trail_name, region, log_bucket)
    try:
        organization_id = management.client("organizations").describe_organization()[
            "Organization"
        ]["Id"]
    except AWS_ERRORS as error:
        checks.add("organization", "readable", False, error_text(error))
        return checks.items
    trail_arn = (
        trail["TrailARN"]
        if trail
        else f"arn:{management.partition}:cloudtrail:{region}:{management.account_id}:trail/{trail_name}"
    )
    check_bucket(checks, reader, log_bucket, trail_arn, organization_id)
    check_delivery(
        checks,
        management,
        reader,
        log_bucket,
        organization_id,
        regions,
        (now or datetime.now(UTC)).astimezone(UTC),
    )
    return checks.items


# --- command -------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check the live trail, bucket and delivery against what the stacks promise",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("--log-bucket", required=True)
    parser.add_argument("--trail", required=True, help="organization trail name")
    parser.add_argument("--region", help="the trail's home region (default: the session's)")
    parser.add_argument(
        "--regions", default="", help="regions to look for deliveries (default: every region found)"
    )
    parser.add_argument(
        "--log-bucket-role-arn", help="role to assume for reading the central bucket"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    try:
        management = current_account(args.profile, args.region)
        reader = bucket_reader(management, args.log_bucket_role_arn)
    except CredentialError as error:
        console.print(f"[red]error:[/] {error}", highlight=False)
        return 2
    regions = [r.strip() for r in args.regions.split(",") if r.strip()] or None
    region = args.region or management.session.region_name
    results = verify(management, args.log_bucket, args.trail, region, regions, reader)
    if args.json:
        print(json.dumps([asdict(check) for check in results], indent=2))
    else:
        table = Table(title=f"verify {args.trail} -> s3://{args.log_bucket}")
        for column in ("area", "check", "result", "detail"):
            table.add_column(column)
        for check in results:
            table.add_row(
                check.area,
                check.name,
                "[green]PASS[/]" if check.ok else "[red]FAIL[/]",
                check.detail,
            )
        console.print(table)
    return 0 if all(check.ok for check in results) else 1
