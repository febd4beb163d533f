"""cutover (dry run) and verify over organisations of 20, 100 and 300 accounts, one request at a
time and concurrently, through a loopback proxy that adds a round trip to every request.

    .venv/bin/python benchmarks/ops_scale.py [--sizes 20,100,300] [--regions 2] [--round-trip-ms 50]
        [--regions-from organisation|account|ec2]

moto_server runs on a free loopback port and is stopped at the end. Every added member account
has a multi-region legacy trail and its bucket; DescribeRegions answers with --regions regions
for every account, and the organization trail delivered each account's logs in each of them
every 110 minutes of the last day (within the 2 h silence cutover allows). Each run prints its time and
the requests it made; the last lines fit requests to accounts and regions from the runs (two
region counts) and extrapolate to 1,000 accounts in 17 regions at the concurrent runs'
measured request rate.

moto answers in well under a millisecond on the same cores, which hides what a real API's round
trip costs; the proxy adds it (tens of milliseconds from most places to AWS).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.inventory_scale import grow
from orgtrail.ops.aws import DEFAULT_CONCURRENCY, current_account
from orgtrail.ops.cutover import cutover, load_management_settings
from orgtrail.ops.verify import Expected, verify
from tests.support.moto_org import (
    CENTRAL_BUCKET,
    MANAGEMENT,
    REGIONS,
    TRAIL_NAME,
    MotoServer,
    seed,
)
from tests.support.proxy import Answer, RewritingProxy
from tests.support.stacks import management_stack_file

ALL_REGIONS = (
    "us-east-1", "eu-west-1", "ap-south-1", "eu-central-1", "us-west-2", "ap-northeast-1",
    "sa-east-1", "ca-central-1", "eu-north-1", "ap-southeast-2", "us-east-2", "eu-west-2",
    "ap-southeast-1", "eu-west-3", "ap-northeast-2", "us-west-1", "ap-northeast-3",
)  # fmt: skip
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
TARGET_ACCOUNTS, TARGET_REGIONS, TARGET_SECONDS = 1000, 17, 180


def deliver_day(org, names: list[str], regions: tuple[str, ...]) -> None:
    for name in names:
        for region in regions:
            org.deliver_every(name, region, NOW - timedelta(hours=24), NOW, step_minutes=110)


def organisation(server: MotoServer, accounts: int, regions: tuple[str, ...]):
    # IAM authorisation stays off: moto evaluates every caller's policies in its own process,
    # on these same two cores, a cost AWS does not put on the caller's clock.
    server.enforce_iam = lambda: None
    org = seed(server)
    grow(org, accounts, multi_region=True)
    added = [name for name in org.accounts if name.startswith("team-")]
    deliver_day(org, added, regions)
    os.environ.update(org.environment)
    return org, added


def answer_regions(proxy: RewritingProxy, regions: tuple[str, ...], asked: str) -> None:
    """The regions answered by the proxy (after its delay): Account Management's ListRegions,
    which moto lacks, from the management account for every account (`asked` "organisation":
    trusted access for account.amazonaws.com is on) or from each account for itself
    ("account"), or neither ("ec2"); and DescribeRegions, which moto builds in about 120 ms,
    an emulator's cost the API does not have."""
    listed = {"Regions": [{"RegionName": r, "RegionOptStatus": "ENABLED"} for r in regions]}
    answer = Answer(200, [("Content-Type", "application/json")], json.dumps(listed).encode())
    refused = Answer(403, [("Content-Type", "application/json")], b'{"__type": "AccessDenied"}')

    def list_regions(call):
        by_management = "AccountId" in call.json()
        if asked == "organisation" or (asked == "account" and not by_management):
            return answer
        return refused

    proxy.refuse("ListRegions", list_regions)
    items = "".join(
        f"<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint>"
        "<optInStatus>opt-in-not-required</optInStatus></item>"
        for r in regions
    )
    body = (
        '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>r</requestId><regionInfo>{items}</regionInfo></DescribeRegionsResponse>"
    ).encode()
    proxy.refuse("DescribeRegions", lambda call: Answer(200, [("Content-Type", "text/xml")], body))


