"""`orgtrail query insights` and the Insights reports, locally over Insights files laid out
and shaped as CloudTrail delivers them, with the same SQL the Athena named queries run."""

import json
from datetime import timedelta

import pytest

from orgtrail.__main__ import main
from orgtrail.analysis.query import LocalLogs
from tests.support.cloudtrail_events import (
    START,
    Generator,
    corpus,
    insight_incidents,
    insight_record,
    write_insights,
    write_logs,
)
from tests.support.contract import conforming


@pytest.fixture(scope="module")
def incidents():
    return insight_incidents()


@pytest.fixture(scope="module")
def logs_dir(incidents, tmp_path_factory):
    root = tmp_path_factory.mktemp("insights")
    write_logs(root, corpus(benign=40).events)
    write_insights(root, [r for i in incidents for r in (i.start, i.end) if r])
    return root


def test_each_start_is_paired_with_its_end_and_open_ones_are_ongoing(logs_dir, incidents):
    rows = LocalLogs(logs_dir).detect("insights")
    by_incident = {row["sharedeventid"]: row for row in rows}
    assert list(by_incident) == [i.shared for i in incidents]  # by start time
    for incident in incidents:
        row = by_incident[incident.shared]
        details = incident.start["insightDetails"]
        assert (row["recipientaccountid"], row["awsregion"]) == (
            incident.start["recipientAccountId"],
            incident.start["awsRegion"],
        )
        assert (row["eventsource"], row["eventname"], row["insighttype"]) == (
            details["eventSource"],
            details["eventName"],
            details["insightType"],
        )
        assert row["starttime"] == incident.start["eventTime"]
        assert row["baselineaverage"] == 0.0125 and row["insightaverage"] == 3.5
        if incident.end is None:
            assert (row["status"], row["endtime"], row["insightduration"]) == (
                "ongoing",
                None,
                None,
            )
        else:
            assert (row["status"], row["endtime"]) == ("ended", incident.end["eventTime"])
            assert row["insightduration"] == 14


def test_an_end_whose_start_was_not_read_says_so(incidents, tmp_path):
    write_insights(tmp_path, [incidents[0].end])
    (row,) = LocalLogs(tmp_path).detect("insights")
    assert row["status"] == "ended (its start is not in the logs read)"
    assert (row["starttime"], row["endtime"]) == (None, incidents[0].end["eventTime"])
    assert row["eventname"] == "RunInstances"


def test_query_all_includes_insights_and_counts_what_it_read(logs_dir, incidents, capsys):
    assert main(["query", "all", "--logs", str(logs_dir), "--json"]) == 1
    document = conforming("query", capsys.readouterr().out)
    records = sum(1 + (i.end is not None) for i in incidents)
    assert (document["read"]["insightFiles"], document["read"]["insights"]) == (records, records)
    assert "Insights files" not in document["read"]["ignored"]
    assert len(document["detections"]["insights"]) == len(incidents)
    main(["query", "insights", "--logs", str(logs_dir)])
    text = capsys.readouterr().out
    assert f"insights: {len(incidents)} incidents" in text
    assert f"{records} Insights files, {records} Insights events" in text.splitlines()[-1]


def test_a_folder_of_insights_files_alone_is_read(incidents, tmp_path, capsys):
    write_insights(tmp_path, [incidents[1].start])
    assert main(["query", "insights", "--logs", str(tmp_path)]) == 1
    assert "ongoing" in capsys.readouterr().out


def test_the_reports_run_locally_and_are_not_findings(logs_dir, incidents, capsys):
    argv = ["query", "--report", "insights-open", "--logs", str(logs_dir), "--json"]
    assert main(argv) == 0
    rows = conforming("query", capsys.readouterr().out)["reports"]["insights-open"]
    assert [row["sharedeventid"] for row in rows] == [i.shared for i in incidents if i.end is None]
    argv = ["query", "--report", "insights-by-account-source", "--logs", str(logs_dir), "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)["reports"]["insights-by-account-source"]
    assert [
        (r["recipientaccountid"], r["eventsource"], r["callrate"], r["errorrate"]) for r in rows
    ] == [
        ("111111111111", "ec2.amazonaws.com", 1, 0),
        ("333333333333", "iam.amazonaws.com", 1, 0),
        ("333333333333", "kms.amazonaws.com", 0, 1),
        ("444444444444", "s3.amazonaws.com", 0, 1),
    ]


def test_the_by_account_report_covers_the_30_days_before_the_newest_insight(tmp_path, capsys):
    generator = Generator(9)
    where = {"account": "111111111111", "region": "us-east-1", "source": "ec2.amazonaws.com"}
    records = [
        insight_record(generator, "Start", f"i-{days}", START - timedelta(days=days), name="RunInstances", **where)
        for days in (0, 29, 31)
    ]  # fmt: skip
    write_insights(tmp_path, records)
    argv = ["query", "--report", "insights-by-account-source", "--logs", str(tmp_path), "--json"]
    main(argv)
    (row,) = json.loads(capsys.readouterr().out)["reports"]["insights-by-account-source"]
    assert row["insights"] == 2
    assert row["firststart"] == records[1]["eventTime"]


def test_an_unknown_report_gets_did_you_mean(logs_dir, capsys):
    assert main(["query", "--report", "insights-opn", "--logs", str(logs_dir)]) == 2
    assert "did you mean 'insights-open'?" in capsys.readouterr().err


def test_insights_at_80_columns_show_each_incident_whole(logs_dir, incidents, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    main(["query", "insights", "--logs", str(logs_dir)])
    text = capsys.readouterr().out
    for incident in incidents:
        assert incident.shared in text
        assert f"  recipientaccountid  {incident.start['recipientAccountId']}" in text
    assert "…" not in text
