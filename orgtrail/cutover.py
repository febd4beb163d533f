"""`orgtrail cutover`: stop legacy trails only once the organization trail has provably replaced them.

For each legacy trail of the management stack's config: the organization
trail must record everything the legacy trail records (regions, global
service events, management reads and writes, data events, Insights), and the
central bucket must hold its log files for every account and region the
legacy trail covers over the whole overlap window, with no silence longer
than --max-gap-hours. The organization trail is re-read before each stop.
Only then, and only with --apply, is the legacy trail stopped (StopLogging).
Trails are never deleted and their buckets never touched. Without --apply: a
dry run.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from dataclasses import asdict, dataclass, field
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
from orgtrail.deliveries import coverage_gap, deliveries, own_log_buckets
from orgtrail.recording import Recording, missing, recording
from orgtrail.stack_config import StackConfigError, read_stack_config

STOPPED, ALREADY_STOPPED, READY, WITHHELD = "stopped", "already-stopped", "ready", "withheld"
# The runbook's overlap: a day of both trails running before the old one may stop.
MINIMUM_OVERLAP_HOURS = 24.0
MAXIMUM_HOURS = 24.0 * 90  # longer than S3 listing of a window can sensibly cover
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class CutoverError(ValueError):
    """An input or precondition that stops the run before anything is changed (exit 2)."""


@dataclass
class TrailDecision:
    """One legacy trail's outcome; field names are the report's JSON keys."""

    accountId: str
    region: str
    trailName: str
    action: str = WITHHELD
    reason: str = ""
    regions: list[str] = field(default_factory=list)
    deliveries: int = 0
    firstDelivery: str | None = None
    lastDelivery: str | None = None


def load_management_settings(path: Path) -> ManagementSettings:
    """The management stack's settings from its Pulumi.<stack>.yaml (with Pulumi.yaml defaults beside it)."""
    name = path.name
    # Only .yaml: what is read is Pulumi.<stack>.yaml beside it (stack_file), the name this
    # project's stack files have; a .yml name would have had another file read.
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")):
        raise StackConfigError(f"{path} is not a stack config file (Pulumi.<stack>.yaml)")
    stack = name.removeprefix("Pulumi.").removesuffix(".yaml")
    settings = load_settings(read_stack_config(path.parent, stack), stack)
    if not isinstance(settings, ManagementSettings):
        raise StackConfigError(f"{path} configures the {stack} stack, not the management stack")
    return settings


def describe(account: Account, region: str, name: str) -> Recording | None:
    """What the trail `name` (name or ARN) in `region` records, or None when there is none."""
    cloudtrail = account.client("cloudtrail", region)
    listed = cloudtrail.describe_trails(trailNameList=[name], includeShadowTrails=False)[
        "trailList"
    ]
    # Some endpoints (and moto) ignore trailNameList: pick the trail by name or ARN.
    found = [t for t in listed if name in (t.get("Name"), t.get("TrailARN"))]
    if not found:
        return None
    trail = found[0]
    selectors = cloudtrail.get_event_selectors(TrailName=trail["TrailARN"])
    try:
        insights = cloudtrail.get_insight_selectors(TrailName=trail["TrailARN"])
    except AWS_ERRORS as error:
        # A trail without Insights answers InsightNotEnabledException (CloudTrail API reference).
        if error_code(error) != "InsightNotEnabledException":
            raise
        insights = {}
    return recording(trail, selectors, insights)


def organization_trail(
    management: Account, settings: ManagementSettings, log_bucket: str
) -> Recording:
    """The organization trail as AWS describes it; CutoverError when it is not the one to rely on."""
    org = settings.organization
    try:
        found = describe(management, org.region, org.trail_arn)
    except AWS_ERRORS as error:
        raise CutoverError(
            f"organization trail {org.trail_arn} cannot be read: {error_text(error)}"
        ) from None
    if found is None:
        raise CutoverError(f"there is no organization trail {org.trail_arn}")
    if not found.organization:
        raise CutoverError(f"{org.trail_arn} is not an organization trail")
    if found.bucket != log_bucket:
        raise CutoverError(
            f"--log-bucket {log_bucket} is not where the organization trail delivers "
            f"({found.bucket}): cutover must read the organization trail's own bucket"
        )
    return found


def delivering_problem(management: Account, trail: Recording, region: str) -> str | None:
    """Why the organization trail cannot be relied on right now, or None."""
    try:
        status = management.client("cloudtrail", region).get_trail_status(Name=trail.arn)
    except AWS_ERRORS as error:
        return f"organization trail status cannot be read: {error_text(error)}"
    if not status.get("IsLogging"):
        return f"organization trail {trail.arn} is not logging"
    if status.get("LatestDeliveryError"):
        return f"organization trail reports a delivery error: {status['LatestDeliveryError']}"
    return None


