"""What the organisation produces, counted from delivered log files (DuckDB, as `query`).

Per account and region, from the files of a window synced from the central bucket: management
events read and write; S3 data events read and write, those on the log buckets' objects apart
(the trail's own selector records their reads; their writes only with s3IncludeTrailBucket);
Lambda and other data events; network activity events by source; the files and their bytes
(as stored, and as CloudWatch Logs ingests them: uncompressed). Each count is the measured
number over the window; the estimate scales it to a month.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orgtrail.analysis.cloudtrail_schema import TABLE
from orgtrail.analysis.query import LocalLogs, LogFile, scan, to_duckdb
from orgtrail.contract.config import NETWORK_ACTIVITY_SOURCES

MONTH_DAYS = 365.25 / 12

# Network activity events, one kind per source the stack can record (config's sources).
NETWORK_COLUMNS = {source: f"network_{source.split('.')[0]}" for source in NETWORK_ACTIVITY_SOURCES}
# The kinds an event is counted as: each a count of Place.
KINDS = (
    "management_read", "management_write", "s3_read", "s3_write", "log_bucket_reads",
    "log_bucket_writes", "lambda_data", "other_data", *NETWORK_COLUMNS.values(), "network_other",
    "unclassified",
)  # fmt: skip
_S3_DATA = "eventcategory = 'Data' AND eventsource = 's3.amazonaws.com'"
# The selectors' readOnly: only "true" is a read; false, missing or anything else a write.
_READ_OR_WRITE = "CASE WHEN readonly = 'true' THEN '{read}' ELSE '{write}' END"

# Athena's (Trino) dialect; transpiled by sqlglot for DuckDB. One CASE names each event's kind
# (the first WHEN that holds: every event has exactly one), and the events are counted by
# their keys (account and region in Athena, the file locally) and kind: one row each.
COUNTS = """
SELECT {keys}, kind, count(*) AS events, min(eventtime) AS first_event, max(eventtime) AS last_event
FROM (
  SELECT
    {keys},
    eventtime,
    CASE
      WHEN eventcategory = 'Management' THEN {management}
      -- Nested: the resources (the dear part) are looked at for S3 data events only.
      WHEN {s3} THEN CASE WHEN {log_object} THEN {log_bucket} ELSE {s3_object} END
      WHEN eventcategory = 'Data' AND eventsource = 'lambda.amazonaws.com' THEN 'lambda_data'
      WHEN eventcategory = 'Data' THEN 'other_data'
{network}      WHEN eventcategory = 'NetworkActivity' THEN 'network_other'
      ELSE 'unclassified'
    END AS kind
  FROM {source}{where}
) AS events
GROUP BY {keys}, kind
ORDER BY {keys}, kind
"""


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def log_object_sql(log_buckets: Sequence[str], partition: str) -> str:
    """Whether an event is on an object of the log buckets, as the trail's selectors say it:
    a resource of type AWS::S3::Object whose ARN starts with arn:<partition>:s3:::<bucket>/
    (components/organization_trail.py, `resources.ARN` StartsWith). No buckets: never."""
    if not log_buckets:
        return "false"
    prefixes = " OR ".join(
        f"starts_with(r.arn, {_quoted(f'arn:{partition}:s3:::{bucket}/')})"
        for bucket in log_buckets
    )
    found = f"filter(resources, r -> r.type = 'AWS::S3::Object' AND ({prefixes}))"
    return f"coalesce(cardinality({found}) > 0, false)"


def counts_sql(
    source: str = TABLE,
    where: str = "",
    log_buckets: Sequence[str] = (),
    partition: str = "aws",
    keys: Sequence[str] = ("account", "region"),
) -> str:
    """COUNTS over a table or a subquery, optionally restricted (`WHERE ...`), in Athena's
    dialect; the log buckets' objects counted apart."""
    network = "".join(
        f"      WHEN eventcategory = 'NetworkActivity' AND eventsource = {_quoted(name)} "
        f"THEN '{kind}'\n"
        for name, kind in NETWORK_COLUMNS.items()
    )
    return COUNTS.format(
        keys=", ".join(keys),
        source=source,
        where=f"\n  WHERE {where}" if where else "",
        management=_READ_OR_WRITE.format(read="management_read", write="management_write"),
        s3=f"({_S3_DATA})",
        log_object=log_object_sql(log_buckets, partition),
        log_bucket=_READ_OR_WRITE.format(read="log_bucket_reads", write="log_bucket_writes"),
        s3_object=_READ_OR_WRITE.format(read="s3_read", write="s3_write"),
        network=network,
    )


