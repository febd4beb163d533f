"""The volume count of `orgtrail cost` over generated logs, beside a bare DuckDB read of the
same files, in one run.

    .venv/bin/python benchmarks/cost_scale.py [--events 1000000] [--repeat 3]

Two bare reads of the same five fields of every record (the least a count can read: the
resources tell the log buckets' objects apart): one counts the records (DuckDB then parses
the files without handing any field on), one reads each field's values. `measure` names each
event's kind, counts by file and kind, folds the files into their account and region, and
reads each file's size and gzip trailer. Reported: the median of each and the ratios (the
target is at most 1.2).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.query_scale import generate  # noqa: E402
from orgtrail.analysis.query import scan  # noqa: E402
from orgtrail.cost.volume import LEAN_RECORD, measure  # noqa: E402

BARE = f"""
SELECT count(*) FROM (
  SELECT unnest(Records) AS r
  FROM read_json(?, columns = {{'Records': '{LEAN_RECORD}'}}, records = true,
                 compression = 'gzip', maximum_object_size = 536870912)
)
"""
FIELDS = f"""
SELECT count(*), max(length(r."eventCategory")), max(length(r."readOnly")),
       max(length(r."eventSource")), max(r."eventTime"), max(len(r."resources")),
       max(r."resources"[1]."ARN")
FROM (
  SELECT unnest(Records) AS r
  FROM read_json(?, columns = {{'Records': '{LEAN_RECORD}'}}, records = true,
                 compression = 'gzip', maximum_object_size = 536870912)
)
"""
LOG_BUCKETS = ("org-trail-logs-222222222222-us-east-1", "org-trail-access-logs")


def bare_read(root: Path, sql: str = BARE) -> int:
    files = [str(f.path) for f in scan(root).files]
    return duckdb.connect().execute(sql, [files]).fetchone()[0]


def timed(function, root: Path) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(root)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        events, files, _ = generate(root, args.events)
        print(f"{events:,} events in {files:,} files")
        bare, fields, counted = [], [], []
        for _ in range(args.repeat):  # interleaved: all see the same page cache
            seconds, rows = timed(bare_read, root)
            bare.append(seconds)
            seconds, _ = timed(lambda r: bare_read(r, FIELDS), root)
            fields.append(seconds)
            seconds, volume = timed(lambda r: measure(r, LOG_BUCKETS), root)
            counted.append(seconds)
        assert rows == volume.total("events") == events, (rows, volume.total("events"))
        b, f, m = (statistics.median(times) for times in (bare, fields, counted))
        print(f"bare DuckDB read, records counted: {b:.2f} s")
        print(f"bare DuckDB read, the fields' values read: {f:.2f} s")
        print(f"orgtrail cost volume count: {m:.2f} s; ratio {m / b:.2f} and {m / f:.2f}")


if __name__ == "__main__":
    main()