def covered_regions(member: Account, legacy: Recording, home: str) -> list[str]:
    """Every region the legacy trail records: all regions enabled for the account, or its home."""
    if not legacy.multi_region:
        return [home]
    regions = member.client("ec2", home).describe_regions()["Regions"]
    # Without AllRegions, AWS lists the enabled regions only; skip any opt-in one listed anyway.
    return sorted(
        region["RegionName"] for region in regions if region.get("OptInStatus") != "not-opted-in"
    )


@dataclass
class Cutover:
    """One run: its inputs, and the decisions recorded as they are made."""

    management: Account
    reader: Account
    settings: ManagementSettings
    trail: Recording  # the organization trail
    window: tuple[datetime, datetime]
    max_gap: timedelta
    apply: bool
    accepted_exclusions: tuple[str, ...] = ()
    decisions: list[TrailDecision] = field(default_factory=list)

    def decide(self, legacy: LegacyTrail) -> TrailDecision:
        decision = TrailDecision(legacy.account_id, legacy.region, legacy.trail_name)
        self.decisions.append(decision)  # recorded before anything is done
        try:
            self._decide(legacy, decision)
        except AWS_ERRORS as error:
            decision.action = WITHHELD
            decision.reason = f"cannot be judged: {error_text(error)}"
        return decision

    def _decide(self, legacy: LegacyTrail, decision: TrailDecision) -> None:
        try:
            member = self.management.assume(legacy.account_id, legacy.role_name)
            found = describe(member, legacy.region, legacy.trail_name)
        except AWS_ERRORS as error:
            decision.reason = f"legacy trail unreadable: {error_text(error)}"
            return
        if found is None:
            decision.reason = "legacy trail not found"
            return
        cloudtrail = member.client("cloudtrail", legacy.region)
        if not cloudtrail.get_trail_status(Name=found.arn).get("IsLogging"):
            decision.action = ALREADY_STOPPED
            return
        gaps = missing(found, self.trail, self.accepted_exclusions)
        if gaps:
            decision.reason = "the organization trail does not record: " + "; ".join(gaps)
            return
        decision.regions = covered_regions(member, found, legacy.region)
        problem = self._delivery_gap(legacy.account_id, decision)
        if problem:
            decision.reason = problem
            return
        problem = delivering_problem(self.management, self.trail, self.settings.organization.region)
        if problem:
            decision.reason = problem
            return
        if not self.apply:
            decision.action, decision.reason = READY, "dry run: would stop (run with --apply)"
            return
        self._stop(cloudtrail, found.arn, decision)

    def _delivery_gap(self, account_id: str, decision: TrailDecision) -> str | None:
        start, end = self.window
        every: list[datetime] = []
        for region in decision.regions:
            times = deliveries(
                self.reader.client("s3"),
                self.trail.bucket,
                self.settings.organization.organization_id,
                account_id,
                region,
                start,
                end,
                self.trail.prefix,
            )
            every += times
            gap = coverage_gap(times, start, end, self.max_gap)
            if gap:
                decision.deliveries = len(every)
                return f"{region}: {gap}"
        every.sort()
        decision.deliveries = len(every)
        if every:
            decision.firstDelivery, decision.lastDelivery = (
                every[0].isoformat(),
                every[-1].isoformat(),
            )
        return None

    def _stop(self, cloudtrail, arn: str, decision: TrailDecision) -> None:
        try:
            cloudtrail.stop_logging(Name=arn)
        except AWS_ERRORS as error:
            # The answer may be lost while the stop happened: ask the trail itself.
            try:
                logging = cloudtrail.get_trail_status(Name=arn).get("IsLogging")
            except AWS_ERRORS:
                logging = None
            if logging is False:
                decision.action = STOPPED
                decision.reason = (
                    f"StopLogging answered {error_text(error)}, but the trail is stopped"
                )
            else:
                decision.reason = f"StopLogging failed: {error_text(error)}"
            return
        decision.action = STOPPED


def start(
    management: Account,
    settings: ManagementSettings,
    log_bucket: str,
    overlap: timedelta = timedelta(hours=24),
    max_gap: timedelta = timedelta(hours=2),
    apply: bool = False,
    reader: Account | None = None,
    now: datetime | None = None,
    accepted_exclusions: tuple[str, ...] = (),
) -> Cutover:
    """A run ready to judge trails; CutoverError, before any change, when it cannot be trusted."""
    check_window(overlap, max_gap)
    end = (now or datetime.now(UTC)).astimezone(UTC)
    reader = reader or management
    return Cutover(
        management,
        reader,
        settings,
        organization_trail(management, settings, log_bucket),
        (end - overlap, end),
        max_gap,
        apply,
        # The trail's own log buckets are left out of its data events by design.
        (*own_log_buckets(reader, log_bucket), *accepted_exclusions),
    )