@dataclass
class Place:
    """One account in one region: what its files hold."""

    account: str
    region: str
    management_read: int = 0
    management_write: int = 0
    s3_read: int = 0  # S3 data events, the log buckets' objects apart
    s3_write: int = 0
    log_bucket_reads: int = 0  # on objects of the log buckets (their own selector)
    log_bucket_writes: int = 0  # CloudTrail's own deliveries among them
    lambda_data: int = 0
    other_data: int = 0  # data events of other sources (DynamoDB ...): the stack records none
    network_activity: dict[str, int] = field(default_factory=dict)  # by event source
    network_other: int = 0  # of sources the stack cannot record
    unclassified: int = 0  # events without a known eventCategory
    files: int = 0
    stored_bytes: int = 0  # gzip, as in S3
    event_bytes: int = 0  # uncompressed JSON, as CloudWatch Logs ingests it

    @property
    def management(self) -> int:
        return self.management_read + self.management_write

    @property
    def s3_data(self) -> int:
        return self.s3_read + self.s3_write + self.log_bucket_reads + self.log_bucket_writes

    @property
    def data(self) -> int:
        return self.s3_data + self.lambda_data + self.other_data

    @property
    def network(self) -> int:
        return sum(self.network_activity.values()) + self.network_other

    @property
    def events(self) -> int:
        return self.management + self.data + self.network + self.unclassified


@dataclass
class Volume:
    places: list[Place] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    digest_files: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    files_measured: bool = True  # False: the counts come from Athena, the files' sizes unread
    log_buckets: tuple[str, ...] = ()  # whose objects were counted apart; () when not known

    @property
    def days(self) -> float:
        """The window measured: first to last event read."""
        if self.first is None or self.last is None:
            return 0.0
        return max((self.last - self.first).total_seconds() / 86400, 0.0)

    @property
    def per_month(self) -> float:
        """What a count over the window is multiplied by to make a month's."""
        return MONTH_DAYS / self.days if self.days else 0.0

    def total(self, attribute: str) -> int:
        return sum(getattr(place, attribute) for place in self.places)


def uncompressed_size(path: Path) -> int:
    """A gzip file's uncompressed size from its trailer (ISIZE, RFC 1952: the size modulo
    2**32, exact for files under 4 GiB, which every CloudTrail log file is)."""
    with path.open("rb") as stream:
        stream.seek(-4, 2)
        return struct.unpack("<I", stream.read(4))[0]


