"""AnalyzeStack on large stacks: the org-trail pack against a trivial pack, over real gRPC.

    .venv/bin/python benchmarks/policy_scale.py [--sizes 1000,3000] [--repeat 3]

Each bucket comes with its public access block (matched by property
dependency), a bucket policy, a default-retention and an encryption
configuration (matched by name): every stack rule has work to do and the
stack is compliant, so both packs send back the same (empty) answer. Both packs are started the way the Pulumi CLI starts them and
receive the same request. Two ratios: against a trivial pack with one stack
policy (everything the org-trail pack costs), and against one with as many
stack policies as the org-trail pack (the SDK deserializes the stack once per
stack policy, so this isolates the cost of the rules themselves: the floor set
by pulumi-policy, which the pack must stay within 1.2x of). 3,000 buckets are
15,000 resources.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

# As pytest sees it (pyproject.toml): the project, and the pack's package under policies/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policies"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orgtrail.offline.policy_check import PACK_DIR, RunningPack
from orgtrail.offline.simulate import Resource
from tests.support.policy import declared

TRIVIAL_PACK = Path(__file__).resolve().parent / "trivial_pack"
FLOOR_RATIO = 1.2  # the pack against a no-op pack with as many stack policies
BLOCKED = dict.fromkeys(
    ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
)


def stack_of(buckets: int) -> list[Resource]:
    resources = []
    for index in range(buckets):
        name = f"bucket-{index:05d}"
        bucket = declared(
            "aws:s3/bucket:Bucket", name, {"bucket": name, "id": name, "objectLockEnabled": True}
        )
        policy = {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ]
        }
        resources += [
            bucket,
            declared(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                f"{name}-block",
                {"bucket": name, **BLOCKED},
                property_dependencies={"bucket": [bucket.urn]},
            ),
            declared(
                "aws:s3/bucketPolicy:BucketPolicy",
                f"{name}-policy",
                {"bucket": name, "policy": json.dumps(policy)},
            ),
            declared(
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                f"{name}-lock",
                {"bucket": name, "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 365}}},
            ),
            declared(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                f"{name}-encryption",
                {
                    "bucket": name,
                    "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
                },
            ),
        ]
    return resources


def time_analyze_stack(
    pack_dir: Path,
    resources: list[Resource],
    repeat: int,
    trivial_policies: int = 1,
    config: dict | None = None,
) -> tuple[float, int]:
    os.environ["TRIVIAL_POLICIES"] = str(trivial_policies)
    with RunningPack(pack_dir) as pack:
        pack.configure(config or {})
        timings, diagnostics = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            response = pack.analyze_stack(resources)
            timings.append(time.perf_counter() - started)
            diagnostics = len(response.diagnostics)
    return statistics.median(timings), diagnostics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000", help="buckets (5 resources each)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with RunningPack(PACK_DIR) as pack:
        policies = pack.info().policies
    stack_policies = sum(p.policy_type == 2 for p in policies)  # POLICY_TYPE_STACK
    # The same pack with its advisory stack policies disabled: what one stack pass costs.
    mandatory_only = {
        p.name: "disabled" for p in policies if p.policy_type == 2 and p.enforcementLevel == 0
    }
    print(
        f"{'buckets':>8} {'resources':>9} {'org-trail s':>11} {'trivial s':>9} {'ratio':>6} "
        f"{f'trivial x{stack_policies} s':>14} {'ratio':>6} "
        f"{f'mandatory only ({stack_policies - len(mandatory_only)}) s':>22} {'ratio':>6} {'diagnostics':>11}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        resources = stack_of(size)
        ours, diagnostics = time_analyze_stack(PACK_DIR, resources, args.repeat)
        one, _ = time_analyze_stack(TRIVIAL_PACK, resources, args.repeat)
        same, _ = time_analyze_stack(TRIVIAL_PACK, resources, args.repeat, stack_policies)
        fewer, _ = time_analyze_stack(PACK_DIR, resources, args.repeat, config=mandatory_only)
        print(
            f"{size:>8} {len(resources):>9} {ours:>11.3f} {one:>9.3f} {ours / one:>6.2f} "
            f"{same:>14.3f} {ours / same:>6.2f} {fewer:>22.3f} {fewer / one:>6.2f} {diagnostics:>11}"
        )
        verdict = "within" if ours <= FLOOR_RATIO * same else "OVER"
        print(f"  {len(resources)} resources: {verdict} {FLOOR_RATIO}x of the SDK floor")


if __name__ == "__main__":
    main()
