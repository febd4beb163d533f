"""`orgtrail cost`: volume counted from the generated corpus (exact counts, computed from the
events themselves), each item priced by hand from the same counts, every price cited."""

import gzip
import json
import re
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from orgtrail.__main__ import main
from orgtrail.contract.config import load_settings
from orgtrail.cost.estimate import GIB, GROUPS, estimate
from orgtrail.cost.prices import dollars, offline_table
from orgtrail.cost.volume import (
    MONTH_DAYS,
    NETWORK_COLUMNS,
    Place,
    Volume,
    measure,
    uncompressed_size,
)
from tests.support.cloudtrail_events import START, Generator, corpus, write_logs
from tests.support.contract import conforming
from tests.support.html_report import read_page
from tests.support.stacks import (
    DEPLOY_ROLE,
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_ACCOUNT,
    management_config,
    management_stack_file,
    security_config,
)


def log_buckets() -> tuple[str, str]:
    """The security stack's log and access-log buckets (the tests' stack file)."""
    security = load_settings(security_config(), "security")
    return security.log_bucket_name, security.access_log_bucket_name


def cost_events(generator: Generator, count: int) -> list[dict]:
    """Data and network activity events of every kind `cost` tells apart, near misses among
    them (a bucket whose name only starts with the log bucket's, the bucket itself rather than
    an object of it)."""
    log, access = log_buckets()

    def s3(name: str, arn: str, kind: str = "AWS::S3::Object") -> dict:
        return generator.event(
            "s3", name, eventCategory="Data", managementEvent=False,
            resources=[{"type": kind, "ARN": arn}, {"type": "AWS::S3::Bucket", "ARN": arn.split("/")[0]}],
        )  # fmt: skip

    def network(source: str, name: str) -> dict:
        return generator.event(source, name, eventCategory="NetworkActivity", managementEvent=False)

    makers = (
        lambda: s3("PutObject", "arn:aws:s3:::app-data/reports/1.csv"),
        lambda: s3("GetObject", f"arn:aws:s3:::{log}/AWSLogs/o-1/x.json.gz"),
        lambda: s3("PutObject", f"arn:aws:s3:::{log}/AWSLogs/o-1/y.json.gz"),
        lambda: s3("GetObject", f"arn:aws:s3:::{access}/2026-11-21-00-00-00"),
        lambda: s3("GetObject", f"arn:aws:s3:::{log}-copy/x.json.gz"),  # another bucket
        lambda: s3("GetObject", f"arn:aws:s3:::{log}", kind="AWS::S3::Bucket"),  # not an object
        lambda: generator.event("dynamodb", "GetItem", eventCategory="Data", managementEvent=False),
        lambda: network("ec2", "CreateVpc"),
        lambda: network("kms", "Decrypt"),
        lambda: network("s3", "GetObject"),  # a source the stack cannot record
    )
    return [generator.rng.choice(makers)() for _ in range(count)]


@pytest.fixture(scope="module")
def events():
    return corpus(benign=4000, seed=31).events + cost_events(Generator(seed=32), 600)


@pytest.fixture(scope="module")
def logs_dir(events, tmp_path_factory):
    root = tmp_path_factory.mktemp("cost")
    write_logs(root, events, per_file=120)
    return root


def column_of(event: dict, log_objects: tuple[str, ...]) -> str:
    """The oracle: the one count an event belongs to, from the selectors' reference (field
    by field, as the user guide's advanced event selectors read a record)."""
    category, source = event.get("eventCategory"), event.get("eventSource")
    read = event.get("readOnly") in (True, "true")
    if category == "Management":
        return "management_read" if read else "management_write"
    if category == "Data" and source == "s3.amazonaws.com":
        on_log_bucket = any(
            resource.get("type") == "AWS::S3::Object"
            and any(str(resource.get("ARN")).startswith(prefix) for prefix in log_objects)
            for resource in event.get("resources") or ()
        )
        if on_log_bucket:
            return "log_bucket_reads" if read else "log_bucket_writes"
        return "s3_read" if read else "s3_write"
    if category == "Data":
        return "lambda_data" if source == "lambda.amazonaws.com" else "other_data"
    if category == "NetworkActivity":
        return NETWORK_COLUMNS.get(source, "network_other")
    return "unclassified"


