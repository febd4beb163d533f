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
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import sqlglot
from rich.console import Console
from rich.table import Table

from orgtrail.cloudtrail_schema import COLUMNS, PARTITIONS, TABLE, record_type
from orgtrail.detections import QUERIES_DIR, description, detections

CHUNK = 1 << 20


def to_duckdb(athena_sql: str) -> str:
    return sqlglot.transpile(athena_sql, read="trino", write="duckdb")[0]


@dataclass(frozen=True)
class LogFile:
    path: Path
    account: str
    region: str
    day: str  # YYYY/MM/DD, as the key has it


def log_files(root: Path, since: datetime | None = None) -> list[LogFile]:
    """Every CloudTrail log file under root (digests excluded), with its partition values from the key."""
    found = []
    since_day = since.strftime("%Y/%m/%d") if since else None
    for path in sorted(root.rglob("*.json.gz")):
        parts = path.relative_to(root).parts
        if "CloudTrail" not in parts:
            continue  # CloudTrail-Digest/, CloudTrail-Insight/, anything else
        at = parts.index("CloudTrail")
        if at < 1 or len(parts) < at + 6:
            continue
        log = LogFile(path, parts[at - 1], parts[at + 1], "/".join(parts[at + 2 : at + 5]))
        if since_day is None or log.day >= since_day:
            found.append(log)
    return found


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


class LocalLogs:
    """The logs under a directory, loaded once into DuckDB as the Athena table."""

    def __init__(self, root: Path, since: datetime | None = None):
        self.connection = duckdb.connect()
        self.skipped: list[tuple[Path, str]] = []
        self._columns = ",\n  ".join(
            f"{c.duckdb_expression('record')} AS {c.name}" for c in COLUMNS
        )
        self._where = 'WHERE record."eventTime" >= ?' if since else ""
        self._since = [since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")] if since else []
        self.files = self._load(log_files(root, since))

    def _select(self, files: list[LogFile]) -> str:
        return f"""
            SELECT {self._columns}, partitions.account, partitions.region, partitions.day
            FROM (
                SELECT filename, unnest(Records) AS record
                FROM read_json(?, columns = {{'Records': '{record_type()}[]'}}, filename = true,
                               records = true, compression = 'gzip', maximum_object_size = 536870912)
            ) JOIN partitions USING (filename) {self._where}
        """

    def _parameters(self, files: list[LogFile]) -> list:
        return [[str(f.path) for f in files], *self._since]

    def _load(self, files: list[LogFile]) -> list[LogFile]:
        """Parse every file once, straight into the table.

        Only when that fails is each file checked on its own, so a corrupt or
        truncated one is named and left out without decompressing the rest twice.
        """
        self.connection.execute(
            "CREATE TABLE partitions (filename VARCHAR, account VARCHAR, region VARCHAR, day VARCHAR)"
        )
        if files:
            self.connection.executemany(
                "INSERT INTO partitions VALUES (?, ?, ?, ?)",
                [(str(f.path), f.account, f.region, f.day) for f in files],
            )
            try:
                self.connection.execute(
                    f"CREATE TABLE {TABLE} AS {self._select(files)}", self._parameters(files)
                )
                return files
            except duckdb.Error:
                files = [log for log in files if self._readable(log)]
        # The same columns, from no record at all: the table exists even when every file is bad.
        partitions = ", ".join(f"NULL::VARCHAR AS {name}" for name in PARTITIONS)
        self.connection.execute(
            f"CREATE TABLE {TABLE} AS SELECT {self._columns}, {partitions} "
            f"FROM (SELECT CAST(NULL AS {record_type()}) AS record) WHERE false"
        )
        if files:
            self.connection.execute(
                f"INSERT INTO {TABLE} {self._select(files)}", self._parameters(files)
            )
        return files

    def _readable(self, log: LogFile) -> bool:
        problem = gzip_problem(log.path)
        if problem is None:
            try:
                self.connection.execute(
                    f"SELECT count(*) FROM ({self._select([log])})", self._parameters([log])
                )
            except duckdb.Error as error:
                problem = f"not a CloudTrail log file ({str(error).splitlines()[0]})"
        if problem:
            self.skipped.append((log.path, problem))
        return problem is None

    @property
    def event_count(self) -> int:
        return self.connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]

    def run(self, athena_sql: str) -> list[dict]:
        cursor = self.connection.execute(to_duckdb(athena_sql))
        names = [column[0].lower() for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def detect(self, name: str, directory: Path = QUERIES_DIR) -> list[dict]:
        return self.run(detections(directory)[name].read_text())


# --- command -----------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run a detection locally over downloaded CloudTrail logs",
        description="Run one of queries/*.sql (Athena dialect) locally with DuckDB over CloudTrail log files.",
    )
    parser.add_argument("name", nargs="?", help="detection name (see --list), or 'all'")
    parser.add_argument(
        "--logs", type=Path, help="directory holding AWSLogs/... as the trail delivers it"
    )
    parser.add_argument(
        "--since",
        help="only events at or after this time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00Z)",
    )
    parser.add_argument("--list", action="store_true", help="list the detections")
    parser.add_argument("--json", action="store_true", help="print a list of row objects")
    parser.set_defaults(run=run)


def parse_since(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _print_rows(console: Console, title: str, rows: Iterable[dict]) -> None:
    rows = list(rows)
    table = Table(title=f"{title}: {len(rows)} events")
    columns = ("eventtime", "eventname", "recipientaccountid", "principalarn", "sourceipaddress")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(column) or "") for column in columns))
    console.print(table)


def run(args: argparse.Namespace, console: Console) -> int:
    available = detections()
    if args.list:
        if args.json:
            print(
                json.dumps(
                    [{"name": n, "description": description(p)} for n, p in available.items()],
                    indent=2,
                )
            )
        else:
            for name, path in available.items():
                console.print(f"[bold]{name}[/]  {description(path)}", highlight=False)
        return 0
    names = list(available) if args.name == "all" else [args.name]
    unknown = [name for name in names if name not in available]
    if not args.name or unknown or args.logs is None:
        problem = (
            "name a detection and --logs" if not unknown else f"unknown detection {unknown[0]!r}"
        )
        console.print(
            f"[red]error:[/] {problem}; detections: {', '.join(available)}", highlight=False
        )
        return 2
    if not args.logs.is_dir():
        console.print(f"[red]error:[/] {args.logs} is not a directory")
        return 2
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        console.print(f"[red]error:[/] --since {args.since!r} is not an ISO 8601 date or time")
        return 2
    logs = LocalLogs(args.logs, since)
    errors = Console(stderr=True)
    for path, reason in logs.skipped:
        errors.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False)
    results = {name: logs.detect(name) for name in names}
    if args.json:
        output = results[names[0]] if len(names) == 1 else results
        print(json.dumps(output, indent=2, default=str))
    else:
        for name, rows in results.items():
            _print_rows(console, name, rows)
    return 1 if any(results.values()) else 0