def _parsed(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


# The five fields the counts need, read straight from the files: the volume of a large window
# is counted at about the speed of a bare read of them (benchmarks/cost_scale.py).
LEAN_RECORD = (
    'STRUCT("eventCategory" VARCHAR, "readOnly" VARCHAR, "eventSource" VARCHAR, '
    '"eventTime" VARCHAR, "resources" STRUCT("ARN" VARCHAR, "type" VARCHAR)[])[]'
)
LEAN = f"""
SELECT
  filename,
  r."eventCategory" AS eventcategory,
  r."readOnly" AS readonly,
  r."eventSource" AS eventsource,
  r."eventTime" AS eventtime,
  -- Only an S3 data event's resources are kept (the log buckets' objects), as read: DuckDB
  -- names a struct's fields without regard to case, so r.arn is the record's "ARN".
  CASE WHEN r."eventCategory" = 'Data' AND r."eventSource" = 's3.amazonaws.com'
    THEN r."resources"
  END AS resources
FROM (
  SELECT filename, unnest(Records) AS r
  FROM read_json(?, columns = {{'Records': '{LEAN_RECORD}'}}, filename = true, records = true,
                 compression = 'gzip', maximum_object_size = 536870912)
)
"""


def _counted(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    parameters: list,
    keys: Sequence[str],
    log_buckets: Sequence[str],
    partition: str,
) -> list[dict]:
    # The sources are DuckDB SQL: only the counts around them are transpiled.
    counts = counts_sql("counted", log_buckets=log_buckets, partition=partition, keys=keys)
    cursor = connection.execute(f"WITH counted AS ({source}) {to_duckdb(counts)}", parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def measure(root: Path, log_buckets: Sequence[str] = (), partition: str = "aws") -> Volume:
    """The volume of the log files under root, the objects of log_buckets counted apart. A
    file that cannot be read is left out and named (`skipped`), as `query` does: then every
    file is loaded through `query`'s reader."""
    found = scan(root)
    files, skipped = found.files, []
    try:
        # Counted per file (the cheapest key to group by), then by its account and region.
        rows = _counted(
            duckdb.connect(), LEAN, [[str(f.path) for f in files]], ("filename",), log_buckets,
            partition,
        ) if files else []  # fmt: skip
        place_of = {str(f.path): {"account": f.account, "region": f.region} for f in files}
        rows = [{**place_of[row.pop("filename")], **row} for row in rows]
    except duckdb.Error:
        logs = LocalLogs(root)
        files, skipped = logs.files, list(logs.skipped)
        rows = _counted(
            logs.connection, f"SELECT * FROM {TABLE}", [], ("account", "region"), log_buckets,
            partition,
        )  # fmt: skip
    volume = volume_of(rows, files, found.ignored.get("digest files", 0), skipped)
    volume.log_buckets = tuple(log_buckets)
    return volume


def volume_of(
    rows: list[dict],
    files: list[LogFile] | None,
    digest_files: int = 0,
    skipped: list[tuple[Path, str]] | None = None,
) -> Volume:
    """The volume from COUNTS' rows (account, region, kind, events, first and last event
    time), and the files' sizes when they were read (None: the counts came from elsewhere,
    Athena, and the files were not measured)."""
    places: dict[tuple[str, str], Place] = {}
    first = last = None
    network_kinds = {kind: source for source, kind in NETWORK_COLUMNS.items()}
    for row in rows:
        start, end = _parsed(row["first_event"]), _parsed(row["last_event"])
        first = start if first is None or (start and start < first) else first
        last = end if last is None or (end and end > last) else last
        key = (row["account"], row["region"])
        place = places.setdefault(key, Place(*key))
        kind, events = row["kind"], int(row["events"])
        if kind in network_kinds:
            source = network_kinds[kind]
            place.network_activity[source] = place.network_activity.get(source, 0) + events
        elif kind in KINDS:
            setattr(place, kind, getattr(place, kind) + events)
        else:  # not a kind COUNTS names: a query that is not ours
            raise ValueError(f"unknown kind of event {kind!r} in the counts")
    by_place: dict[tuple[str, str], list[LogFile]] = defaultdict(list)
    for log in files or ():
        by_place[(log.account, log.region)].append(log)
    for key, logs in by_place.items():
        place = places.setdefault(key, Place(*key))
        place.files = len(logs)
        place.stored_bytes = sum(log.path.stat().st_size for log in logs)
        place.event_bytes = sum(uncompressed_size(log.path) for log in logs)
    return Volume(
        places=sorted(places.values(), key=lambda p: (p.account, p.region)),
        first=first,
        last=last,
        digest_files=digest_files,
        skipped=list(skipped or ()),
        files_measured=files is not None,
    )