def expected_counts(events, buckets=()) -> dict[tuple[str, str], Counter]:
    """The corpus's events counted in Python, by account and region."""
    log_objects = tuple(f"arn:aws:s3:::{bucket}/" for bucket in buckets)
    counts: dict[tuple[str, str], Counter] = {}
    for event in events:
        place = counts.setdefault((event["recipientAccountId"], event["awsRegion"]), Counter())
        place[column_of(event, log_objects)] += 1
    return counts


def counted(place: Place) -> Counter:
    columns = Counter(
        {
            name: getattr(place, name)
            for name in ("management_read", "management_write", "s3_read", "s3_write",
                         "log_bucket_reads", "log_bucket_writes", "lambda_data", "other_data",
                         "network_other", "unclassified")
        }
    )  # fmt: skip
    columns.update({NETWORK_COLUMNS[s]: n for s, n in place.network_activity.items()})
    return +columns  # the zero counts dropped, as the oracle has none


def test_the_volume_is_counted_exactly_per_account_and_region(events, logs_dir):
    volume = measure(logs_dir, log_buckets())
    expected = expected_counts(events, log_buckets())
    assert {(p.account, p.region) for p in volume.places} == set(expected)
    for place in volume.places:
        assert counted(place) == expected[(place.account, place.region)], place.account
    assert volume.total("events") == len(events)
    assert volume.total("log_bucket_reads") > 0 and volume.total("log_bucket_writes") > 0
    times = sorted(e["eventTime"] for e in events)
    assert volume.first.strftime("%Y-%m-%dT%H:%M:%SZ") == times[0]
    assert volume.last.strftime("%Y-%m-%dT%H:%M:%SZ") == times[-1]
    assert volume.digest_files == volume.total("files")  # one digest beside each file here


def test_without_the_log_buckets_their_objects_are_counted_as_any_s3_object(events, logs_dir):
    volume = measure(logs_dir)
    assert volume.total("log_bucket_reads") == volume.total("log_bucket_writes") == 0
    expected = expected_counts(events)
    assert all(counted(p) == expected[(p.account, p.region)] for p in volume.places)


READ_ONLY = st.sampled_from([True, False, "true", "false", "True", None, "missing"])
RESOURCE_ARN = st.sampled_from(
    [
        "arn:aws:s3:::{log}/AWSLogs/k", "arn:aws:s3:::{log}/", "arn:aws:s3:::{log}",
        "arn:aws:s3:::{log}x/k", "arn:aws:s3:::{access}/k", "arn:aws:s3:::app/k",
        "arn:aws-cn:s3:::{log}/k", "arn:aws:s3:::{log}/AWSLogs/{access}/k", "",
    ]
)  # fmt: skip
RESOURCE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["AWS::S3::Object", "AWS::S3::Bucket", "AWS::Lambda::Function"]),
        "ARN": RESOURCE_ARN,
    }
)
ANY_EVENT = st.fixed_dictionaries(
    {
        "eventCategory": st.sampled_from(
            ["Management", "Data", "NetworkActivity", None, "Insight", "management", "missing"]
        ),
        "eventSource": st.sampled_from(
            [
                *NETWORK_COLUMNS,
                "s3.amazonaws.com",
                "lambda.amazonaws.com",
                "dynamodb.amazonaws.com",
                None,
                "missing",
            ]
        ),
        "readOnly": READ_ONLY,
        "resources": st.one_of(st.just("missing"), st.none(), st.lists(RESOURCE, max_size=3)),
        "account": st.sampled_from(["111111111111", "222222222222"]),
    }
)
# Half the events S3 data events with resources: where the log buckets' near misses are.
S3_EVENT = st.fixed_dictionaries(
    {
        "eventCategory": st.just("Data"),
        "eventSource": st.just("s3.amazonaws.com"),
        "readOnly": READ_ONLY,
        "resources": st.lists(RESOURCE, min_size=1, max_size=3),
        "account": st.sampled_from(["111111111111", "222222222222"]),
    }
)
EVENT = st.one_of(S3_EVENT, ANY_EVENT)


