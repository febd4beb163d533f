"""`orgtrail cost`: a month of the configured stacks, priced from the volume the organisation
really produces (counted from a window of delivered log files), with every price's source."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.text import Text

from orgtrail.analysis.cloudtrail_schema import DATABASE, WORKGROUP
from orgtrail.analysis.query import EXPECTED_LAYOUT, scan
from orgtrail.cli import add_json, add_profile, command
from orgtrail.contract.config import ConfigError, ManagementSettings, SecuritySettings
from orgtrail.contract.stack_config import StackConfigError, load_stack_settings
from orgtrail.cost.athena import AthenaError, measure_athena
from orgtrail.cost.estimate import GROUPS, Estimate, estimate
from orgtrail.cost.glacier import BucketSaving, glacier_savings
from orgtrail.cost.price_list import ENDPOINT as PRICE_LIST_REGION
from orgtrail.cost.price_list import online_table
from orgtrail.cost.prices import PriceTable, offline_table
from orgtrail.cost.report import (
    BAR,
    GLACIER_COLUMNS,
    Bar,
    Report,
    glacier_cells,
    html,
    markdown,
)
from orgtrail.cost.spend import (
    COST_EXPLORER_REGION,
    KINDS,
    AccountSpend,
    last_full_months,
    spend,
    trail_savings,
)
from orgtrail.cost.volume import measure
from orgtrail.ops.aws import (
    AWS_ERRORS,
    Account,
    CredentialError,
    at_least_one,
    current_account,
    error_text,
)
from orgtrail.output import add_row, data_table, document, refuse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = command(
        subparsers,
        "cost",
        summary="what the stacks cost a month, from measured volume and cited prices",
        description="Count what the organisation produces from a window of delivered log "
        "files (as `query` reads them) or in Athena, and price a month of what the configured "
        "trail records of it: extra copies of management events (the legacy trails), each kind "
        "of data event and network activity events, Insights per insight type, CloudWatch Logs "
        "ingestion and storage, the log bucket's storage, requests and KMS.",
        examples=(
            (
                "a day of the organisation's logs, priced with both stacks' config",
                "orgtrail cost --logs logs/ --stack-config Pulumi.management.yaml "
                "--stack-config Pulumi.security.yaml",
            ),
            ("as JSON", "orgtrail cost --logs logs/ --stack-config Pulumi.management.yaml --json"),
            (
                "a whole organisation's last 7 days, counted in Athena (security account)",
                "orgtrail cost --athena --stack-config Pulumi.management.yaml --profile security",
            ),
            (
                "a Markdown report for the pull request, an HTML page for the ticket",
                "orgtrail cost --logs logs/ --stack-config Pulumi.management.yaml --markdown cost.md "
                "--html cost.html",
            ),
        ),
        exit_codes={0: "estimate made", 1: "something could not be measured (listed)"},
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--logs",
        type=Path,
        help="a window of CloudTrail log files (a day or more: any level of AWSLogs/...)",
    )
    source.add_argument(
        "--athena",
        action="store_true",
        help="count a whole organisation in Athena over the central bucket (credentials of "
        "the security account; the files' sizes are not measured this way)",
    )
    parser.add_argument("--workgroup", default=WORKGROUP, help="with --athena: the workgroup")
    parser.add_argument("--database", default=DATABASE, help="with --athena: the Glue database")
    parser.add_argument(
        "--days", type=at_least_one, default=7, help="with --athena: the days counted, to today"
    )
    parser.add_argument(
        "--stack-config",
        type=Path,
        action="append",
        default=[],
        help="a stack file, repeatable: the management stack's names the legacy trails, the "
        "data events recorded and Insights; the security stack's the retention and the log "
        "buckets (their reads and writes counted apart)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="REPORT.md",
        help="also write a Markdown report (tables, a chart, sources, assumptions) for a pull "
        "request or a ticket",
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="REPORT.html",
        help="also write the same report as one self-contained HTML page (no script, no "
        "external file) for a ticket or a browser",
    )
    parser.add_argument(
        "--glacier",
        action="store_true",
        help="also measure what archiving the legacy buckets saves (CloudWatch storage metrics "
        "and a sampled listing of each bucket, through the role of its owner account)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="price with the dated offline table only (otherwise the Price List API first, "
        "the table for what it does not give or when it cannot be reached)",
    )
    parser.add_argument(
        "--spend",
        action="store_true",
        help="also read today's CloudTrail spend from Cost Explorer (management account): per "
        "account and usage type, and what stopping each legacy trail saves, measured",
    )
    parser.add_argument(
        "--months", type=at_least_one, default=3, help="with --spend: full months to average"
    )
    add_profile(parser)
    add_json(parser, "cost")
    parser.set_defaults(run=run)


def cost_json(result: Estimate) -> dict:
    volume = result.volume
    return {
        "window": {
            "start": volume.first.isoformat() if volume.first else None,
            "end": volume.last.isoformat() if volume.last else None,
            "days": round(volume.days, 4),
            "logFiles": volume.total("files"),
            "events": volume.total("events"),
        },
        "prices": {"origin": result.prices.origin, "date": result.prices.date,
                   "region": result.prices.region},
        "items": [
            {
                "id": item.id,
                "name": item.name,
                "group": item.group,
                "quantityPerMonth": round(item.quantity, 6),
                "unit": item.price.unit,
                "price": {"usd": item.price.usd, "per": item.price.per, "source": item.price.source},
                "usdPerMonth": round(item.usd, 4),
                "perAccount": {a: round(item.account_usd(a), 4) for a in sorted(item.per_account)},
            }
            for item in result.items
        ],
        "groups": {group: round(usd, 4) for group, usd in result.groups().items()},
        "accounts": {account: round(usd, 4) for account, usd in result.account_totals().items()},
        "summary": {
            "usdPerMonth": round(result.usd, 4),
            "cutoverSavingUsdPerMonth": round(result.cutover_saving, 4),
        },
        "notMeasured": result.not_measured,
        "assumptions": result.assumptions,
    }  # fmt: skip


def _settings(paths: list[Path]) -> tuple[ManagementSettings | None, SecuritySettings | None]:
    management = security = None
    for path in paths:
        settings = load_stack_settings(path)
        if isinstance(settings, ManagementSettings):
            management = settings
        else:
            security = settings
    return management, security


def log_buckets(security: SecuritySettings | None) -> tuple[str, ...]:
    """The buckets the trail's selectors treat apart (the management program's log_buckets)."""
    if security is None:
        return ()
    return (security.log_bucket_name, security.access_log_bucket_name)


class Caller:
    """Who the credentials say we are, asked once per run by whatever needs AWS (Athena, the
    Price List API, Cost Explorer, the legacy buckets); a refusal is kept as well."""

    def __init__(self, profile: str | None, region: str | None):
        self.profile, self.region = profile, region
        self._answer: Account | CredentialError | None = None

    def account(self) -> Account:
        if self._answer is None:
            try:
                self._answer = current_account(self.profile, self.region)
            except CredentialError as error:
                self._answer = error
        if isinstance(self._answer, CredentialError):
            raise self._answer
        return self._answer


def _volume(
    args: argparse.Namespace,
    caller: Caller,
    stack: ManagementSettings | SecuritySettings | None,
    security: SecuritySettings | None,
):
    """The volume counted, from the files or from Athena; or the refusal's message."""
    if args.athena:
        try:
            account = caller.account()
            return measure_athena(
                account,
                caller.region or account.session.region_name,
                args.workgroup,
                args.database,
                args.days,
                datetime.now(UTC).date(),
                log_buckets(security),
            )
        except (CredentialError, AthenaError) as error:
            return str(error)
        except AWS_ERRORS as error:
            return f"Athena: {error_text(error)}"
    if not args.logs.is_dir():
        return f"{args.logs} is not a directory"
    if not scan(args.logs).files:
        return f"{args.logs} holds no CloudTrail log file; expected {EXPECTED_LAYOUT}"
    partition = stack.organization.partition if stack else "aws"
    return measure(args.logs, log_buckets(security), partition)


