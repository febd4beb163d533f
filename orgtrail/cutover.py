"""`orgtrail cutover`: stop legacy trails only once the organization trail has provably replaced them.

For each legacy trail of the management stack's config, the central bucket
must hold the organization trail's log files for that account and region over
the whole overlap window, with no silence longer than --max-gap-hours, and
the organization trail must be logging without delivery errors. Only then,
and only with --apply, is the legacy trail stopped (StopLogging). Trails are
never deleted and their buckets never touched. Without --apply: a dry run.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from orgtrail.aws import (
    AWS_ERRORS,
    Account,
    CredentialError,
    bucket_reader,
    current_account,
    error_code,
    error_text,
)
from orgtrail.config import ConfigError, LegacyTrail, ManagementSettings, load_settings
from orgtrail.deliveries import coverage_gap, deliveries
from orgtrail.stack_config import StackConfigError, read_stack_config

STOPPED, ALREADY_STOPPED, READY, WITHHELD = "stopped", "already-stopped", "ready", "withheld"


@dataclass
class TrailDecision:
    """One legacy trail's outcome; field names are the report's JSON keys."""

    accountId: str
    region: str
    trailName: str
    action: str
    reason: str = ""
    deliveries: int = 0
    firstDelivery: str | None = None
    lastDelivery: str | None = None


def load_management_settings(path: Path) -> ManagementSettings:
    """The management stack's settings from its Pulumi.<stack>.yaml (with Pulumi.yaml defaults beside it)."""
    name = path.name
    if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))):
        raise StackConfigError(f"{path} is not a stack config file (Pulumi.<stack>.yaml)")
    stack = name[len("Pulumi.") :].rsplit(".", 1)[0]
    settings = load_settings(read_stack_config(path.parent, stack), stack)
    if not isinstance(settings, ManagementSettings):
        raise StackConfigError(f"{path} configures the {stack} stack, not the management stack")
    return settings


def organization_trail_problem(management: Account, settings: ManagementSettings) -> str | None:
    org = settings.organization
    try:
        status = management.client("cloudtrail", org.region).get_trail_status(Name=org.trail_arn)
    except AWS_ERRORS as error:
        return f"organization trail {org.trail_arn} cannot be read: {error_text(error)}"
    if not status.get("IsLogging"):
        return f"organization trail {org.trail_arn} is not logging"
    if status.get("LatestDeliveryError"):
        return f"organization trail reports a delivery error: {status['LatestDeliveryError']}"
    return None


def _decide(
    management: Account,
    reader: Account,
    settings: ManagementSettings,
    trail: LegacyTrail,
    log_bucket: str,
    window: tuple[datetime, datetime],
    max_gap: timedelta,
    trail_problem: str | None,
    apply: bool,
) -> TrailDecision:
    decision = TrailDecision(trail.account_id, trail.region, trail.trail_name, WITHHELD)
    start, end = window
    times = deliveries(
        reader.client("s3"),
        log_bucket,
        settings.organization.organization_id,
        trail.account_id,
        trail.region,
        start,
        end,
    )
    decision.deliveries = len(times)
    if times:
        decision.firstDelivery, decision.lastDelivery = times[0].isoformat(), times[-1].isoformat()
    try:
        member = management.assume(trail.account_id, trail.role_name)
        cloudtrail = member.client("cloudtrail", trail.region)
        logging = cloudtrail.get_trail_status(Name=trail.trail_name).get("IsLogging")
    except AWS_ERRORS as error:
        not_found = error_code(error) == "TrailNotFoundException"
        decision.reason = (
            "legacy trail not found"
            if not_found
            else f"legacy trail unreadable: {error_text(error)}"
        )
        return decision
    if not logging:
        decision.action = ALREADY_STOPPED
        return decision
    reason = trail_problem or coverage_gap(times, start, end, max_gap)
    if reason:
        decision.reason = reason
        return decision
    if not apply:
        decision.action, decision.reason = READY, "dry run: would stop (run with --apply)"
        return decision
    try:
        cloudtrail.stop_logging(Name=trail.trail_name)
    except AWS_ERRORS as error:
        decision.reason = f"StopLogging failed: {error_text(error)}"
        return decision
    decision.action = STOPPED
    return decision