@examples(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=40))
def test_every_event_counts_once_where_the_oracle_puts_it(drawn):
    """Property: the counting SQL (Athena's dialect, transpiled for DuckDB) puts each event,
    whatever its fields hold or lack, in the one count the oracle names."""
    log, access = log_buckets()
    events = []
    for number, fields in enumerate(drawn):
        event = {
            "eventTime": f"2026-11-21T00:{number:02d}:00Z",
            "recipientAccountId": fields["account"],
            "awsRegion": "eu-west-1",
        }
        for key in ("eventCategory", "eventSource", "readOnly", "resources"):
            if fields[key] != "missing":
                event[key] = fields[key]
        for resource in event.get("resources") or ():
            resource["ARN"] = resource["ARN"].format(log=log, access=access)
        events.append(event)
    with tempfile.TemporaryDirectory() as scratch:
        write_logs(Path(scratch), events, per_file=15)
        volume = measure(Path(scratch), (log, access))
    expected = expected_counts(events, (log, access))
    assert {(p.account, p.region): counted(p) for p in volume.places} == expected


def test_bytes_are_what_s3_stores_and_what_cloudwatch_logs_ingests(logs_dir):
    volume = measure(logs_dir)
    files = sorted(logs_dir.rglob("*_CloudTrail_*.json.gz"))
    assert volume.total("stored_bytes") == sum(path.stat().st_size for path in files)
    assert volume.total("event_bytes") == sum(len(gzip.decompress(p.read_bytes())) for p in files)
    assert all(uncompressed_size(p) == len(gzip.decompress(p.read_bytes())) for p in files[:5])


def one_month_of(place: Place) -> Volume:
    start = START
    return Volume(places=[place], first=start, last=start + timedelta(days=MONTH_DAYS))


def stack_settings(stack: str, **keys):
    config = management_config(**keys) if stack == "management" else security_config(**keys)
    return load_settings(config, stack)


def test_each_item_is_its_count_times_its_price():
    place = Place(
        MEMBER_ACCOUNT, "eu-west-1", management_read=300_000, management_write=100_000,
        s3_read=1_500_000, s3_write=500_000, log_bucket_reads=4_000, lambda_data=50_000,
        network_activity={"kms.amazonaws.com": 10_000, "ec2.amazonaws.com": 7_000},
        files=1_000, stored_bytes=3 * GIB, event_bytes=20 * GIB,
    )  # fmt: skip
    legacy = [
        {"accountId": MEMBER_ACCOUNT, "region": "eu-west-1", "trailName": name, "bucket": bucket}
        for name, bucket in (("one-trail", "b-one"), ("two-trail", "b-two"))
    ]
    management = stack_settings(
        "management",
        legacyTrails=json.dumps(legacy),
        dataEvents=json.dumps({"networkActivity": ["kms.amazonaws.com"]}),
    )
    security = stack_settings(
        "security", objectLock=json.dumps({"mode": "COMPLIANCE", "days": 730})
    )
    result = estimate(one_month_of(place), offline_table(), management, security)
    usd = {item.id: round(item.usd, 6) for item in result.items}
    # ec2's 7,000 network activity events are not recorded: the stack records kms's only.
    recorded = 400_000 + 2_000_000 + 4_000 + 50_000 + 10_000
    data_share = (2_000_000 + 4_000 + 50_000 + 10_000) / recorded
    ingested, stored = 20 * recorded / place.events, 3 * recorded / place.events
    assert usd == {
        "management-extra-copies": round(400_000 * 2 / 100_000 * 2.00, 6),  # two legacy copies
        "s3-data-reads": round(1_500_000 / 100_000 * 0.10, 6),
        "s3-data-writes": round(500_000 / 100_000 * 0.10, 6),
        "log-bucket-reads": round(4_000 / 100_000 * 0.10, 6),
        "lambda-data-events": round(50_000 / 100_000 * 0.10, 6),
        "network-activity-events": round(10_000 / 100_000 * 0.10, 6),
        # Call rate analyses the write management events, error rate every one.
        "insights-api-call-rate": round(100_000 / 100_000 * 0.35, 6),
        "insights-api-error-rate": round(400_000 / 100_000 * 0.35, 6),
        "cloudwatch-logs-ingestion": round(ingested * (1 - data_share) * 0.50, 6),
        "cloudwatch-logs-ingestion-data": round(ingested * data_share * 0.50, 6),
        # Security stack: kept 730 days, archived to GLACIER_IR after 90 (the test stack's).
        "s3-storage": round(stored * 90 / MONTH_DAYS * 0.023, 6),
        "s3-archive-storage": round(stored * (730 - 90) / MONTH_DAYS * 0.004, 6),
        "s3-transitions": round(1_000 / 1_000 * 0.02, 6),
        # The log group's retention (logRetentionDays, 365 by default), at the gzip size.
        "cloudwatch-logs-storage": round(
            stored * management.log_retention_days / MONTH_DAYS * 0.03, 6
        ),
        "s3-put-requests": round(1_000 / 1_000 * 0.005, 6),
        "kms-requests": round(1_000 / 10_000 * 0.03, 6),
    }
    assert result.cutover_saving == pytest.approx(16.0)
    assert result.not_measured == []
    assert "7,000 network activity events of ec2.amazonaws.com (not in " in "\n".join(
        result.assumptions
    )
    assert result.groups() == pytest.approx(
        {
            group: sum(item.usd for item in result.items if item.group == group)
            for group in ("management", "data-events", "insights", "cloudwatch-logs", "log-bucket")
        }
    )


