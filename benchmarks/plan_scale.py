"""Time the offline evaluation of the management stack as legacy trails grow.

    .venv/bin/python benchmarks/plan_scale.py [--sizes 0,200,800] [--repeat 3]

Each legacy trail lives in its own member account (one assumed-role provider
each) with its own bucket (one lifecycle configuration each): the worst case.
Prints the median time per size, the resources registered, and the time per
legacy trail above the empty stack, which stays flat when growth is linear.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orgtrail.offline.simulate import simulate
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    SECURITY_STACK,
    management_config,
    run_security,
)


def legacy_trails(count: int) -> list[dict]:
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
    return [
        {
            "accountId": f"{500000000000 + index:012d}",
            "region": regions[index % len(regions)],
            "trailName": f"legacy-trail-{index}",
            "bucket": f"legacy-cloudtrail-{index:05d}",
        }
        for index in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,200,800")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    security_exports = run_security().exports
    results = {}
    for size in sizes:
        config = management_config(legacyTrails=legacy_trails(size))
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            sim = simulate(
                "management",
                config,
                caller_account_id=MANAGEMENT_ACCOUNT,
                stack_outputs={SECURITY_STACK: security_exports},
            )
            timings.append(time.perf_counter() - started)
        results[size] = (statistics.median(timings), len(sim.resources))

    base = results[sizes[0]][0]
    print(f"{'legacy trails':>13} {'resources':>9} {'median s':>9} {'ms per trail':>12}")
    for size, (seconds, resources) in results.items():
        per_trail = f"{(seconds - base) / size * 1000:12.2f}" if size else f"{'-':>12}"
        print(f"{size:>13} {resources:>9} {seconds:>9.3f} {per_trail}")
    if len(sizes) >= 3 and sizes[1] and sizes[-1]:
        small = (results[sizes[1]][0] - base) / sizes[1]
        large = (results[sizes[-1]][0] - base) / sizes[-1]
        print(f"per-trail cost at {sizes[-1]} / at {sizes[1]}: {large / small:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
