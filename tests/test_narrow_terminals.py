"""Every command that reads AWS, rendered at 80 columns, piped (where Rich assumes 80) and
wide: each account ID, ARN, trail name, bucket, check ID and event time it shows is whole on
one line (never folded across lines, never cut with an ellipsis, never eaten as markup).
At 80 columns the rows that cannot fit as a table are printed one field per line; wide, as a
table. `query` and `plan` have theirs in test_detections.py and test_plan.py."""

import json
import re
from datetime import timedelta

import pytest

from orgtrail.__main__ import main
from tests.support.moto_org import CENTRAL_BUCKET, TRAIL_NAME
from tests.test_cutover import DAY, NOW, cli, data_trail, payments_trail, write_stack
from tests.test_verify import ACTIVE, deliver_for

VERIFY = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME, "--region", "us-east-1"]
# COLUMNS=80, piped without COLUMNS (Rich's 80 for a file), and a wide terminal.
WIDTHS = ["80", None, "200"]


def render(monkeypatch, capsys, argv: list[str], width: str | None) -> tuple[int, str]:
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", width)
    code = main(argv)
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= int(width or 80)
    assert "…" not in text
    return code, text


def assert_whole(text: str, *values: str) -> None:
    """Each word of each value appears unbroken on one line of the text."""
    lines = text.splitlines()
    for value in values:
        for word in value.split():
            assert any(word in line for line in lines), f"{word!r} is not whole on any line"


def drawn_as_table(text: str) -> bool:
    return "┃" in text


def test_tables_are_drawn_when_wide_and_as_records_when_they_cannot_fit(
    shared_org, monkeypatch, capsys
):
    _, wide = render(monkeypatch, capsys, VERIFY, "200")
    _, narrow = render(monkeypatch, capsys, VERIFY, "80")
    assert drawn_as_table(wide) and not drawn_as_table(narrow)
    assert "  id      trail.exists" in narrow.splitlines()


@pytest.mark.parametrize("width", WIDTHS)
def test_inventory_identifiers_are_whole(shared_org, monkeypatch, capsys, width):
    main(["inventory", "--regions", "us-east-1,eu-west-1", "--json"])
    report = json.loads(capsys.readouterr().out)
    argv = ["inventory", "--regions", "us-east-1,eu-west-1"]
    _, text = render(monkeypatch, capsys, argv, width)
    for entry in report["accounts"]:
        assert_whole(text, entry["accountId"], entry["name"])
        for trail in entry["trails"]:
            kind = "org" if trail["isOrganizationTrail"] else "own"
            # Bracketed scope and state are data, not markup: they must be printed.
            assert_whole(text, trail["name"], f"[{kind},", f"s3://{trail['s3BucketName']}")
    assert report["summary"]["trails"] > 0


@pytest.mark.parametrize("width", WIDTHS)
def test_verify_identifiers_are_whole(shared_org, monkeypatch, capsys, width):
    deliver_for(shared_org, ACTIVE)
    main([*VERIFY, "--json"])
    document = json.loads(capsys.readouterr().out)
    _, text = render(monkeypatch, capsys, VERIFY, width)
    for check in document["checks"]:
        assert_whole(text, check["id"], check["detail"].replace(";", " "))
    trail_arn = next(c["detail"] for c in document["checks"] if c["id"] == "trail.exists")
    assert trail_arn.startswith("arn:aws:cloudtrail:")
    assert_whole(text, trail_arn)
    passed, failed = document["summary"]["passed"], document["summary"]["failed"]
    assert (text.count("PASS"), text.count("FAIL")) == (passed, failed)
    assert text.rstrip().splitlines()[-1] == f"{passed} passed, {failed} failed"


@pytest.mark.parametrize("width", WIDTHS)
def test_cutover_identifiers_are_whole(org, tmp_path, monkeypatch, capsys, width):
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    main(cli(path, "--json"))
    report = json.loads(capsys.readouterr().out)
    code, text = render(monkeypatch, capsys, cli(path), width)
    assert code == 1
    assert text.startswith("cutover (dry run), window")
    # The window's two timestamps, each whole on a line (microseconds are left out by
    # isoformat when they are 0, so the pattern does not require them).
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?\+00:00"
    stamps = [s for line in text.splitlines() for s in re.findall(stamp, line)]
    assert len(stamps) == 2 and stamps[0] < stamps[1]
    for decision in report["trails"]:
        assert_whole(
            text,
            decision["accountId"],
            decision["region"],
            decision["trailName"],
            decision["action"],
        )
        assert_whole(text, *decision["reasons"])
    assert text.rstrip().splitlines()[-1] == "1 ready, 1 withheld"


@pytest.mark.parametrize("width", ["80", "400"])
def test_errors_are_whole_at_any_width(width, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", width)
    missing = tmp_path / "deeply" / "nested" / "directory" / "that" / "does" / "not" / "exist"
    assert main(["query", "root-account-usage", "--logs", str(missing)]) == 2
    assert f"{missing} is not a directory" in capsys.readouterr().err.replace("\n", "")