def test_only_what_the_configured_selectors_record_is_priced():
    place = Place(
        MEMBER_ACCOUNT, "eu-west-1", management_write=1_000, s3_read=70_000, s3_write=30_000,
        log_bucket_reads=2_000, log_bucket_writes=500, lambda_data=900, other_data=800,
        network_other=50, files=100, stored_bytes=GIB, event_bytes=8 * GIB,
    )  # fmt: skip
    volume = one_month_of(place)
    volume.log_buckets = log_buckets()
    off = stack_settings("management", dataEvents=json.dumps({"s3": False, "lambda": False}))
    result = estimate(volume, offline_table(), off, stack_settings("security"))
    quantity = {item.id: item.quantity for item in result.items if item.group == "data-events"}
    # The log buckets' reads have their own selector: recorded with S3 data events off.
    assert quantity == {"log-bucket-reads": 2_000}
    text = "\n".join(result.assumptions)
    for line in (
        "100,000 S3 data events (dataEvents.s3 is false) a month",
        "500 writes to the log buckets (dataEvents.s3IncludeTrailBucket is false) a month",
        "900 Lambda data events (dataEvents.lambda is false) a month",
        "800 data events of other sources",
        "50 network activity events of sources the stack cannot record",
    ):
        assert line in text
    share = 3_000 / place.events
    ingestion = sum(i.quantity for i in result.items if i.id.startswith("cloudwatch-logs-ing"))
    assert ingestion == pytest.approx(8 * share)
    # With s3IncludeTrailBucket, the writes measured are priced.
    loud = stack_settings("management", dataEvents=json.dumps({"s3IncludeTrailBucket": True}))
    writes = next(
        i for i in estimate(volume, offline_table(), loud).items if i.id == "log-bucket-writes"
    )
    assert writes.quantity == 500


def test_writes_to_the_log_buckets_are_at_least_one_per_file_delivered():
    place = Place(MEMBER_ACCOUNT, "eu-west-1", management_write=10_000, s3_write=5, files=8_000)
    volume = one_month_of(place)
    volume.log_buckets, volume.digest_files = log_buckets(), 8_000
    loud = stack_settings("management", dataEvents=json.dumps({"s3IncludeTrailBucket": True}))
    result = estimate(volume, offline_table(), loud)
    writes = next(item for item in result.items if item.id == "log-bucket-writes")
    assert writes.quantity == pytest.approx(16_000)  # each log and digest file a PutObject
    assert any("priced as one, CloudTrail's own PutObject" in a for a in result.assumptions)
    athena = Volume(places=[place], first=volume.first, last=volume.last, files_measured=False)
    athena.log_buckets = log_buckets()
    unknown = estimate(athena, offline_table(), loud).not_measured
    assert any(
        line.startswith("writes to the log buckets (s3IncludeTrailBucket)") for line in unknown
    )


