"""`orgtrail inventory`: every account of the organisation and how CloudTrail is set up in each.

Run from the management account. Each active member account is entered
through an assumed role (OrganizationAccountAccessRole by default); accounts
are scanned concurrently; an account that cannot be entered or scanned gets
an `error` and the scan goes on. `--emit-config` turns the per-account
(legacy) trails into `org-trail:legacyTrails` entries for Pulumi.management.yaml.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from orgtrail.cli import add_json, add_profile, command
from orgtrail.contract.config import DEFAULT_ROLE_NAME, config_key
from orgtrail.ops.aws import (
    ACTIVE,
    AWS_ERRORS,
    DEFAULT_CONCURRENCY,
    Account,
    CredentialError,
    RegionReader,
    account_state,
    at_least_one,
    current_account,
    enabled_regions,
    error_code,
    error_text,
    paginate,
    region_names,
)
from orgtrail.output import add_row, data_table, document, refuse


def trail_account(arn: str) -> str:
    return arn.split(":")[4]


def _trail_entry(member: Account, trail: dict) -> dict[str, Any]:
    home = trail["HomeRegion"]
    entry = {
        "name": trail["Name"],
        "arn": trail["TrailARN"],
        "homeRegion": home,
        "isOrganizationTrail": bool(trail.get("IsOrganizationTrail")),
        "isMultiRegionTrail": bool(trail.get("IsMultiRegionTrail")),
        "isLogging": None,
        "s3BucketName": trail.get("S3BucketName"),
        "s3KeyPrefix": trail.get("S3KeyPrefix") or "",
        "kmsKeyId": trail.get("KmsKeyId"),
        "logFileValidationEnabled": bool(trail.get("LogFileValidationEnabled")),
        "ownerAccountId": trail_account(trail["TrailARN"]),
    }
    try:
        status = member.client("cloudtrail", home).get_trail_status(Name=trail["TrailARN"])
        entry["isLogging"] = bool(status.get("IsLogging"))
        entry["latestDeliveryError"] = status.get("LatestDeliveryError") or None
    except AWS_ERRORS as error:
        entry["statusError"] = error_text(error)
    if is_legacy(entry, member.account_id):
        entry.update(_lifecycle(member, entry["s3BucketName"], home))
    return entry


def is_legacy(trail: dict, account_id: str) -> bool:
    """A trail of this account's own, not the organization trail nor its copy in a member account."""
    return not trail["isOrganizationTrail"] and trail["ownerAccountId"] == account_id


def _lifecycle(member: Account, bucket: str | None, region: str) -> dict[str, Any]:
    if not bucket:
        return {}
    try:
        rules = member.client("s3", region).get_bucket_lifecycle_configuration(Bucket=bucket)[
            "Rules"
        ]
    except AWS_ERRORS as error:
        if error_code(error) == "NoSuchLifecycleConfiguration":
            return {"bucketLifecycleRules": []}
        return {"bucketLifecycleRules": None, "bucketLifecycleError": error_text(error)}
    return {"bucketLifecycleRules": [rule.get("ID", "") for rule in rules]}


def bucket_region(account: Account, bucket: str) -> str:
    """GetBucketLocation's answer as a region name (None means us-east-1, EU means eu-west-1)."""
    location = account.client("s3").get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def _owned_buckets(member: Account, entry: dict[str, Any]) -> set[str]:
    """Names of the buckets this account owns, so shared legacy buckets find their owner."""
    try:
        return {bucket["Name"] for bucket in member.client("s3").list_buckets()["Buckets"]}
    except AWS_ERRORS as error:
        entry["bucketsError"] = f"ListBuckets: {error_text(error)}"
        return set()


