"""The volume count of `orgtrail cost` over generated logs, beside a bare DuckDB read of the
same files, in one run.

    .venv/bin/python benchmarks/cost_scale.py [--events 1000000] [--repeat 3]

The bare read parses the same four fields of every record (the least a count can read) and
counts the rows; `measure` also joins each file's account and region, counts by account and
region, and reads each file's size and gzip trailer. Reported: the median of each, and
their ratio (the target is at most 1.2).
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
from orgtrail.cost.volume import measure  # noqa: E402

BARE = """
SELECT count(*) FROM (
  SELECT unnest(Records) AS r
  FROM read_json(?, columns = {'Records': 'STRUCT("eventCategory" VARCHAR, "readOnly" VARCHAR,
                 "eventSource" VARCHAR, "eventTime" VARCHAR)[]'}, records = true,
                 compression = 'gzip', maximum_object_size = 536870912)
)
"""


def bare_read(root: Path) -> int:
    files = [str(f.path) for f in scan(root).files]
    return duckdb.connect().execute(BARE, [files]).fetchone()[0]


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
        bare, counted = [], []
        for _ in range(args.repeat):  # interleaved: both see the same page cache
            seconds, rows = timed(bare_read, root)
            bare.append(seconds)
            seconds, volume = timed(measure, root)
            counted.append(seconds)
        assert rows == volume.total("events") == events, (rows, volume.total("events"))
        b, m = statistics.median(bare), statistics.median(counted)
        print(
            f"bare DuckDB read: {b:.2f} s; orgtrail cost volume count: {m:.2f} s; ratio {m / b:.2f}"
        )


if __name__ == "__main__":
    main()
