"""Every command that reads AWS, rendered at 80 columns: each account ID, ARN, trail name,
bucket and event time it shows is there whole (folded across lines within its column, never
cut with an ellipsis, never eaten as markup). `query` and `plan` have theirs in
test_detections.py and test_plan.py."""

import json
import re
from datetime import timedelta

import pytest

from orgtrail.__main__ import main
from tests.support.moto_org import CENTRAL_BUCKET, TRAIL_NAME
from tests.test_cutover import DAY, NOW, cli, data_trail, payments_trail, write_stack
from tests.test_verify import ACTIVE, deliver_for

VERIFY = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME, "--region", "us-east-1"]


def columns(text: str) -> list[str]:
    """Each column of the printed table read top to bottom as one string without white space:
    a value folded or wrapped over several lines of its column reads whole again."""
    rows = [
        [cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]
        for line in text.splitlines()
    ]
    width = max(len(row) for row in rows)
    rows = [row for row in rows if len(row) == width]
    return ["".join(row[index] for row in rows).replace(" ", "") for index in range(width)]


def whole(value: str) -> str:
    return value.replace(" ", "")


def narrow(monkeypatch, capsys, argv: list[str]) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", "80")
    code = main(argv)
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    return code, text


def test_inventory_at_80_columns(shared_org, monkeypatch, capsys):
    main(["inventory", "--regions", "us-east-1,eu-west-1", "--json"])
    report = json.loads(capsys.readouterr().out)
    _, text = narrow(monkeypatch, capsys, ["inventory", "--regions", "us-east-1,eu-west-1"])
    account, name, _, trails, _ = columns(text)
    for entry in report["accounts"]:
        assert entry["accountId"] in account
        assert whole(entry["name"]) in name
        for trail in entry["trails"]:
            kind = "org" if trail["isOrganizationTrail"] else "own"
            scope = "allregions" if trail["isMultiRegionTrail"] else trail["homeRegion"]
            # Bracketed scope and state are data, not markup: they must be printed.
            assert f"{trail['name']}[{kind},{scope}," in trails
            assert f"s3://{trail['s3BucketName']}" in trails
    assert report["summary"]["trails"] > 0


def test_verify_at_80_columns(shared_org, monkeypatch, capsys):
    deliver_for(shared_org, ACTIVE)
    main([*VERIFY, "--json"])
    document = json.loads(capsys.readouterr().out)
    _, text = narrow(monkeypatch, capsys, VERIFY)
    ids, _, results, details = columns(text)
    for check in document["checks"]:
        assert check["id"] in ids
        # Identifiers in the detail (ARNs, key IDs, account IDs) survive whole.
        for word in check["detail"].split():
            if word.startswith("arn:") or word.isdigit():
                assert word.rstrip(";,") in details
    trail_arn = next(c["detail"] for c in document["checks"] if c["id"] == "trail.exists")
    assert trail_arn.startswith("arn:aws:cloudtrail:") and trail_arn in details
    passed, failed = document["summary"]["passed"], document["summary"]["failed"]
    assert (results.count("PASS"), results.count("FAIL")) == (passed, failed)
    assert text.rstrip().splitlines()[-1] == f"{passed} passed, {failed} failed"


def test_cutover_at_80_columns(org, tmp_path, monkeypatch, capsys):
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    main(cli(path, "--json"))
    report = json.loads(capsys.readouterr().out)
    code, text = narrow(monkeypatch, capsys, cli(path))
    assert code == 1
    account, region, trail, action, _, reason = columns(text)
    title = "".join(text.split("┏")[0].split())
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00"
    assert re.fullmatch(rf"cutover\(dryrun\),window{stamp}\.\.{stamp}", title)
    for decision in report["trails"]:
        assert decision["accountId"] in account and decision["region"] in region
        assert decision["trailName"] in trail and decision["action"] in action
        for line in decision["reasons"]:
            assert whole(line) in reason
    assert text.rstrip().splitlines()[-1] == "1 ready, 1 withheld"


@pytest.mark.parametrize("width", ["80", "400"])
def test_errors_are_whole_at_any_width(width, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", width)
    missing = tmp_path / "deeply" / "nested" / "directory" / "that" / "does" / "not" / "exist"
    assert main(["query", "root-account-usage", "--logs", str(missing)]) == 2
    assert f"{missing} is not a directory" in capsys.readouterr().err.replace("\n", "")