def test_log_bucket_reads_not_told_apart_are_named_not_priced_as_nothing():
    place = Place(MEMBER_ACCOUNT, "eu-west-1", management_write=10, s3_read=40, files=1)
    off = stack_settings("management", dataEvents=json.dumps({"s3": False}))
    result = estimate(one_month_of(place), offline_table(), off)
    assert any(
        line.startswith("reads of the log buckets: recorded") for line in result.not_measured
    )
    on = estimate(one_month_of(place), offline_table(), stack_settings("management"))
    assert any("the log buckets are not known" in line for line in on.assumptions)
    assert not any(line.startswith("reads of the log buckets") for line in on.not_measured)


def test_without_legacy_trails_or_insights_those_cost_nothing_and_unknowns_are_named():
    place = Place(MEMBER_ACCOUNT, "us-east-1", management_write=100_000, files=10)
    quiet = stack_settings("management", insights="false")
    result = estimate(one_month_of(place), offline_table(), quiet)
    assert not any(item.group == "insights" for item in result.items)
    assert result.cutover_saving == 0
    (unknown,) = result.not_measured
    assert unknown.startswith("data events: the files read hold none")
    unconfigured = estimate(one_month_of(place), offline_table())
    assert any(
        line.startswith("extra copies of management events") for line in unconfigured.not_measured
    )
    assert any(
        line.startswith("the management stack's defaults") for line in unconfigured.assumptions
    )


def test_the_groups_are_the_output_contracts():
    from typing import get_args

    from orgtrail.contract.outputs import CostGroup

    assert get_args(CostGroup) == tuple(GROUPS)


def test_every_price_names_its_page_and_date():
    table = offline_table()
    assert table.date == "2026-12-01" and table.region == "us-east-1"
    assert all(
        price.source.startswith("https://aws.amazon.com/") for price in table.prices.values()
    )
    assert table["management-events-extra-copy"].text() == "$2.00 per 100,000 management events"
    assert (dollars(0.023), dollars(0.5), dollars(0.005)) == ("0.023", "0.50", "0.005")


def test_the_cli_json_conforms_and_says_what_it_could_not_measure(logs_dir, tmp_path, capsys):
    assert main(["cost", "--logs", str(logs_dir), "--offline", "--json"]) == 1  # no stack file
    document = conforming("cost", capsys.readouterr().out)
    assert document["window"]["events"] == measure(logs_dir).total("events")
    assert document["summary"]["usdPerMonth"] == pytest.approx(
        sum(item["usdPerMonth"] for item in document["items"]), abs=1e-3
    )
    assert document["notMeasured"] and all(item["price"]["source"] for item in document["items"])
    assert main(["cost", "--logs", str(tmp_path), "--json"]) == 2
    assert (
        "holds no CloudTrail log file"
        in conforming("error", capsys.readouterr().out)["error"]["message"]
    )


def test_the_text_ends_with_the_total_and_the_cutover_saving(logs_dir, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["cost", "--logs", str(logs_dir), "--offline"])
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert (
        lines[-1].startswith("$") and "stopping the config's legacy trails saves $0.00" in lines[-1]
    )
    assert "[1] https://aws.amazon.com/cloudtrail/pricing/" in lines
    assert "…" not in "\n".join(lines)
    # Each group's subtotal under its items, as in the JSON; each bar whole on one line.
    main(["cost", "--logs", str(logs_dir), "--offline", "--json"])
    document = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("COLUMNS", "200")
    main(["cost", "--logs", str(logs_dir), "--offline"])
    wide = capsys.readouterr().out
    for group, usd in document["groups"].items():
        assert re.search(rf"│ {re.escape(GROUPS[group])}, in all +│.*│ {usd:,.2f} +│", wide)
    bars = [line.split("│")[2].strip() for line in lines if "█" in line]
    largest = max(item["usdPerMonth"] for item in document["items"])
    assert sorted(len(bar) for bar in bars) == sorted(
        round(40 * item["usdPerMonth"] / largest)
        for item in document["items"]
        if round(40 * item["usdPerMonth"] / largest)
    )  # the cutover saves nothing here (no legacy trail): its bar is empty


