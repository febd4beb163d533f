"""What the organisation produces, counted from delivered log files (DuckDB, as `query`).

Per account and region, from the files of a window synced from the central bucket: management
events read and write, data events by source, network activity events, the files and their
bytes (as stored, and as CloudWatch Logs ingests them: uncompressed). Each count is the
measured number over the window; the estimate scales it to a month.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orgtrail.analysis.cloudtrail_schema import TABLE
from orgtrail.analysis.query import LocalLogs, LogFile, scan

MONTH_DAYS = 365.25 / 12

COUNTS = """
SELECT
  account,
  region,
  count(*) FILTER (WHERE eventcategory = 'Management' AND readonly = 'true') AS management_read,
  count(*) FILTER (WHERE eventcategory = 'Management' AND coalesce(readonly, '') <> 'true')
    AS management_write,
  count(*) FILTER (WHERE eventcategory = 'Data' AND eventsource = 's3.amazonaws.com') AS s3_data,
  count(*) FILTER (WHERE eventcategory = 'Data' AND eventsource = 'lambda.amazonaws.com')
    AS lambda_data,
  count(*) FILTER (
    WHERE eventcategory = 'Data' AND eventsource NOT IN ('s3.amazonaws.com', 'lambda.amazonaws.com')
  ) AS other_data,
  count(*) FILTER (WHERE eventcategory = 'NetworkActivity') AS network_activity,
  count(*) FILTER (
    WHERE eventcategory IS NULL OR eventcategory NOT IN ('Management', 'Data', 'NetworkActivity')
  ) AS unclassified,
  min(eventtime) AS first_event,
  max(eventtime) AS last_event
FROM {source}
{where}GROUP BY account, region
ORDER BY account, region
"""


def counts_sql(source: str = TABLE, where: str = "") -> str:
    """COUNTS over a table or a subquery, optionally restricted (`WHERE ...`)."""
    return COUNTS.format(source=source, where=f"WHERE {where}\n" if where else "")


@dataclass
class Place:
    """One account in one region: what its files hold."""

    account: str
    region: str
    management_read: int = 0
    management_write: int = 0
    s3_data: int = 0
    lambda_data: int = 0
    other_data: int = 0
    network_activity: int = 0
    unclassified: int = 0  # events without a known eventCategory
    files: int = 0
    stored_bytes: int = 0  # gzip, as in S3
    event_bytes: int = 0  # uncompressed JSON, as CloudWatch Logs ingests it

    @property
    def management(self) -> int:
        return self.management_read + self.management_write

    @property
    def data(self) -> int:
        return self.s3_data + self.lambda_data + self.other_data

    @property
    def events(self) -> int:
        return self.management + self.data + self.network_activity + self.unclassified


@dataclass
class Volume:
    places: list[Place] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    digest_files: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    files_measured: bool = True  # False: the counts come from Athena, the files' sizes unread

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


# The four fields the counts need, read straight from the files: the volume of a large window
# is counted at about the speed of a bare read (benchmarks/cost_scale.py).
LEAN = """
SELECT
  partitions.account,
  partitions.region,
  r."eventCategory" AS eventcategory,
  r."readOnly" AS readonly,
  r."eventSource" AS eventsource,
  r."eventTime" AS eventtime
FROM (
  SELECT filename, unnest(Records) AS r
  FROM read_json(?, columns = {'Records': 'STRUCT("eventCategory" VARCHAR, "readOnly" VARCHAR,
                 "eventSource" VARCHAR, "eventTime" VARCHAR)[]'}, filename = true, records = true,
                 compression = 'gzip', maximum_object_size = 536870912)
) JOIN partitions USING (filename)
"""


def _counted(connection: duckdb.DuckDBPyConnection, source: str, parameters: list) -> list[dict]:
    cursor = connection.execute(counts_sql(f"({source})"), parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def measure(root: Path) -> Volume:
    """The volume of the log files under root. A file that cannot be read is left out and
    named (`skipped`), as `query` does: then every file is loaded through `query`'s reader."""
    found = scan(root)
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE partitions (filename VARCHAR, account VARCHAR, region VARCHAR, day VARCHAR)"
    )
    connection.executemany(
        "INSERT INTO partitions VALUES (?, ?, ?, ?)",
        [(str(f.path), f.account, f.region, f.day) for f in found.files],
    )
    skipped: list[tuple[Path, str]] = []
    files = found.files
    try:
        rows = _counted(connection, LEAN, [[str(f.path) for f in files]]) if files else []
    except duckdb.Error:
        logs = LocalLogs(root)
        files, skipped = logs.files, list(logs.skipped)
        rows = _counted(logs.connection, f"SELECT * FROM {TABLE}", [])
    return volume_of(rows, files, found.ignored.get("digest files", 0), skipped)


def volume_of(
    rows: list[dict],
    files: list[LogFile] | None,
    digest_files: int = 0,
    skipped: list[tuple[Path, str]] | None = None,
) -> Volume:
    """The volume from COUNTS' rows, and the files' sizes when they were read (None: the
    counts came from elsewhere, Athena, and the files were not measured)."""
    places: dict[tuple[str, str], Place] = {}
    first = last = None
    for record in rows:
        start, end = _parsed(record.pop("first_event")), _parsed(record.pop("last_event"))
        first = start if first is None or (start and start < first) else first
        last = end if last is None or (end and end > last) else last
        places[(record["account"], record["region"])] = Place(**record)
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