def _prices(args: argparse.Namespace, caller: Caller, region: str | None) -> PriceTable:
    """The Price List API's prices over the offline table's, or the table, saying why."""
    prices = offline_table()
    if args.offline:
        return prices
    try:
        account = caller.account()
    except CredentialError as error:
        return replace(prices, origin=f"{prices.origin}; the Price List API was not asked: {error}")
    pricing = account.client("pricing", PRICE_LIST_REGION.get(account.partition, "us-east-1"))
    return online_table(pricing, region or prices.region, prices)


def run(args: argparse.Namespace, console: Console) -> int:
    try:
        management, security = _settings(args.stack_config)
    except (ConfigError, StackConfigError, OSError) as error:
        return refuse(args, str(error), type(error).__name__)
    for flag, path in (("--markdown", args.markdown), ("--html", args.html)):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            what = "is a directory" if path.is_dir() else f"has no directory {path.parent}"
            return refuse(args, f"{flag} {path} {what}: name a file in an existing directory")
    if (args.glacier or args.spend) and management is None:
        flags = " and ".join(
            f for f, on in (("--glacier", args.glacier), ("--spend", args.spend)) if on
        )
        return refuse(args, f"{flags} needs the management stack's file (--stack-config)")
    stack = security or management
    caller = Caller(args.profile, stack.organization.region if stack else None)
    volume = _volume(args, caller, stack, security)
    if isinstance(volume, str):
        return refuse(args, volume)
    errors = Console(stderr=True)
    for path, reason in volume.skipped:
        errors.print(Text.assemble(("skipped ", "yellow"), f"{path}: {reason}"), soft_wrap=True)
    if volume.days == 0:
        where = "Athena" if args.athena else str(args.logs)
        return refuse(args, f"{where}: the events read span no time; read a day or more")
    prices = _prices(args, caller, management.organization.region if management else None)
    result = estimate(volume, prices, management, security)
    savings = spent = None
    if management is not None and (args.glacier or args.spend):
        try:
            account = caller.account()
            if args.spend:
                cost_explorer = account.client("ce", COST_EXPLORER_REGION[account.partition])
                spent = spend(cost_explorer, datetime.now(UTC).date(), args.months)
        except CredentialError as error:
            return refuse(args, str(error), type(error).__name__)
        except AWS_ERRORS as error:
            return refuse(args, f"Cost Explorer: {error_text(error)}", "CostExplorerError")
        if args.glacier:
            savings = glacier_savings(account, management, prices, datetime.now(UTC))
    report = Report(
        result,
        glacier=savings,
        trail_savings=None if spent is None else trail_savings(management, spent),
    )
    for flag, path, render in (
        ("--markdown", args.markdown, markdown),
        ("--html", args.html, html),
    ):
        if path is None:
            continue
        try:
            path.write_text(render(report), encoding="utf-8")
        except OSError as error:
            return refuse(args, f"{flag} {path}: {error.strerror}")
    if args.json:
        print(
            document(
                **cost_json(result),
                glacier=glacier_json(savings),
                spend=spend_json(spent, management, args.months),
            )
        )
    else:
        _print(console, report)
        if savings is not None:
            _print_glacier(console, savings)
        if spent is not None:
            _print_spend(console, spent, management)
        _print_chart(console, "what the cutover and the archiving save", report.saving_bars())
        console.print(Text(_closing(report)), soft_wrap=True)
    unread = savings is not None and any(saving.error for saving in savings)
    return 1 if result.not_measured or unread else 0