def cutover(
    management: Account,
    settings: ManagementSettings,
    log_bucket: str,
    overlap: timedelta = timedelta(hours=24),
    max_gap: timedelta = timedelta(hours=2),
    apply: bool = False,
    reader: Account | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    end = (now or datetime.now(UTC)).astimezone(UTC)
    window = (end - overlap, end)
    trail_problem = organization_trail_problem(management, settings)
    decisions = [
        _decide(
            management,
            reader or management,
            settings,
            trail,
            log_bucket,
            window,
            max_gap,
            trail_problem,
            apply,
        )
        for trail in settings.legacy_trails
    ]
    return {
        "organizationId": settings.organization.organization_id,
        "organizationTrailArn": settings.organization.trail_arn,
        "organizationTrailProblem": trail_problem,
        "window": {"start": window[0].isoformat(), "end": window[1].isoformat()},
        "applied": apply,
        "trails": [asdict(d) for d in decisions],
    }


# --- command -------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cutover",
        help="stop legacy trails once the organization trail has covered them (dry run unless --apply)",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument(
        "--stack-config", type=Path, required=True, help="Pulumi.<management stack>.yaml"
    )
    parser.add_argument("--log-bucket", required=True, help="the central log bucket")
    parser.add_argument(
        "--overlap-hours", type=float, default=24.0, help="window the org trail must cover (24)"
    )
    parser.add_argument(
        "--max-gap-hours", type=float, default=2.0, help="longest silence allowed in the window (2)"
    )
    parser.add_argument(
        "--log-bucket-role-arn", help="role to assume for listing the central bucket"
    )
    parser.add_argument("--apply", action="store_true", help="really call StopLogging")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile")
    parser.set_defaults(run=run)


def _table(report: dict) -> Table:
    mode = "applied" if report["applied"] else "dry run"
    table = Table(
        title=f"cutover ({mode}), window {report['window']['start']} .. {report['window']['end']}"
    )
    for column in ("account", "region", "trail", "result", "deliveries", "reason"):
        table.add_column(column)
    colours = {STOPPED: "green", ALREADY_STOPPED: "dim", READY: "cyan", WITHHELD: "red"}
    for trail in report["trails"]:
        result = f"[{colours[trail['action']]}]{trail['action']}[/]"
        table.add_row(
            trail["accountId"],
            trail["region"],
            trail["trailName"],
            result,
            str(trail["deliveries"]),
            trail["reason"],
        )
    return table


def run(args: argparse.Namespace, console: Console) -> int:
    if args.overlap_hours <= 0 or args.max_gap_hours <= 0:
        console.print("[red]error:[/] --overlap-hours and --max-gap-hours must be positive")
        return 2
    try:
        settings = load_management_settings(args.stack_config)
        management = current_account(args.profile, settings.organization.region)
        reader = bucket_reader(management, args.log_bucket_role_arn)
    except (ConfigError, StackConfigError, CredentialError, OSError) as error:
        console.print(f"[red]error:[/] {error}", highlight=False)
        return 2
    if management.account_id != settings.organization.management_account_id:
        console.print(
            f"[red]error:[/] run cutover with credentials of the management account "
            f"{settings.organization.management_account_id}, not {management.account_id}"
        )
        return 2
    report = cutover(
        management,
        settings,
        args.log_bucket,
        timedelta(hours=args.overlap_hours),
        timedelta(hours=args.max_gap_hours),
        args.apply,
        reader,
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        if report["organizationTrailProblem"]:
            console.print(f"[red]{report['organizationTrailProblem']}[/]", highlight=False)
        console.print(_table(report))
    return 1 if any(t["action"] == WITHHELD for t in report["trails"]) else 0
