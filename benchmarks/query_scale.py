"""All detections run locally over generated CloudTrail logs: time and peak memory.

    .venv/bin/python benchmarks/query_scale.py [--events 1000000] [--keep DIR]

Writes the events as the organization trail delivers them (gzip JSON files of
200 records under AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD/),
then runs `python -m orgtrail query all --json` on them in a child process,
as a user would, and reports its wall time and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cloudtrail_events import Generator, write_logs  # noqa: E402

BATCH = 100_000


def generate(directory: Path, events: int) -> tuple[int, int, dict[str, int]]:
    generator = Generator(seed=11, days=7)
    files, written, planted = 0, 0, {name: 0 for name in Generator.PLANTED}
    batch = 0
    while written < events:
        size = min(BATCH, events - written)
        chunk = [generator.benign() for _ in range(size)]
        for name, makers in Generator.PLANTED.items():
            for make in makers:
                chunk[generator.rng.randrange(len(chunk))] = make(generator)
                planted[name] += 1
        files += len(write_logs(directory, chunk, batch=batch))
        written += size
        batch += 1
    return written, files, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the logs here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        started = time.perf_counter()
        events, files, planted = generate(directory, args.events)
        size = sum(p.stat().st_size for p in directory.rglob("*.json.gz"))
        print(
            f"generated {events:,} events in {files:,} files ({size / 2**20:.0f} MiB gzip) in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "orgtrail", "query", "all", "--logs", str(directory), "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode not in (0, 1):
            sys.exit(f"query failed ({result.returncode}): {result.stderr}")
        found = {name: len(rows) for name, rows in json.loads(result.stdout).items()}
    print(f"15 detections over {events:,} events: {elapsed:.1f} s wall, peak RSS {peak:.0f} MiB")
    print(f"{'detection':<28} {'rows':>5} {'planted at most':>15}")
    for name, rows in found.items():
        print(f"{name:<28} {rows:>5} {planted[name]:>15}")


if __name__ == "__main__":
    main()