def test_a_file_that_cannot_be_read_is_named_and_the_rest_counted(events, logs_dir, tmp_path):
    import shutil

    copy = tmp_path / "logs"
    shutil.copytree(logs_dir, copy)
    bad = next(copy.rglob("*_CloudTrail_*.json.gz")).with_name(
        "111111111111_CloudTrail_us-east-1_20261121T0000Z_garbage.json.gz"
    )
    bad.write_bytes(b"not gzip at all")
    volume = measure(copy)
    assert [(path.name, reason.split(" (")[0]) for path, reason in volume.skipped] == [
        (bad.name, "corrupt gzip data")
    ]
    assert volume.total("events") == len(events)


def test_a_quiet_configuration_has_no_cost_heavy_choice():
    from orgtrail.cost.warnings import cost_warnings

    quiet = stack_settings(
        "management",
        insights="false",
        dataEvents=json.dumps({"s3": False, "lambda": False}),
    )
    assert cost_warnings(quiet) == []
    loud = stack_settings(
        "management", dataEvents=json.dumps({"s3": True, "s3IncludeTrailBucket": True})
    )
    assert [w.id for w in cost_warnings(loud)] == [
        "s3-data-events-trail-bucket",
        "data-events-to-cloudwatch-logs",
        "insights-organisation-wide",
    ]
    assert all(
        w.text().endswith(w.cheaper or w.why + " (give --cost-profile for a figure)")
        for w in cost_warnings(loud)
    )


def test_the_markdown_report_and_the_chart_show_the_same_figures(logs_dir, tmp_path, capsys):
    report = tmp_path / "cost.md"
    main(["cost", "--logs", str(logs_dir), "--offline", "--json", "--markdown", str(report)])
    document = json.loads(capsys.readouterr().out)
    text = report.read_text()
    for item in document["items"]:
        assert f"| {item['name']} |" in text and f"| {item['usdPerMonth']:,.2f} |" in text
        assert f"]({item['price']['source']})" in text
    assert f"**${document['summary']['usdPerMonth']:,.2f} a month**" in text
    chart = text.split("```")[1].strip().splitlines()
    costs = [float(line.rsplit("$", 1)[1].replace(",", "")) for line in chart]
    assert costs == sorted(costs, reverse=True)
    lengths = [line.count("█") for line in chart]
    assert lengths[0] == 40 and lengths == sorted(lengths, reverse=True)
    assert all(f"- {line}" in text for line in document["notMeasured"] + document["assumptions"])


def write_management_stack(directory: Path) -> Path:
    return management_stack_file(
        directory,
        organization_id=ORGANIZATION_ID,
        management_account=MANAGEMENT_ACCOUNT,
        security_account=SECURITY_ACCOUNT,
        guardrails={"exemptRoleArns": [DEPLOY_ROLE]},
    )