def glacier_json(savings: list[BucketSaving] | None) -> list[dict] | None:
    if savings is None:
        return None
    return [
        {
            "bucket": s.bucket,
            "accountId": s.account,
            "region": s.region,
            "storageClass": s.storage_class,
            "standardBytes": s.standard_bytes,
            "objects": s.objects,
            "sampled": s.sampled,
            "eligibleBytesShare": s.eligible_bytes_share,
            "eligibleObjectsShare": s.eligible_objects_share,
            "usdPerMonth": None if s.monthly_usd is None else round(s.monthly_usd, 4),
            "oneTimeUsd": None if s.one_time_usd is None else round(s.one_time_usd, 4),
            "breakEvenMonths": None
            if s.break_even_months is None
            else round(s.break_even_months, 2),
            "error": s.error,
        }
        for s in savings
    ]


def spend_json(
    spent: dict[str, AccountSpend] | None, management: ManagementSettings | None, months: int
) -> dict | None:
    if spent is None or management is None:
        return None
    start, end = last_full_months(datetime.now(UTC).date(), months)
    return {
        "period": {"start": start, "end": end, "months": months},
        "accounts": {
            account: {
                "usdPerMonth": round(s.usd, 4),
                "byKind": {kind: round(usd, 4) for kind, usd in sorted(s.by_kind.items())},
                "paidCopiesByRegion": {
                    region: round(usd, 4) for region, usd in sorted(s.paid_copies_by_region.items())
                },
            }
            for account, s in spent.items()
        },
        "trailSavings": [
            {"accountId": a, "region": r, "trailName": n, "usdPerMonth": round(usd, 4)}
            for (a, r, n), usd in trail_savings(management, spent).items()
        ],
    }


