"""`orgtrail query`: the Athena detections, run locally with DuckDB over downloaded logs.

The files are laid out as the organization trail delivers them
(AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz, e.g. after
`aws s3 sync`); digest files are ignored. Each detection's SQL stays in
Athena's (Trino) dialect and is transpiled by sqlglot for DuckDB, over a table
with the Athena table's columns (orgtrail/cloudtrail_schema.py). A corrupt or
truncated file is reported and skipped.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import sqlglot
from rich.console import Console
from rich.text import Text

from orgtrail.analysis.cloudtrail_schema import (
    COLUMNS,
    INSIGHT_COLUMNS,
    INSIGHT_RECORD,
    INSIGHTS_TABLE,
    PARTITIONS,
    TABLE,
    Column,
    record_type,
)
from orgtrail.analysis.detections import INSIGHTS, QUERIES_DIR, description, detections, reports
from orgtrail.cli import add_json, command
from orgtrail.output import add_row, data_table, document, refuse

CHUNK = 1 << 20


def to_duckdb(athena_sql: str) -> str:
    return sqlglot.transpile(athena_sql, read="trino", write="duckdb")[0]


@dataclass(frozen=True)
class LogFile:
    path: Path
    account: str
    region: str
    day: str  # YYYY/MM/DD, as the key has it


# CloudTrail user guide, "CloudTrail log file examples" (file name format):
# AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_UniqueString.json.gz. The name carries the
# partition values, so any level of the AWSLogs/ tree (or a flat folder of files) reads the
# same; digest and Insights files have names of their own and are not logs of events.
LOG_NAME = re.compile(
    r"^(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_"
    r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})T\d{4}Z_[A-Za-z0-9]+\.json\.gz$"
)
LOG_NAME_HINT = "ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_ID.json.gz"
# Insights files are named alike, with CloudTrail-Insight for CloudTrail ("Delivery of
# Insights events": the /CloudTrail-Insight folder of the trail's bucket).
INSIGHT_NAME = re.compile(LOG_NAME.pattern.replace("_CloudTrail_", "_CloudTrail-Insight_"))
OTHER_FILES = {"_CloudTrail-Digest_": "digest files"}
EXPECTED_LAYOUT = (
    f"files named {LOG_NAME_HINT}, as the trail delivers "
    "them under AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/ (any level of that "
    "tree, or a folder of such files)"
)


@dataclass
class Scan:
    """What a directory holds: log files (after --since), and everything else by kind."""

    files: list[LogFile] = field(default_factory=list)
    insights: list[LogFile] = field(default_factory=list)
    earlier: int = 0  # log and Insights files before --since
    ignored: Counter = field(default_factory=Counter)  # digest files
    misnamed: list[Path] = field(default_factory=list)  # *.json.gz not named like a log file


def scan(root: Path, since: datetime | None = None) -> Scan:
    """Every CloudTrail log file under root, with its partition values from its name."""
    found = Scan()
    since_day = since.strftime("%Y/%m/%d") if since else None
    for path in sorted(root.rglob("*.json.gz")):
        match = LOG_NAME.match(path.name)
        insight = INSIGHT_NAME.match(path.name) if match is None else None
        if insight is not None:
            day = f"{insight['year']}/{insight['month']}/{insight['day']}"
            if since_day is not None and day < since_day:
                found.earlier += 1
            else:
                found.insights.append(LogFile(path, insight["account"], insight["region"], day))
            continue
        if match is None:
            kind = next((k for marker, k in OTHER_FILES.items() if marker in path.name), None)
            if kind:
                found.ignored[kind] += 1
            else:
                found.misnamed.append(path)
            continue
        day = f"{match['year']}/{match['month']}/{match['day']}"
        if since_day is not None and day < since_day:
            found.earlier += 1
            continue
        found.files.append(LogFile(path, match["account"], match["region"], day))
    return found


def log_files(root: Path, since: datetime | None = None) -> list[LogFile]:
    """Every CloudTrail log file under root (digests excluded), with its partition values."""
    return scan(root, since).files


def gzip_problem(path: Path) -> str | None:
    """Why a file is not a complete gzip stream (streamed: memory stays flat), or None."""
    decompressor = zlib.decompressobj(wbits=31)
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                decompressor.decompress(chunk, 0)
                while decompressor.unconsumed_tail:
                    decompressor.decompress(decompressor.unconsumed_tail, 0)
    except zlib.error as error:
        return f"corrupt gzip data ({error})"
    if not decompressor.eof:
        return "truncated (the gzip stream ends early)"
    return None


@dataclass(frozen=True)
class Source:
    """How one kind of file becomes one table with the Athena table's columns."""

    table: str
    columns: tuple[Column, ...]
    records: tuple[Column, ...]  # one element of the file's Records, as read
    # Events: a row per record (`unnest`); Insights: a row per file holding its records.
    rows: str
    root: str
    root_columns: tuple[Column, ...]  # what `root` holds

    def _columns(self) -> str:
        return ",\n  ".join(f"{c.duckdb_expression(self.root)} AS {c.name}" for c in self.columns)

    def select(self, where: str) -> str:
        return f"""
            SELECT {self._columns()}, partitions.account, partitions.region, partitions.day
            FROM (
                SELECT filename, {self.rows}
                FROM read_json(?, columns = {{'Records': '{record_type(self.records)}[]'}},
                               filename = true, records = true, compression = 'gzip',
                               maximum_object_size = 536870912)
            ) JOIN partitions USING (filename) {where}
        """

    def empty(self) -> str:
        """The same columns, from no row at all: the table exists even when every file is bad."""
        partitions = ", ".join(f"NULL::VARCHAR AS {name}" for name in PARTITIONS)
        return (
            f"SELECT {self._columns()}, {partitions} "
            f"FROM (SELECT CAST(NULL AS {record_type(self.root_columns)}) AS {self.root}) WHERE false"
        )