def scan_account(
    base: Account,
    account: dict,
    regions: list[str] | None,
    role_name: str,
    owners: dict[str, str] | None = None,
    reader: RegionReader | None = None,
) -> dict[str, Any]:
    """One account's trails; `owners` (bucket -> account) gains the buckets it owns.

    `regions` None: the regions this account has enabled, opt-in ones included, as the
    account itself lists them (a region one member opted into is not the management
    account's)."""
    entry: dict[str, Any] = {
        "accountId": account["Id"],
        "name": account.get("Name", ""),
        "status": account_state(account),  # from State; Status is retired
        "trails": [],
        "error": None,
        "notScanned": None,
        "regions": [],
        "regionErrors": {},
    }
    if entry["status"] != ACTIVE:
        # Suspended, closing or closed: not entered, and named so the inventory is not
        # taken for complete (its trails, if any, are not listed).
        entry["notScanned"] = f"not scanned: the account is {entry['status']}"
        return entry
    try:
        member = base.assume(account["Id"], role_name)
    except AWS_ERRORS as error:
        entry["error"] = f"cannot assume {role_name}: {error_text(error)}"
        return entry
    if regions is None:
        try:
            regions = (reader or RegionReader(base)).regions(account["Id"], member)
        except AWS_ERRORS as error:
            regions = enabled_regions(base)
            entry["regionErrors"]["DescribeRegions"] = (
                f"{error_text(error)}; read the management account's regions instead, "
                "so regions only this account enabled may be missing"
            )
    entry["regions"] = regions
    seen: set[str] = set()
    for region in regions:
        # Every region is tried: one that fails (an opt-in region not enabled, an SCP) is
        # named and the scan goes on to the next.
        try:
            trails = member.client("cloudtrail", region).describe_trails(includeShadowTrails=True)[
                "trailList"
            ]
        except AWS_ERRORS as error:
            entry["regionErrors"][region] = error_text(error)
            continue
        for trail in trails:
            # A multi-region trail shows up in every region: keep it once.
            if trail["TrailARN"] not in seen:
                seen.add(trail["TrailARN"])
                entry["trails"].append(_trail_entry(member, trail))
    unreadable = [r for r in regions if r in entry["regionErrors"]]
    if regions and len(unreadable) == len(regions):
        entry["error"] = f"no region could be read ({entry['regionErrors'][regions[0]]})"
    owned = _owned_buckets(member, entry)
    for trail in entry["trails"]:
        if is_legacy(trail, entry["accountId"]) and trail["s3BucketName"] in owned:
            _locate(trail, member)
    if owners is not None:
        owners.update(dict.fromkeys(owned, entry["accountId"]))
    return entry


def _locate(trail: dict[str, Any], owner: Account) -> None:
    """Record the bucket's owner and region, as the stack's archive rules need them."""
    try:
        trail["bucketRegion"] = bucket_region(owner, trail["s3BucketName"])
        trail["bucketAccountId"] = owner.account_id
    except AWS_ERRORS as error:
        trail["bucketLocationError"] = f"GetBucketLocation: {error_text(error)}"


def locate_shared_buckets(
    base: Account, accounts: list[dict], role_name: str, owners: dict[str, str]
) -> None:
    """Legacy buckets another account owns: found among the buckets of every account scanned."""
    for account in accounts:
        for trail in account["trails"]:
            if not is_legacy(trail, account["accountId"]) or "bucketAccountId" in trail:
                continue
            owner = owners.get(trail["s3BucketName"])
            if owner is None:
                trail["bucketLocationError"] = (
                    "the bucket is not in any account the scan could enter"
                )
                continue
            try:
                _locate(trail, base.assume(owner, role_name))
            except AWS_ERRORS as error:
                trail["bucketLocationError"] = (
                    f"cannot assume {role_name} in {owner}: {error_text(error)}"
                )


