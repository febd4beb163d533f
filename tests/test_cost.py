"""`orgtrail cost`: volume counted from the generated corpus (exact counts, computed from the
events themselves), each item priced by hand from the same counts, every price cited."""

import gzip
import json
from datetime import timedelta

import pytest

from orgtrail.__main__ import main
from orgtrail.contract.config import load_settings
from orgtrail.cost.estimate import GIB, estimate
from orgtrail.cost.prices import dollars, offline_table
from orgtrail.cost.volume import MONTH_DAYS, Place, Volume, measure, uncompressed_size
from tests.support.cloudtrail_events import START, corpus, write_logs
from tests.support.contract import conforming
from tests.support.stacks import MEMBER_ACCOUNT, management_config, security_config


@pytest.fixture(scope="module")
def events():
    return corpus(benign=4000, seed=31).events


@pytest.fixture(scope="module")
def logs_dir(events, tmp_path_factory):
    root = tmp_path_factory.mktemp("cost")
    write_logs(root, events, per_file=120)
    return root


def expected_counts(events) -> dict[tuple[str, str], dict[str, int]]:
    """The oracle: the corpus's events counted in Python, by account and region."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for event in events:
        place = counts.setdefault(
            (event["recipientAccountId"], event["awsRegion"]),
            dict.fromkeys(("management_read", "management_write", "s3_data", "lambda_data"), 0),
        )
        category, source = event.get("eventCategory"), event["eventSource"]
        if category == "Management":
            place["management_read" if event.get("readOnly") is True else "management_write"] += 1
        elif category == "Data" and source == "s3.amazonaws.com":
            place["s3_data"] += 1
        elif category == "Data" and source == "lambda.amazonaws.com":
            place["lambda_data"] += 1
    return counts


def test_the_volume_is_counted_exactly_per_account_and_region(events, logs_dir):
    volume = measure(logs_dir)
    expected = expected_counts(events)
    assert {(p.account, p.region) for p in volume.places} == set(expected)
    for place in volume.places:
        wanted = expected[(place.account, place.region)]
        got = {key: getattr(place, key) for key in wanted}
        assert got == wanted, (place.account, place.region)
    assert volume.total("events") == len(events)
    times = sorted(e["eventTime"] for e in events)
    assert volume.first.strftime("%Y-%m-%dT%H:%M:%SZ") == times[0]
    assert volume.last.strftime("%Y-%m-%dT%H:%M:%SZ") == times[-1]
    assert volume.digest_files == volume.total("files")  # one digest beside each file here


def test_bytes_are_what_s3_stores_and_what_cloudwatch_logs_ingests(logs_dir):
    volume = measure(logs_dir)
    files = sorted(logs_dir.rglob("*_CloudTrail_*.json.gz"))
    assert volume.total("stored_bytes") == sum(path.stat().st_size for path in files)
    assert volume.total("event_bytes") == sum(len(gzip.decompress(p.read_bytes())) for p in files)
    assert all(uncompressed_size(p) == len(gzip.decompress(p.read_bytes())) for p in files[:5])


def one_month_of(place: Place) -> Volume:
    start = START
    return Volume(places=[place], first=start, last=start + timedelta(days=MONTH_DAYS))


def settings(stack: str, **keys):
    config = management_config(**keys) if stack == "management" else security_config(**keys)
    return load_settings(config, stack)


def test_each_item_is_its_count_times_its_price():
    place = Place(
        MEMBER_ACCOUNT, "eu-west-1", management_read=300_000, management_write=100_000,
        s3_data=2_000_000, lambda_data=50_000, network_activity=10_000, files=1_000,
        stored_bytes=3 * GIB, event_bytes=20 * GIB,
    )  # fmt: skip
    legacy = [
        {
            "accountId": MEMBER_ACCOUNT,
            "region": "eu-west-1",
            "trailName": "one-trail",
            "bucket": "b-one",
        },
        {
            "accountId": MEMBER_ACCOUNT,
            "region": "eu-west-1",
            "trailName": "two-trail",
            "bucket": "b-two",
        },
    ]
    management = settings("management", legacyTrails=json.dumps(legacy))
    security = settings("security", objectLock=json.dumps({"mode": "COMPLIANCE", "days": 730}))
    result = estimate(one_month_of(place), offline_table(), management, security)
    usd = {item.id: round(item.usd, 6) for item in result.items}
    assert usd == {
        "management-extra-copies": round(400_000 * 2 / 100_000 * 2.00, 6),  # two legacy copies
        "data-events": round(2_050_000 / 100_000 * 0.10, 6),
        "network-activity-events": round(10_000 / 100_000 * 0.10, 6),
        "insights": round((2 * 100_000 + 300_000) / 100_000 * 0.35, 6),
        "cloudwatch-logs-ingestion": round(20 * 0.50, 6),
        # Security stack: kept 730 days, archived to GLACIER_IR after 90 (the test stack's).
        "s3-storage": round(3 * 90 / MONTH_DAYS * 0.023, 6),
        "s3-archive-storage": round(3 * (730 - 90) / MONTH_DAYS * 0.004, 6),
        "s3-transitions": round(1_000 / 1_000 * 0.02, 6),
        # The log group's retention (logRetentionDays, 365 by default), at the gzip size.
        "cloudwatch-logs-storage": round(3 * management.log_retention_days / MONTH_DAYS * 0.03, 6),
        "s3-put-requests": round(1_000 / 1_000 * 0.005, 6),
        "kms-requests": round(1_000 / 10_000 * 0.03, 6),
    }
    assert result.cutover_saving == pytest.approx(16.0)
    assert result.not_measured == []


def test_without_legacy_trails_or_insights_those_cost_nothing_and_unknowns_are_named():
    place = Place(MEMBER_ACCOUNT, "us-east-1", management_write=100_000, files=10)
    quiet = settings("management", insights="false")
    result = estimate(one_month_of(place), offline_table(), quiet)
    assert "insights" not in {item.id for item in result.items}
    assert result.cutover_saving == 0
    (unknown,) = result.not_measured
    assert unknown.startswith("data events: the files read hold none")
    unconfigured = estimate(one_month_of(place), offline_table())
    assert any(
        line.startswith("extra copies of management events") for line in unconfigured.not_measured
    )


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

    quiet = settings(
        "management",
        insights="false",
        dataEvents=json.dumps({"s3": False, "lambda": False}),
    )
    assert cost_warnings(quiet) == []
    loud = settings("management", dataEvents=json.dumps({"s3": True, "s3IncludeTrailBucket": True}))
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


def test_storage_follows_the_lifecycle_to_its_expiry_with_the_archive_overhead():
    place = Place(MEMBER_ACCOUNT, "us-east-1", management_write=1, files=10_000, stored_bytes=GIB)
    # GLACIER only after Athena's window (365 days): the config refuses it sooner.
    lifecycle = {"archiveAfterDays": 365, "storageClass": "GLACIER", "expireAfterDays": 1000}
    security = settings(
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