EVENT_SOURCE = Source(
    TABLE, COLUMNS, COLUMNS, rows="unnest(Records) AS record", root="record", root_columns=COLUMNS
)
INSIGHT_SOURCE = Source(
    INSIGHTS_TABLE,
    INSIGHT_COLUMNS,
    INSIGHT_RECORD,
    rows="struct_pack(Records := Records) AS file",
    root="file",
    root_columns=INSIGHT_COLUMNS,
)


class LocalLogs:
    """The logs under a directory, loaded once into DuckDB as the Athena tables: events in
    cloudtrail_logs, Insights records in cloudtrail_insights."""

    def __init__(self, root: Path, since: datetime | None = None):
        self.connection = duckdb.connect()
        self.scan = scan(root, since)
        self.skipped: list[tuple[Path, str]] = [
            (path, f"not named like a CloudTrail log file ({LOG_NAME_HINT})")
            for path in self.scan.misnamed
        ]
        self._since = [since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")] if since else []
        self.connection.execute(
            "CREATE TABLE partitions (filename VARCHAR, account VARCHAR, region VARCHAR, day VARCHAR)"
        )
        self.files = self._load(EVENT_SOURCE, self.scan.files)
        self.insight_files = self._load(INSIGHT_SOURCE, self.scan.insights)

    def _where(self, table: Source) -> str:
        # Insights files are taken by their day (from the name); events by their own time.
        return 'WHERE record."eventTime" >= ?' if self._since and table is EVENT_SOURCE else ""

    def _parameters(self, table: Source, files: list[LogFile]) -> list:
        return [[str(f.path) for f in files], *(self._since if table is EVENT_SOURCE else [])]

    def _load(self, table: Source, files: list[LogFile]) -> list[LogFile]:
        """Parse every file once, straight into the table.

        Only when that fails is each file checked on its own, so a corrupt or
        truncated one is named and left out without decompressing the rest twice.
        """
        if files:
            self.connection.executemany(
                "INSERT INTO partitions VALUES (?, ?, ?, ?)",
                [(str(f.path), f.account, f.region, f.day) for f in files],
            )
            try:
                self.connection.execute(
                    f"CREATE TABLE {table.table} AS {table.select(self._where(table))}",
                    self._parameters(table, files),
                )
                return files
            except duckdb.Error:
                files = [log for log in files if self._readable(table, log)]
        self.connection.execute(f"CREATE TABLE {table.table} AS {table.empty()}")
        if files:
            self.connection.execute(
                f"INSERT INTO {table.table} {table.select(self._where(table))}",
                self._parameters(table, files),
            )
        return files

    def _readable(self, table: Source, log: LogFile) -> bool:
        problem = gzip_problem(log.path)
        if problem is None:
            try:
                self.connection.execute(
                    f"SELECT count(*) FROM ({table.select(self._where(table))})",
                    self._parameters(table, [log]),
                )
            except duckdb.Error as error:
                problem = f"not a CloudTrail log file ({str(error).splitlines()[0]})"
        if problem:
            self.skipped.append((log.path, problem))
        return problem is None

    @property
    def event_count(self) -> int:
        return self.connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]

    @property
    def insight_count(self) -> int:
        return self.connection.execute(
            f"SELECT coalesce(sum(len(records)), 0) FROM {INSIGHTS_TABLE}"
        ).fetchone()[0]

    def run(self, athena_sql: str) -> list[dict]:
        cursor = self.connection.execute(to_duckdb(athena_sql))
        names = [column[0].lower() for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def detect(self, name: str, directory: Path = QUERIES_DIR) -> list[dict]:
        return self.run(detections(directory)[name].read_text())


# --- command -----------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = command(
        subparsers,
        "query",
        summary="run a detection locally over downloaded CloudTrail logs",
        description="Run the detections (the Athena SQL of orgtrail/analysis/queries/, as "
        "the security stack's named queries) locally with DuckDB over CloudTrail log files.",
        examples=(
            ("what there is to run", "orgtrail query --list"),
            (
                "every detection over a synced copy of the bucket",
                "aws s3 sync s3://acme-org-trail-logs/AWSLogs/ logs/AWSLogs/ && "
                "orgtrail query all --logs logs/",
            ),
            (
                "one detection since a day, as JSON",
                "orgtrail query root-account-usage --logs logs/ --since 2026-11-01 --json",
            ),
            (
                "Insights incidents, each start paired with its end",
                "orgtrail query insights --logs logs/",
            ),
            ("a report", "orgtrail query --report insights-by-account-source --logs logs/"),
        ),
        exit_codes={
            0: "events were read and no detection found any",
            1: "a detection found events, or no event was read (every file skipped, before "
            "--since or empty): nothing was judged",
        },
    )
    parser.add_argument("name", nargs="?", help="detection name (see --list), or 'all'")
    parser.add_argument(
        "--logs",
        type=Path,
        help="a directory of CloudTrail log files: any level of AWSLogs/..., or a flat folder",
    )
    parser.add_argument(
        "--since",
        help="only events at or after this time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00Z)",
    )
    parser.add_argument(
        "--report",
        metavar="NAME",
        help="run a report instead (an Athena named query that is not a detection): "
        + ", ".join(reports()),
    )
    parser.add_argument("--list", action="store_true", help="list the detections")
    add_json(parser, "query")
    parser.set_defaults(run=run, parser=parser)


