"""The detections: each returns exactly its planted events, locally and as a CloudWatch metric filter."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlglot

from components.cis_alarms import METRIC_FILTERS
from components.log_analysis import location_template
from orgtrail.__main__ import main
from orgtrail.analysis.cloudtrail_schema import COLUMNS, PARTITIONS, TABLE
from orgtrail.analysis.detections import SELECTIONS, cis_detections, detections
from orgtrail.analysis.query import LocalLogs, log_files, to_duckdb
from tests.support.cloudtrail_events import ORGANIZATION_ID, corpus, log_key, write_logs
from tests.support.contract import conforming
from tests.support.filter_pattern import compile_pattern

NAMES = list(cis_detections())  # the CIS monitoring items; Insights below
EVERY = list(detections())
REQUIRED_COLUMNS = {
    "eventid",
    "eventtime",
    "eventname",
    "recipientaccountid",
    "principalarn",
    "sourceipaddress",
}


@pytest.fixture(scope="module")
def planted():
    return corpus(benign=3000, seed=21)


@pytest.fixture(scope="module")
def logs_dir(planted, tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    write_logs(root, planted.events, per_file=150)
    broken = (
        root
        / "AWSLogs"
        / ORGANIZATION_ID
        / "111111111111"
        / "CloudTrail"
        / "us-east-1"
        / "2026"
        / "11"
        / "21"
    )
    broken.mkdir(parents=True, exist_ok=True)
    whole = gzip.compress(json.dumps({"Records": planted.events[:5]}).encode())
    (broken / "111111111111_CloudTrail_us-east-1_20261121T0000Z_truncated.json.gz").write_bytes(
        whole[: len(whole) // 2]
    )
    (broken / "111111111111_CloudTrail_us-east-1_20261121T0000Z_garbage.json.gz").write_bytes(
        b"not gzip at all"
    )
    (broken / "111111111111_CloudTrail_us-east-1_20261121T0000Z_notjson.json.gz").write_bytes(
        gzip.compress(b"{oops")
    )
    return root


@pytest.fixture(scope="module")
def logs(logs_dir):
    return LocalLogs(logs_dir)


def test_the_detections_are_the_cis_monitoring_items():
    assert set(NAMES) == {
        "unauthorized-api-calls", "console-signin-without-mfa", "root-account-usage", "iam-policy-changes",
        "cloudtrail-config-changes", "console-auth-failures", "cmk-disable-or-deletion", "s3-bucket-policy-changes",
        "config-changes", "security-group-changes", "nacl-changes", "network-gateway-changes",
        "route-table-changes", "vpc-changes", "organizations-changes",
    }  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_each_detection_returns_exactly_its_planted_events(logs, planted, name):
    rows = logs.detect(name)
    assert {row["eventid"] for row in rows} == planted.planted[name]
    assert all(set(row) >= REQUIRED_COLUMNS for row in rows)
    assert all(row["principalarn"] for row in rows if row["principaltype"] != "AWSService")


def test_metric_filters_and_queries_cover_the_same_detections():
    assert set(METRIC_FILTERS) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_metric_filter_selects_what_its_query_selects(logs, planted, name):
    matches = compile_pattern(METRIC_FILTERS[name])
    by_filter = {event["eventID"] for event in planted.events if matches(event)}
    by_query = {row["eventid"] for row in logs.detect(name)}
    assert by_filter == by_query == planted.planted[name]


def test_corrupt_and_truncated_files_are_reported_and_skipped(logs, planted):
    reasons = {path.name.split("_")[-1]: reason for path, reason in logs.skipped}
    assert set(reasons) == {"truncated.json.gz", "garbage.json.gz", "notjson.json.gz"}
    assert "truncated" in reasons["truncated.json.gz"]
    assert "corrupt gzip" in reasons["garbage.json.gz"]
    assert "not a CloudTrail log file" in reasons["notjson.json.gz"]
    assert logs.event_count == len(planted.events)


def test_digest_files_are_ignored(logs_dir):
    files = log_files(logs_dir)
    assert files
    assert not any("Digest" in str(f.path) for f in files)
    assert any("CloudTrail-Digest" in str(p) for p in logs_dir.rglob("*.json.gz"))


def test_partition_columns_come_from_the_key(logs):
    rows = logs.run(
        f"SELECT DISTINCT account, recipientaccountid, region, awsregion, day, eventtime FROM {TABLE}"
    )
    for row in rows:
        assert row["account"] == row["recipientaccountid"]
        assert row["region"] == row["awsregion"]
        assert row["day"] == row["eventtime"][:10].replace("-", "/")


def test_local_table_has_the_athena_tables_columns(logs):
    columns = [row["column_name"] for row in logs.run(f"DESCRIBE {TABLE}")]
    assert columns == [c.name for c in COLUMNS] + list(PARTITIONS)


def test_since_keeps_only_later_events(logs_dir, planted):
    since = datetime(2026, 11, 21, 12, tzinfo=UTC)
    later = LocalLogs(logs_dir, since)
    expected = {e["eventID"] for e in planted.events if e["eventTime"] >= "2026-11-21T12:00:00Z"}
    assert {row["eventid"] for row in later.run(f"SELECT eventid FROM {TABLE}")} == expected


def test_athena_sql_is_transpiled_not_rewritten_by_hand():
    sql = "SELECT json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa FROM cloudtrail_logs"
    assert "->>" in to_duckdb(sql)


def test_glue_partition_template_matches_the_trails_key_layout():
    key = log_key(
        ORGANIZATION_ID, "123456789012", "eu-west-1", datetime(2026, 3, 9, 7, 5, tzinfo=UTC), "ABC"
    )
    template = location_template("central-logs", ORGANIZATION_ID)
    values = {"account": "123456789012", "region": "eu-west-1", "day": "2026/03/09"}
    location = template
    for name in PARTITIONS:
        location = location.replace(f"${{{name}}}", values[name])
    assert f"s3://central-logs/{key}".startswith(location + "/")
    assert key.rsplit("/", 1)[0] == location.removeprefix("s3://central-logs/")


# --- the command ----------------------------------------------------------------------------


def test_query_list_shows_every_detection(capsys):
    assert main(["query", "--list", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["read"], document["detections"]) == (None, {})  # nothing was run
    listed = document["available"]
    assert [entry["name"] for entry in listed] == EVERY
    # A detection's description is its file's first comment line: the one line a reader of
    # the list, or of the Athena named query, sees before opening the SQL.
    described = {entry["name"]: entry["description"] for entry in listed}
    assert described["cloudtrail-config-changes"] == "CloudTrail configuration changes"
    assert described["root-account-usage"] == "Usage of the root account"


def test_query_json_prints_row_objects_with_lower_case_columns(logs_dir, planted, capsys):
    code = main(["query", "root-account-usage", "--logs", str(logs_dir), "--json"])
    captured = capsys.readouterr()
    output = json.loads(captured.out)
    assert code == 1  # findings
    rows = output["detections"]["root-account-usage"]
    assert {row["eventid"] for row in rows} == planted.planted["root-account-usage"]
    assert all(key == key.lower() for row in rows for key in row)
    assert "truncated" in captured.err


def test_query_json_has_one_shape_and_says_what_it_read(logs_dir, logs, planted, capsys):
    main(["query", "all", "--logs", str(logs_dir), "--json"])
    every = conforming("query", capsys.readouterr().out)
    main(["query", "vpc-changes", "--logs", str(logs_dir), "--json"])
    one = conforming("query", capsys.readouterr().out)
    main(["query", "--list", "--json"])
    listing = conforming("query", capsys.readouterr().out)
    assert (
        set(every)
        == set(one)
        == set(listing)
        == {
            "schemaVersion",
            "available",
            "read",
            "detections",
            "reports",
        }
    )
    assert every["available"] == listing["available"]
    assert list(every["detections"]) == EVERY and list(one["detections"]) == ["vpc-changes"]
    read = one["read"]
    assert read["events"] == len(planted.events) == logs.event_count
    assert read["files"] == len(logs.files)
    assert {Path(s["path"]).name.split("_")[-1] for s in read["skipped"]} == {
        "truncated.json.gz", "garbage.json.gz", "notjson.json.gz",
    }  # fmt: skip
    assert read["ignored"] == {"digest files": len(list(logs_dir.rglob("*CloudTrail-Digest_*")))}


def test_query_text_ends_with_what_it_read(logs_dir, logs, planted, capsys):
    main(["query", "all", "--logs", str(logs_dir)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"read {len(logs.files):,} log files, {len(planted.events):,} events; ")
    assert "skipped 3 (listed above)" in last
    assert last.endswith(f"of {len(EVERY)} detections with events")


def test_any_level_of_the_tree_or_a_flat_folder_reads_the_same(logs_dir, planted, tmp_path, capsys):
    root_usage = planted.planted["root-account-usage"]
    account = next(
        iter(p for p in logs_dir.rglob("CloudTrail") if p.is_dir())
    )  # .../<acct>/CloudTrail
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in logs_dir.rglob("*_CloudTrail_*.json.gz"):
        (flat / path.name).write_bytes(path.read_bytes())
    found = {}
    for where in (logs_dir, logs_dir / "AWSLogs", account, flat):
        main(["query", "root-account-usage", "--logs", str(where), "--json"])
        found[where] = {
            r["eventid"]
            for r in json.loads(capsys.readouterr().out)["detections"]["root-account-usage"]
        }
    assert found[logs_dir] == found[logs_dir / "AWSLogs"] == found[flat] == root_usage
    in_account = {
        e["eventID"] for e in planted.events if e["recipientAccountId"] == account.parent.name
    }
    assert found[account] == root_usage & in_account


def test_a_path_without_log_files_is_refused_not_an_all_clear(tmp_path, capsys):
    assert main(["query", "vpc-changes", "--logs", str(tmp_path), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["code"] == "UsageError"
    assert f"{tmp_path} holds no CloudTrail log file; expected files named " in captured.err


def test_query_usage_errors_exit_2_on_stderr(logs_dir, capsys):
    assert main(["query", "root-acount-usage", "--logs", str(logs_dir)]) == 2
    captured = capsys.readouterr()
    assert (
        "unknown detection 'root-acount-usage'; did you mean 'root-account-usage'?" in captured.err
    )
    assert captured.out == ""
    assert main(["query"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and "name a detection, or 'all'" in err
    assert main(["query", "vpc-changes", "--logs", str(logs_dir / "missing")]) == 2
    assert main(["query", "vpc-changes", "--logs", str(logs_dir), "--since", "yesterday"]) == 2
    assert main(["query", "vpc-changes"]) == 2
    assert "--logs is required" in capsys.readouterr().err


@pytest.mark.parametrize("width", ["80", "400"])
def test_every_identifier_is_printed_whole_at_any_width(logs_dir, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", width)
    main(["query", "unauthorized-api-calls", "--logs", str(logs_dir)])
    lines = capsys.readouterr().out.splitlines()
    rows = LocalLogs(logs_dir).detect("unauthorized-api-calls")
    assert rows
    for row in rows:
        for column in ("eventtime", "principalarn", "errorcode", "awsregion", "recipientaccountid"):
            value = str(row[column])
            assert any(value in line for line in lines), (column, value)


def test_organizations_changes_select_the_21_names_prowler_requires_in_query_and_alarm():
    # Prowler cloudwatch_log_metric_filter_aws_organizations_changes: every one of these.
    required = {
        "AcceptHandshake", "AttachPolicy", "CancelHandshake", "CreateAccount", "CreateOrganization",
        "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization",
        "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType",
        "EnableAllFeatures", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization",
        "MoveAccount", "RemoveAccountFromOrganization", "UpdateOrganizationalUnit", "UpdatePolicy",
    }  # fmt: skip
    sql = detections()["organizations-changes"].read_text()
    pattern = METRIC_FILTERS["organizations-changes"]
    assert {name for name in required if f"'{name}'" in sql} == required
    assert {name for name in required if f"($.eventName = {name})" in pattern} == required


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_each_query_selects_exactly_the_names_and_source_of_its_definition(name):
    selection = SELECTIONS[name]
    where = sqlglot.parse_one(detections()[name].read_text(), read="athena").args["where"]
    (names,) = [
        node for node in where.find_all(sqlglot.exp.In) if node.this.name.lower() == "eventname"
    ]
    assert tuple(literal.name for literal in names.expressions) == selection.names
    sources = [
        node.expression.name
        for node in where.find_all(sqlglot.exp.EQ)
        if node.this.name.lower() == "eventsource"
    ]
    assert sources == ([selection.service] if selection.pins_source else [])


def test_reading_only_corrupt_files_is_not_an_all_clear(tmp_path, capsys):
    """Every file skipped: 0 events read is exit 1 and said, never a clean exit 0."""
    day = tmp_path / "AWSLogs" / ORGANIZATION_ID / "111111111111" / "CloudTrail" / "us-east-1"
    day = day / "2026" / "11" / "21"
    day.mkdir(parents=True)
    (day / "111111111111_CloudTrail_us-east-1_20261121T0000Z_bad.json.gz").write_bytes(b"x")
    assert main(["query", "all", "--logs", str(tmp_path)]) == 1
    printed = capsys.readouterr()
    assert "no event was read, so nothing was judged" in printed.err
    assert main(["query", "all", "--logs", str(tmp_path), "--json"]) == 1
    read = conforming("query", capsys.readouterr().out)["read"]
    assert (read["events"], len(read["skipped"])) == (0, 1)


def test_a_since_after_every_file_is_not_an_all_clear(logs_dir, capsys):
    assert main(["query", "all", "--logs", str(logs_dir), "--since", "2030-01-01"]) == 1
    printed = capsys.readouterr()
    assert "no event was read, so nothing was judged" in printed.err
    assert "files before --since" in printed.err