def test_the_html_report_shows_the_json_figures_on_one_page(logs_dir, tmp_path, capsys):
    report = tmp_path / "cost.html"
    argv = ["cost", "--logs", str(logs_dir), "--offline", "--json", "--html", str(report)]
    main([*argv, "--stack-config", str(write_management_stack(tmp_path))])
    document = json.loads(capsys.readouterr().out)
    page = read_page(report.read_text(encoding="utf-8"))
    assert [(name, float(usd.replace(",", ""))) for name, _, _, _, usd in page.tables["items"]] == [
        (item["name"], round(item["usdPerMonth"], 2)) for item in document["items"]
    ]
    assert {item["price"]["source"] for item in document["items"]} == set(page.links)
    assert [row[1] for row in page.tables["groups"]] == [
        f"{usd:,.2f}" for usd in document["groups"].values()
    ]
    # The bars: largest first, each its share of the largest.
    spend = page.tables["spend"]
    costs = [float(row[2].lstrip("$").replace(",", "")) for row in spend]
    assert costs == sorted(costs, reverse=True) and page.widths["spend"][0] == 100.0
    largest = max(item["usdPerMonth"] for item in document["items"])
    by_name = {item["name"]: item["usdPerMonth"] for item in document["items"]}
    rounding = 100 * 0.00005 / largest * 2 + 0.05  # the JSON's 4 decimals, the page's 1
    assert page.widths["spend"] == pytest.approx(
        [by_name[row[0]] / largest * 100 for row in spend], abs=rounding
    )
    (modelled,) = page.tables["savings"]
    assert modelled[0] == "stopping the legacy trails (modelled)"
    assert float(modelled[2]) == round(document["summary"]["cutoverSavingUsdPerMonth"], 2)
    assert all(line in page.text for line in document["notMeasured"] + document["assumptions"])
    assert f"${document['summary']['usdPerMonth']:,.2f} a month" in page.text


def test_what_a_report_shows_is_escaped_in_both_formats():
    from orgtrail.cost.glacier import BucketSaving
    from orgtrail.cost.report import Report, html, markdown

    place = Place(MEMBER_ACCOUNT, "eu-west-1", management_write=1_000, files=10, stored_bytes=GIB)
    hostile = "AccessDenied: <img src=x onerror=alert(1)> | a & b"
    report = Report(
        estimate(one_month_of(place), offline_table()),
        glacier=[
            BucketSaving("legacy-bucket", MEMBER_ACCOUNT, "eu-west-1", "GLACIER", error=hostile)
        ],
    )
    page = read_page(html(report))  # well formed: the message did not open an element
    assert page.tables["glacier"][0][5] == f"not measured: {hostile}"
    assert "| not measured: AccessDenied: <img src=x onerror=alert(1)> \\| a & b |" in markdown(
        report
    )
    assert page.tables["savings"][-1][0] == "archiving the legacy buckets (1 of 1 not measured)"


def test_storage_follows_the_lifecycle_to_its_expiry_with_the_archive_overhead():
    place = Place(MEMBER_ACCOUNT, "us-east-1", management_write=1, files=10_000, stored_bytes=GIB)
    # GLACIER only after Athena's window (365 days): the config refuses it sooner.
    lifecycle = {"archiveAfterDays": 365, "storageClass": "GLACIER", "expireAfterDays": 1000}
    security = stack_settings(
        "security",
        objectLock=json.dumps({"mode": "GOVERNANCE", "days": 400}),
        lifecycle=json.dumps(lifecycle),
    )
    result = estimate(one_month_of(place), offline_table(), None, security)
    quantity = {item.id: item.quantity for item in result.items}
    archived_months = (1000 - 365) / MONTH_DAYS
    objects = 10_000 * archived_months
    assert quantity["s3-archive-storage"] == pytest.approx(
        archived_months + objects * 32 * 1024 / GIB
    )
    assert quantity["s3-storage"] == pytest.approx(365 / MONTH_DAYS + objects * 8 * 1024 / GIB)
    assert quantity["s3-transitions"] == 10_000
    assert not any("keeps growing" in line for line in result.assumptions)  # it expires


def test_a_report_that_cannot_be_written_is_refused_before_anything_is_counted(
    logs_dir, tmp_path, capsys, monkeypatch
):
    import orgtrail.cost.command as command

    monkeypatch.setattr(command, "measure", lambda *a: pytest.fail("counted before refusing"))
    missing = tmp_path / "no-such-dir" / "cost.html"
    assert main(["cost", "--logs", str(logs_dir), "--offline", "--html", str(missing)]) == 2
    assert f"--html {missing} has no directory {missing.parent}" in capsys.readouterr().err
    assert main(["cost", "--logs", str(logs_dir), "--markdown", str(tmp_path), "--json"]) == 2
    error = conforming("error", capsys.readouterr().out)["error"]["message"]
    assert error == f"--markdown {tmp_path} is a directory: name a file in an existing directory"