def inventory(
    base: Account,
    regions: list[str] | None = None,
    role_name: str = DEFAULT_ROLE_NAME,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_account: Callable[[dict], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Scan the organisation. `regions` None means every region each account has enabled."""
    organizations = base.client("organizations")
    organization = organizations.describe_organization()["Organization"]
    accounts = sorted(paginate(organizations, "list_accounts", "Accounts"), key=lambda a: a["Id"])
    regions = regions or None
    if on_total:
        on_total(len(accounts))
    base.client("sts")  # created once here: sessions are not thread-safe, clients are

    owners: dict[str, str] = {}
    reader = RegionReader(base)

    def scan(account: dict) -> dict:
        result = scan_account(base, account, regions, role_name, owners, reader)
        if on_account:
            on_account(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        scanned = list(pool.map(scan, accounts))
    locate_shared_buckets(base, scanned, role_name, owners)
    return {
        "organizationId": organization["Id"],
        "managementAccountId": organization["MasterAccountId"],
        "regions": regions,
        "accounts": scanned,
    }


# --- legacy trail config -----------------------------------------------------------------


def legacy_entries(report: dict) -> tuple[list[dict], list[str]]:
    """legacyTrails entries for every account's own trails, and warnings about their buckets."""
    entries, warnings = [], []
    for account in report["accounts"]:
        for trail in account["trails"]:
            if not is_legacy(trail, account["accountId"]) or not trail["s3BucketName"]:
                continue
            entry = {
                "accountId": account["accountId"],
                "region": trail["homeRegion"],
                "trailName": trail["name"],
                "bucket": trail["s3BucketName"],
            }
            for key in ("bucketAccountId", "bucketRegion"):
                if trail.get(key):
                    entry[key] = trail[key]
            if trail["s3KeyPrefix"]:
                entry["prefix"] = trail["s3KeyPrefix"]
            entries.append(entry)
            if trail.get("bucketLocationError"):
                warnings.append(
                    f"bucket {trail['s3BucketName']} of trail {trail['name']} (account "
                    f"{account['accountId']}): owner or region unknown ({trail['bucketLocationError']}); "
                    "set bucketAccountId and bucketRegion by hand"
                )
            rules = trail.get("bucketLifecycleRules")
            if rules:
                warnings.append(
                    f"bucket {trail['s3BucketName']} (account {account['accountId']}) already has lifecycle "
                    f"rules {', '.join(rules) or '(unnamed)'}: the management stack keeps them beside "
                    "its archive rules, or stops naming any it cannot keep"
                )
            elif rules is None and trail.get("bucketLifecycleError"):
                warnings.append(
                    f"bucket {trail['s3BucketName']} (account {account['accountId']}): lifecycle rules "
                    f"could not be read ({trail['bucketLifecycleError']}); check them before deploying"
                )
    return entries, warnings


class _QuotingDumper(yaml.SafeDumper):
    """Quotes every string: an account ID like 012345678901 must never be read back as a number."""


_QuotingDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
)


def unread(report: dict) -> list[str]:
    """Every account, and every region of an account, whose trails could not be read."""
    lines = []
    for account in report["accounts"]:
        where = f"account {account['accountId']} ({account['name']})"
        for problem in (account.get("notScanned"), account["error"]):
            if problem:
                lines.append(f"{where}: {problem}")
        for region, error in sorted(account.get("regionErrors", {}).items()):
            lines.append(f"{where}, {region}: {error}")
        if account.get("bucketsError"):
            lines.append(f"{where}: {account['bucketsError']}")
    return lines


def emit_config(report: dict) -> tuple[str, list[str]]:
    entries, warnings = legacy_entries(report)
    missed = unread(report)
    header = (
        f"# Legacy trails of organization {report['organizationId']}, found by `orgtrail inventory`.\n"
        "# Paste under `config:` in Pulumi.management.yaml.\n"
    )
    if missed:
        header += "# NOT COMPLETE: these could not be read, so their trails are missing below:\n"
        header += "".join(f"#   {line}\n" for line in missed)
    body = yaml.dump(
        {config_key("legacyTrails"): entries},
        Dumper=_QuotingDumper,
        sort_keys=False,
        default_flow_style=False,
    )
    return header + body, warnings


# --- command ---------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = command(
        subparsers,
        "inventory",
        summary="list every account and its trails",
        description="From the management account: every account of the organisation, "
        "entered through the role each member has for it, and in each of its regions every "
        "trail (organization or its own), where it delivers and whether it is logging.",
        examples=(
            (
                "the whole organisation, each account in the regions it has enabled",
                "orgtrail inventory",
            ),
            ("two regions, as JSON", "orgtrail inventory --regions us-east-1,eu-west-1 --json"),
            (
                "the legacyTrails entries for the management stack",
                "orgtrail inventory --emit-config >> legacy-trails.yaml",
            ),
        ),
        exit_codes={
            0: "every account and region read",
            1: "an account or region could not be read (named in the errors column and the JSON)",
        },
    )
    parser.add_argument(
        "--regions", default="all", help="comma-separated regions, or 'all' each account enables"
    )
    parser.add_argument(
        "--role-name", default=DEFAULT_ROLE_NAME, help="role assumed in each member account"
    )
    parser.add_argument(
        "--concurrency",
        type=at_least_one,
        default=DEFAULT_CONCURRENCY,
        help="accounts scanned at once",
    )
    output = parser.add_mutually_exclusive_group()
    add_json(output, "inventory")
    output.add_argument(
        "--emit-config",
        action="store_true",
        help="print legacyTrails YAML for Pulumi.management.yaml",
    )
    add_profile(parser)
    parser.set_defaults(run=run)


