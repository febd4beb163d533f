"""`orgtrail cost --athena` at an organisation's scale: Athena's rows for every account and
region read into the volume, priced, and rendered as JSON, Markdown and HTML.

    .venv/bin/python benchmarks/cost_org_scale.py [--accounts 2000] [--regions 17]

The rows are shaped as the counting query returns them (account, region, kind, events,
first and last event time: one row per kind present), with a legacy trail in every tenth
account; Athena itself is not timed (it cannot run here). Reported: the rows, the time of
each step, and the size of each document.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orgtrail.contract.config import load_settings  # noqa: E402
from orgtrail.cost.command import cost_json  # noqa: E402
from orgtrail.cost.estimate import estimate  # noqa: E402
from orgtrail.cost.prices import offline_table  # noqa: E402
from orgtrail.cost.report import Report, html, markdown  # noqa: E402
from orgtrail.cost.volume import volume_of  # noqa: E402
from tests.support.stacks import management_config  # noqa: E402

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1", "ap-northeast-3",
)  # fmt: skip
KINDS = ("management_read", "management_write", "s3_read", "s3_write", "lambda_data")


def rows(accounts: list[str], regions: int, rng: random.Random) -> list[dict]:
    window = {"first_event": "2026-11-25T00:00:00Z", "last_event": "2026-12-01T23:59:59Z"}
    return [
        {"account": account, "region": region, "kind": kind,
         "events": str(rng.randrange(1_000, 5_000_000)), **window}
        for account in accounts
        for region in REGIONS[:regions]
        for kind in KINDS
    ]  # fmt: skip


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    print(f"{label}: {time.perf_counter() - started:.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(23)
    accounts = [f"{100000000000 + n:012d}" for n in range(args.accounts)]
    legacy = [
        {"accountId": a, "region": "us-east-1", "trailName": "old", "bucket": f"old-{a}"}
        for a in accounts[::10]
    ]
    management = load_settings(management_config(legacyTrails=json.dumps(legacy)), "management")
    athena_rows = rows(accounts, args.regions, rng)
    print(
        f"{len(athena_rows):,} rows from Athena ({args.accounts:,} accounts x {args.regions} regions)"
    )
    volume = timed("rows read into the volume", lambda: volume_of(athena_rows, files=None))
    result = timed("priced", lambda: estimate(volume, offline_table(), management, security=None))
    report = Report(result)
    for name, render in (
        ("JSON", lambda: json.dumps(cost_json(result))),
        ("Markdown", lambda: markdown(report)),
        ("HTML", lambda: html(report)),
    ):
        text = timed(f"{name} written", render)
        print(f"  {len(text.encode()) / 2**20:.1f} MiB")
    print(f"${result.usd:,.2f} a month over {len(result.accounts()):,} accounts")


if __name__ == "__main__":
    main()