def _print_spend(
    console: Console, spent: dict[str, AccountSpend], management: ManagementSettings
) -> None:
    table = data_table(
        "CloudTrail today (Cost Explorer, average of the last full months)",
        ("account", "USD per month", "of which extra copies", "by kind"),
    )
    for account, s in sorted(spent.items(), key=lambda pair: (-pair[1].usd, pair[0])):
        kinds = ", ".join(f"{kind} ${usd:,.2f}" for kind, usd in sorted(s.by_kind.items()))
        copies = s.by_kind.get(KINDS["PaidEventsRecorded"], 0.0)
        add_row(table, account, f"{s.usd:,.2f}", f"{copies:,.2f}", kinds)
    console.print(table)
    savings = data_table(
        "stopping each legacy trail saves (measured)",
        ("account", "region", "trail", "USD per month"),
    )
    for (account, region, name), usd in trail_savings(management, spent).items():
        add_row(savings, account, region, name, f"{usd:,.2f}")
    console.print(savings)


def _print_glacier(console: Console, savings: list[BucketSaving]) -> None:
    table = data_table("archiving the legacy buckets", GLACIER_COLUMNS)
    for saving in savings:
        add_row(table, *glacier_cells(saving))
    console.print(table)
    measured = [s.monthly_usd for s in savings if s.monthly_usd is not None]
    unread = len(savings) - len(measured)
    total = (
        f"${sum(measured):,.2f} a month" if measured else "not measured: no bucket could be read"
    )
    unread_note = (
        f" ({unread} of {len(savings)} buckets not measured)" if measured and unread else ""
    )
    console.print(Text(f"archiving saves {total}{unread_note}"), soft_wrap=True)


def _print_chart(console: Console, title: str, chart: list[Bar]) -> None:
    table = data_table(title, ("", "", "USD per month"))
    table.columns[1].min_width, table.columns[1].no_wrap = BAR, True  # a bar is never broken
    for bar in chart:
        add_row(table, bar.label, bar.text(), f"{bar.usd:,.2f}")
    console.print(table)


def _closing(report: Report) -> str:
    """The last line: the month's total and what each saving is (the modelled one first)."""
    modelled, *measured = report.savings()
    return "; ".join(
        [
            f"${report.estimate.usd:,.2f} a month",
            f"stopping the config's legacy trails saves ${modelled.usd:,.2f} a month",
            *(
                f"{s.what} saves {s.text('$')}" + ("" if s.usd is None else " a month")
                for s in measured
            ),
        ]
    )


def _print(console: Console, report: Report) -> None:
    result = report.estimate
    volume = result.volume
    sources = list(dict.fromkeys(item.price.source for item in result.items))
    table = data_table(
        f"a month of org-trail, from {volume.total('events'):,} events over {volume.days:.2f} days",
        ("item", "per month", "price", "USD per month"),
    )
    for group, usd in result.groups().items():
        for item in (item for item in result.items if item.group == group):
            add_row(
                table,
                item.name,
                f"{item.quantity:,.2f} {item.price.unit}",
                f"{item.price.text()} [{sources.index(item.price.source) + 1}]",
                f"{item.usd:,.2f}",
            )
        add_row(
            table, Text(f"{GROUPS[group]}, in all", "bold"), "", "", Text(f"{usd:,.2f}", "bold")
        )
        table.add_section()
    console.print(table)
    accounts = data_table("by account", ("account", "USD per month"))
    for account, usd in report.by_account():
        add_row(accounts, account, f"{usd:,.2f}")
    console.print(accounts)
    _print_chart(console, "where the money goes", report.item_bars())
    for index, source in enumerate(sources, 1):
        console.print(Text(f"[{index}] {source}"), soft_wrap=True)
    for line in result.not_measured:
        console.print(Text.assemble(("not measured: ", "yellow"), line), soft_wrap=True)
    for line in result.assumptions:
        console.print(Text(f"assumed: {line}"), soft_wrap=True)