def parse_regions(text: str) -> list[str] | None:
    if text.strip().lower() == "all":
        return None
    try:
        regions = region_names(text)
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"--regions: {error}") from None
    if not regions:
        raise ValueError("--regions needs region names or 'all'")
    return regions


def _table(report: dict) -> Table:
    table = data_table(
        f"organization {report['organizationId']} (management {report['managementAccountId']})",
        ("account", "name", "status", "trails", "errors"),
    )
    for account in report["accounts"]:
        trails = []
        for trail in account["trails"]:
            kind = "org" if trail["isOrganizationTrail"] else "own"
            logging = {True: "logging", False: "stopped", None: "?"}[trail["isLogging"]]
            scope = "all regions" if trail["isMultiRegionTrail"] else trail["homeRegion"]
            trails.append(
                f"{trail['name']} [{kind}, {scope}, {logging}] -> s3://{trail['s3BucketName']}"
            )
        errors = [p for p in (account.get("notScanned"), account["error"]) if p]
        errors += [f"{region}: {error}" for region, error in account["regionErrors"].items()]
        # add_row: Text, not markup, so a trail's "[own, eu-west-1, logging]" stays data.
        add_row(
            table,
            account["accountId"],
            account["name"],
            account["status"],
            "\n".join(trails) or "-",
            "\n".join(errors),
        )
    return table


def run(args: argparse.Namespace, console: Console) -> int:
    try:
        regions = parse_regions(args.regions)
        base = current_account(args.profile)
    except (ValueError, CredentialError) as error:
        return refuse(args, str(error), type(error).__name__)
    errors = Console(stderr=True)
    with Progress(console=errors, transient=True, disable=not errors.is_terminal) as progress:
        task = progress.add_task("scanning accounts", total=None)
        try:
            report = inventory(
                base,
                regions,
                args.role_name,
                args.concurrency,
                on_account=lambda _: progress.advance(task),
                on_total=lambda total: progress.update(task, total=total),
            )
        except AWS_ERRORS as error:
            return refuse(
                args, f"cannot read the organisation: {error_text(error)}", "OrganizationError"
            )
    if args.emit_config:
        text, warnings = emit_config(report)
        sys.stdout.write(text)
        for warning in warnings:
            errors.print(Text.assemble(("warning:", "yellow"), f" {warning}"), soft_wrap=True)
    elif args.json:
        print(document(**report, notRead=unread(report), summary=summary(report)))
    else:
        console.print(_table(report))
        console.print(Text(summary_line(report)), soft_wrap=True)
    return 1 if unread(report) else 0


def summary(report: dict) -> dict[str, int]:
    """The counts both the closing line and the JSON give."""
    trails = [trail for account in report["accounts"] for trail in account["trails"]]
    own = sum(not trail["isOrganizationTrail"] for trail in trails)
    return {
        "accounts": len(report["accounts"]),
        "trails": len(trails),
        "organizationTrails": len(trails) - own,
        "ownTrails": own,
        "notRead": len(unread(report)),
    }


def summary_line(report: dict) -> str:
    """One line at the end: accounts, trails found (organization and own), what was not read."""
    counts = summary(report)
    tail = f"; {counts['notRead']} not read (see the errors column)" if counts["notRead"] else ""
    return (
        f"{counts['accounts']} accounts, {counts['trails']} trails "
        f"({counts['organizationTrails']} organization, {counts['ownTrails']} own){tail}"
    )