def parse_since(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# The columns a finding is about, in the order a reader wants them; a detection's table shows
# those its rows have. Folded, never cut: identifiers stay whole at any width.
COLUMNS_SHOWN = (
    "eventtime", "eventname", "awsregion", "recipientaccountid", "principalarn",
    "sourceipaddress", "errorcode", "useragent",
)  # fmt: skip
# An Insights incident: its state, when, where, which API, how far from its baseline.
INSIGHT_COLUMNS_SHOWN = (
    "status", "sharedeventid", "starttime", "endtime", "recipientaccountid", "awsregion", "eventsource",
    "eventname", "insighttype", "baselineaverage", "insightaverage", "insightduration",
)  # fmt: skip


def shown_columns(name: str, rows: list[dict]) -> list[str]:
    """The columns a finding is about, those its rows have; a report shows all of its own."""
    if name in reports():
        return list(rows[0]) if rows else ["result"]
    wanted = INSIGHT_COLUMNS_SHOWN if name == INSIGHTS else COLUMNS_SHOWN
    return [c for c in wanted if any(row.get(c) is not None for row in rows)] or list(wanted[:2])


def _print_rows(console: Console, title: str, rows: list[dict]) -> None:
    """A table when every value fits whole in the terminal; otherwise one block per row,
    one field per line (orgtrail/output.py), so no identifier is cut or split."""
    columns = shown_columns(title, rows)
    table = data_table(f"{title}: {len(rows)} {_noun(title)}", columns)
    for row in rows:
        add_row(table, *("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def _noun(name: str) -> str:
    return "rows" if name in reports() else "incidents" if name == INSIGHTS else "events"


def summary(logs: LocalLogs) -> dict:
    """What was read: the same figures in the text and the JSON."""
    return {
        "files": len(logs.files),
        "events": logs.event_count,
        "insightFiles": len(logs.insight_files),
        "insights": logs.insight_count,
        "skipped": [{"path": str(path), "reason": reason} for path, reason in logs.skipped],
        "ignored": dict(sorted(logs.scan.ignored.items())),
        "beforeSince": logs.scan.earlier,
    }


def summary_line(read: dict, results: dict[str, list]) -> str:
    findings = sum(1 for rows in results.values() if rows)
    parts = [f"read {read['files']:,} log files, {read['events']:,} events"]
    parts.append(f"{read['insightFiles']:,} Insights files, {read['insights']:,} Insights events")
    if read["skipped"]:
        parts.append(f"skipped {len(read['skipped']):,} (listed above)")
    parts += [f"ignored {count:,} {kind}" for kind, count in read["ignored"].items()]
    if read["beforeSince"]:
        parts.append(f"{read['beforeSince']:,} files before --since")
    parts.append(f"{findings} of {len(results)} detections with events")
    return "; ".join(parts)


def run(args: argparse.Namespace, console: Console) -> int:
    available = detections()
    listed = [{"name": n, "description": description(p)} for n, p in available.items()]
    if args.list:
        if args.json:
            print(document(available=listed, read=None, detections={}, reports={}))
        else:
            for entry in listed:
                line = Text.assemble((entry["name"], "bold"), f"  {entry['description']}")
                console.print(line, soft_wrap=True, highlight=False)
        return 0
    known_reports = reports()
    if args.report is not None and args.report not in known_reports:
        close = difflib.get_close_matches(args.report, list(known_reports), n=2)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return refuse(
            args, f"unknown report {args.report!r}{hint} (reports: {', '.join(known_reports)})"
        )
    if args.report is not None and args.name:
        return refuse(args, "name a detection or --report, not both")
    if not args.name and args.report is None:
        args.parser.print_usage(sys.stderr)
        return refuse(
            args,
            f"name a detection, or 'all'; detections: {', '.join(available)} (--list describes them)",
        )
    if args.name and args.name != "all" and args.name not in available:
        close = difflib.get_close_matches(args.name, list(available), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return refuse(
            args, f"unknown detection {args.name!r}{hint} (detections: {', '.join(available)})"
        )
    if args.logs is None:
        return refuse(args, "--logs is required: the directory the trail's log files are in")
    if not args.logs.is_dir():
        return refuse(args, f"{args.logs} is not a directory")
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        return refuse(args, f"--since {args.since!r} is not an ISO 8601 date or time")
    logs = LocalLogs(args.logs, since)
    if not logs.scan.files and not logs.scan.insights and not logs.scan.earlier:
        return refuse(args, f"{args.logs} holds no CloudTrail log file; expected {EXPECTED_LAYOUT}")
    errors = Console(stderr=True)
    for path, reason in logs.skipped:
        errors.print(Text.assemble(("skipped ", "yellow"), f"{path}: {reason}"), soft_wrap=True)
    names = list(available) if args.name == "all" else [args.name] if args.name else []
    results = {name: logs.detect(name) for name in names}
    reported = (
        {args.report: logs.run(known_reports[args.report].read_text())} if args.report else {}
    )
    read = summary(logs)
    if args.json:
        print(document(available=listed, read=read, detections=results, reports=reported))
    else:
        for name, rows in {**results, **reported}.items():
            _print_rows(console, name, rows)
        console.print(Text(summary_line(read, results)), soft_wrap=True)
    if not read["events"] and not read["insights"]:
        # Nothing read is not an all-clear: every file skipped, or before --since, or empty.
        errors.print(
            Text("no event was read, so nothing was judged: " + summary_line(read, results)),
            soft_wrap=True,
        )
        return 1
    # A report describes; only a detection's rows are findings.
    return 1 if any(results.values()) else 0