def home_region(name: str) -> str:
    """Where `grow` made the account's legacy trail."""
    return REGIONS[int(name.removeprefix("team-")) % len(REGIONS)]


class ProxyProcess:
    """The latency proxy in a process of its own: a round trip to AWS costs the client no CPU,
    so neither should the proxy that stands for it."""

    def __init__(self, upstream: str, delay: float, regions: tuple[str, ...], asked: str):
        context = multiprocessing.get_context("fork")
        ready = context.Queue()
        self.process = context.Process(
            target=self._serve,
            args=(upstream, delay, regions, asked, ready),
            daemon=True,
        )
        self.process.start()
        self.url = ready.get(timeout=30)

    @staticmethod
    def _serve(upstream: str, delay: float, regions: tuple[str, ...], asked: str, ready) -> None:
        proxy = RewritingProxy(upstream, delay=delay)
        answer_regions(proxy, regions, asked)
        ready.put(proxy.url)
        threading.Event().wait()

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


class Requests:
    """Requests the client sends (retries included), counted by a botocore event hook."""

    def __init__(self, account) -> None:
        self.count = 0
        self._lock = threading.Lock()
        account.session.events.register("before-send", self._sent)

    def _sent(self, **_) -> None:
        with self._lock:
            self.count += 1


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (Linux /proc: user and system clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(requests: Requests, run) -> tuple[float, int, float, object]:
    """(seconds, requests, this process's CPU seconds, result) of `run()`."""
    before, started, cpu = requests.count, time.perf_counter(), time.process_time()
    result = run()
    return (
        time.perf_counter() - started,
        requests.count - before,
        time.process_time() - cpu,
        result,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,100,300", help="accounts per organisation")
    parser.add_argument("--regions", type=int, default=2, help="regions each account enabled")
    parser.add_argument("--round-trip-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument(
        "--regions-from",
        choices=("organisation", "account", "ec2"),
        default="organisation",
        help="who may list an account's regions: the management account (trusted access for "
        "Account Management), each account itself, or only each account's EC2",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"every request delayed by {args.round_trip_ms:g} ms; concurrency 1 vs {args.concurrency}; "
        f"regions listed by: {args.regions_from}"
    )
    print(
        f"{'command':<18} {'accounts':>8} {'regions':>7} {'conc.':>5} {'requests':>8} "
        f"{'seconds':>8} {'req/s':>6} {'client ms':>9} {'moto':>7}"
    )
    runs: list[Run] = []
    # Requests grow with accounts and with accounts times regions: one more region count, at
    # the smallest size, lets the fit tell the two apart.
    plan = [(size, args.regions) for size in sizes] + [(sizes[0], args.regions + 2)]
    for accounts, region_count in plan:
        regions = ALL_REGIONS[:region_count]
        server = MotoServer()
        proxy = None
        try:
            org, added = organisation(server, accounts, regions)
            proxy = ProxyProcess(server.url, args.round_trip_ms / 1000, regions, args.regions_from)
            os.environ["AWS_ENDPOINT_URL"] = proxy.url
            settings = stack_settings(org, added)
            for concurrency in (1, args.concurrency):
                for run in measure(settings, regions, concurrency, server.process.pid):
                    run = replace(run, accounts=accounts, regions=region_count)
                    runs.append(run)
                    print(
                        f"{run.command:<18} {accounts:>8} {region_count:>7} {concurrency:>5} "
                        f"{run.requests:>8} {run.seconds:>8.1f} {run.requests / run.seconds:>6.0f} "
                        f"{1000 * run.client_cpu / run.requests:>9.1f} "
                        f"{100 * run.moto_cpu / run.seconds:>6.0f}%"
                    )
        finally:
            if proxy:
                proxy.stop()
            server.stop()
    for command in ("cutover (dry run)", "verify"):
        mine = [run for run in runs if run.command == command]
        requests = extrapolated(mine, TARGET_ACCOUNTS, TARGET_REGIONS)
        # Time grows with requests at the concurrent runs' marginal rate: the smallest and the
        # largest organisation of the same regions.
        concurrent = sorted(
            (r for r in mine if r.concurrency > 1 and r.regions == args.regions),
            key=lambda r: r.requests,
        )
        small, large = concurrent[0], concurrent[-1]
        per_request = (large.seconds - small.seconds) / (large.requests - small.requests)
        seconds = small.seconds + (requests - small.requests) * per_request
        verdict = "under" if seconds < TARGET_SECONDS else "OVER"
        print(
            f"{command}: {TARGET_ACCOUNTS} accounts x {TARGET_REGIONS} regions ~ {requests:,.0f} "
            f"requests, ~{seconds:.0f} s at {1 / per_request:.0f} req/s concurrently "
            f"({verdict} {TARGET_SECONDS} s)"
        )


def stack_settings(org, added: list[str]):
    """The management stack's settings with every added account's legacy trail."""
    legacy = [
        {"accountId": org.accounts[name], "region": home_region(name), "trailName": "legacy",
         "bucket": f"{name}-{org.accounts[name]}-trail"}
        for name in added
    ]  # fmt: skip
    deployer = f"arn:aws:iam::{org.accounts['security']}:role/deploy"
    with tempfile.TemporaryDirectory() as directory:
        path = management_stack_file(
            Path(directory),
            organization_id=org.organization_id,
            management_account=MANAGEMENT,
            security_account=org.accounts["security"],
            legacyTrails=legacy,
            guardrails={"exemptRoleArns": [deployer]},
        )
        return load_management_settings(path)


@dataclass(frozen=True)
class Run:
    command: str
    accounts: int
    regions: int
    concurrency: int
    requests: int
    seconds: float
    client_cpu: float = 0.0  # CPU seconds of this process (the client)
    moto_cpu: float = 0.0  # CPU seconds of moto_server meanwhile


def measure(settings, regions: tuple[str, ...], concurrency: int, moto_pid: int):
    """A dry-run cutover and a verify, each as a Run (accounts and regions left to the caller)."""
    management = current_account()
    sent = Requests(management)
    commands = (
        (
            "cutover (dry run)",
            lambda: cutover(management, settings, CENTRAL_BUCKET, now=NOW, concurrency=concurrency),
        ),
        (
            "verify",
            lambda: verify(
                management, CENTRAL_BUCKET, TRAIL_NAME, "us-east-1", list(regions),
                now=NOW, expected=Expected(), concurrency=concurrency,
            ),
        ),
    )  # fmt: skip
    for command, run in commands:
        moto_before = cpu_seconds(moto_pid)
        seconds, requests, client_cpu, result = timed(sent, run)
        moto_cpu = cpu_seconds(moto_pid) - moto_before
        if command.startswith("cutover"):
            ready = sum(t["action"] == "ready" for t in result["trails"])
            assert ready == len(result["trails"]), f"only {ready} ready: the benchmark is broken"
        yield Run(command, 0, 0, concurrency, requests, seconds, client_cpu, moto_cpu)


def extrapolated(runs: list[Run], accounts: int, regions: int) -> float:
    """Requests at (accounts, regions) from requests = fixed + a * accounts + b * accounts *
    regions, fitted through the largest run and the two region counts of the smallest size
    (the runs one request at a time)."""
    runs = [r for r in runs if r.concurrency == 1]
    smallest = min(r.accounts for r in runs)
    low, high = sorted({(r.regions, r.requests) for r in runs if r.accounts == smallest})[:2]
    per_region = (high[1] - low[1]) / (smallest * (high[0] - low[0]))  # b
    large = max(runs, key=lambda r: (r.accounts, r.regions))
    per_account = (
        large.requests - low[1] - per_region * (large.accounts * large.regions - smallest * low[0])
    ) / (large.accounts - smallest)  # a
    fixed = low[1] - per_account * smallest - per_region * smallest * low[0]
    return fixed + per_account * accounts + per_region * accounts * regions


if __name__ == "__main__":
    main()
