"""Inventory a seeded organisation of 200 accounts in moto_server, sequentially and concurrently.

    .venv/bin/python benchmarks/inventory_scale.py [--accounts 200] [--concurrency 16] [--round-trip-ms 50]

moto_server runs on a free loopback port and is stopped at the end. Every
member account gets a legacy trail (in one of two regions) and its bucket, so
each account costs an assume-role, two DescribeTrails, a GetTrailStatus,
a ListBuckets, a GetBucketLocation and a GetBucketLifecycleConfiguration, as in
a real organisation.

moto answers in well under a millisecond on the same two cores, which hides
what concurrency buys against the real API. The scan therefore goes through
the tests' loopback proxy, which adds a fixed delay to every request: the
round trip of a call to AWS (tens of milliseconds from most places).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orgtrail.ops.aws import current_account
from orgtrail.ops.inventory import DEFAULT_CONCURRENCY, inventory
from tests.support.moto_org import ALLOW_ALL, REGIONS, ROLE, MotoServer, seed
from tests.support.proxy import RewritingProxy


def grow(org, total: int, multi_region: bool = False) -> None:
    """Members up to `total` accounts, each with a legacy trail (multi-region if asked) and its
    bucket, in one of two regions."""
    organizations = org.admin.client("organizations")
    while len(org.accounts) < total:
        index = len(org.accounts)
        name = f"team-{index:03d}"
        account_id = organizations.create_account(Email=f"{name}@example.com", AccountName=name)[
            "CreateAccountStatus"
        ]["AccountId"]
        org.accounts[name] = account_id
        region = REGIONS[index % len(REGIONS)]
        member = org.member(name, region)
        member.client("iam").put_role_policy(
            RoleName=ROLE, PolicyName="administrator", PolicyDocument=ALLOW_ALL
        )
        location = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        member.client("s3").create_bucket(Bucket=f"{name}-{account_id}-trail", **location)
        cloudtrail = member.client("cloudtrail")
        cloudtrail.create_trail(
            Name="legacy",
            S3BucketName=f"{name}-{account_id}-trail",
            IsMultiRegionTrail=multi_region,
        )
        cloudtrail.start_logging(Name="legacy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument(
        "--round-trip-ms", type=float, default=50.0, help="delay the proxy adds to every request"
    )
    args = parser.parse_args()
    server = MotoServer()
    proxy = RewritingProxy(server.url, delay=args.round_trip_ms / 1000)
    try:
        started = time.perf_counter()
        server.enforce_iam = lambda: None  # seed first, authorise after growing
        org = seed(server)
        grow(org, args.accounts)
        MotoServer.enforce_iam(server)
        os.environ.update({**org.environment, "AWS_ENDPOINT_URL": proxy.url})
        print(f"seeded {len(org.accounts)} accounts in {time.perf_counter() - started:.1f} s")
        print(f"every request delayed by {args.round_trip_ms:g} ms")
        base = current_account()
        print(
            f"{'concurrency':>11} {'accounts':>8} {'trails':>6} {'errors':>6} {'seconds':>8} {'accounts/s':>10}"
        )
        for concurrency in (1, args.concurrency):
            started = time.perf_counter()
            report = inventory(base, list(REGIONS), concurrency=concurrency)
            elapsed = time.perf_counter() - started
            trails = sum(len(a["trails"]) for a in report["accounts"])
            errors = sum(bool(a["error"] or a["regionErrors"]) for a in report["accounts"])
            accounts = len(report["accounts"])
            print(
                f"{concurrency:>11} {accounts:>8} {trails:>6} {errors:>6} {elapsed:>8.2f} {accounts / elapsed:>10.1f}"
            )
    finally:
        proxy.stop()
        server.stop()


if __name__ == "__main__":
    main()