def cutover(
    management: Account, settings: ManagementSettings, log_bucket: str, **options: Any
) -> dict[str, Any]:
    """Judge (and with `apply`, stop) every legacy trail of the settings; the report.

    `options` are those of `start`."""
    job = start(management, settings, log_bucket, **options)
    for legacy in job.settings.legacy_trails:
        job.decide(legacy)
    return report_of(job)


def report_of(run: Cutover) -> dict[str, Any]:
    start, end = run.window
    return {
        "organizationId": run.settings.organization.organization_id,
        "organizationTrailArn": run.trail.arn,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "applied": run.apply,
        "trails": [asdict(d) for d in run.decisions],
    }


def check_window(overlap: timedelta, max_gap: timedelta) -> None:
    hours = overlap.total_seconds() / 3600
    if hours < MINIMUM_OVERLAP_HOURS:
        raise CutoverError(
            f"--overlap-hours {hours:g} is shorter than the runbook's minimum of "
            f"{MINIMUM_OVERLAP_HOURS:g}: both trails must run side by side for at least a day"
        )
    if max_gap >= overlap:
        raise CutoverError("--max-gap-hours must be shorter than --overlap-hours")


# --- command -------------------------------------------------------------------------------


def hours(text: str) -> float:
    """A positive, finite number of hours, at most MAXIMUM_HOURS (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not math.isfinite(value) or value <= 0 or value > MAXIMUM_HOURS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed: a number of hours above 0 and at most {MAXIMUM_HOURS:g}"
        )
    return value


def role_arn(text: str) -> str:
    if not _ROLE_ARN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cutover",
        help="stop legacy trails once the organization trail has covered them (dry run unless --apply)",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument(
        "--stack-config", type=Path, required=True, help="Pulumi.<management stack>.yaml"
    )
    parser.add_argument("--log-bucket", required=True, help="the organization trail's bucket")
    parser.add_argument(
        "--overlap-hours",
        type=hours,
        default=MINIMUM_OVERLAP_HOURS,
        help=f"window the org trail must cover (at least {MINIMUM_OVERLAP_HOURS:g})",
    )
    parser.add_argument(
        "--max-gap-hours", type=hours, default=2.0, help="longest silence allowed in the window (2)"
    )
    parser.add_argument(
        "--accept-excluded",
        action="append",
        default=[],
        metavar="ARN_PREFIX",
        help="an ARN prefix the organization trail leaves out of data events on purpose "
        "(its own log buckets, e.g. arn:aws:s3:::acme-org-trail-logs/); repeatable",
    )
    parser.add_argument(
        "--log-bucket-role-arn", type=role_arn, help="role to assume for listing the central bucket"
    )
    parser.add_argument("--apply", action="store_true", help="really call StopLogging")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile")
    parser.set_defaults(run=run)


def report_table(report: dict) -> Table:
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


def _print(report: dict, args: argparse.Namespace, console: Console) -> None:
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        console.print(report_table(report))


def run(args: argparse.Namespace, console: Console) -> int:
    try:
        settings = load_management_settings(args.stack_config)
        check_window(timedelta(hours=args.overlap_hours), timedelta(hours=args.max_gap_hours))
        management = current_account(args.profile, settings.organization.region)
        reader = bucket_reader(management, args.log_bucket_role_arn)
    except (ConfigError, StackConfigError, CutoverError, CredentialError, OSError) as error:
        console.print(f"[red]error:[/] {error}", highlight=False)
        return 2
    if management.account_id != settings.organization.management_account_id:
        console.print(
            f"[red]error:[/] run cutover with credentials of the management account "
            f"{settings.organization.management_account_id}, not {management.account_id}"
        )
        return 2
    try:
        job = start(
            management,
            settings,
            args.log_bucket,
            timedelta(hours=args.overlap_hours),
            timedelta(hours=args.max_gap_hours),
            args.apply,
            reader,
            accepted_exclusions=tuple(args.accept_excluded),
        )
    except CutoverError as error:
        console.print(f"[red]error:[/] {error}", highlight=False)
        return 2
    try:
        for legacy in settings.legacy_trails:
            job.decide(legacy)
    finally:
        # Whatever fails later, the operator sees what was already decided and done.
        report = report_of(job)
        _print(report, args, console)
    return 1 if any(t["action"] == WITHHELD for t in report["trails"]) else 0
