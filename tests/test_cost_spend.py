"""`orgtrail cost --spend` against moto's Cost Explorer, seeded through moto's own API: today's
CloudTrail spend per account and usage type over the last full months, pages followed, and
what stopping each legacy trail saves, measured."""

import json
import urllib.request
from datetime import UTC, date, datetime

import pytest

from orgtrail.__main__ import main
from orgtrail.cost.report import SPEND_SOURCE
from orgtrail.cost.spend import last_full_months
from tests.support.cloudtrail_events import corpus, write_logs
from tests.support.contract import conforming
from tests.support.html_report import read_page
from tests.support.moto_org import MANAGEMENT
from tests.test_cutover import data_trail, payments_trail, write_stack


def seed_cost_explorer(org, *results: dict) -> None:
    request = urllib.request.Request(
        f"{org.environment['AWS_ENDPOINT_URL']}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"account_id": MANAGEMENT, "results": list(results)}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


def month(start: str, *groups: tuple[str, str, float]) -> dict:
    return {
        "TimePeriod": {"Start": start, "End": start},
        "Groups": [
            {
                "Keys": [account, usage],
                "Metrics": {"UnblendedCost": {"Amount": str(usd), "Unit": "USD"}},
            }
            for account, usage, usd in groups
        ],
        "Estimated": False,
    }


def test_last_full_months():
    assert last_full_months(date(2026, 12, 2), 3) == ("2026-09-01", "2026-12-01")
    assert last_full_months(date(2026, 2, 28), 3) == ("2025-11-01", "2026-02-01")


def test_spend_per_account_and_the_saving_of_each_legacy_trail(org, tmp_path, capsys):
    payments, data = org.accounts["payments"], org.accounts["data"]
    start, _ = last_full_months(datetime.now(UTC).date(), 2)
    seed_cost_explorer(
        org,
        {
            "ResultsByTime": [
                month(start, (payments, "EUW1-PaidEventsRecorded", 30.0), (payments, "EUW1-DataEventsRecorded", 4.0)),
                month(start, (payments, "EUW1-PaidEventsRecorded", 34.0), (data, "PaidEventsRecorded", 10.0)),
            ],
            "NextPageToken": "page-2",
        },
        {"ResultsByTime": [month(start, (data, "InsightsEvents", 6.0), (data, "MESA1-Mystery", 2.0))]},
    )  # fmt: skip
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=30).events)
    argv = ["cost", "--logs", str(logs), "--stack-config", str(path), "--spend", "--months", "2"]
    assert main([*argv, "--json"]) == 0
    spend = conforming("cost", capsys.readouterr().out)["spend"]
    assert spend["period"]["months"] == 2
    accounts = spend["accounts"]
    assert accounts[payments]["byKind"] == {
        "data events": 2.0,
        "extra copies of management events": 32.0,  # (30 + 34) / 2 months
    }
    assert accounts[payments]["paidCopiesByRegion"] == {"eu-west-1": 32.0}
    assert accounts[data]["byKind"] == {
        "Insights": 3.0,
        "extra copies of management events": 5.0,
        "other: MESA1-Mystery": 1.0,  # kept under its own name, not folded into a kind
    }
    assert accounts[data]["paidCopiesByRegion"] == {"us-east-1": 5.0}
    assert spend["trailSavings"] == [
        {"accountId": payments, "region": "eu-west-1", "trailName": "default", "usdPerMonth": 32.0},
        {"accountId": data, "region": "us-east-1", "trailName": "audit", "usdPerMonth": 5.0},
    ]
    main([*argv, "--html", str(tmp_path / "cost.html")])
    text = capsys.readouterr().out
    assert "stopping each legacy trail saves (measured)" in text and "32.00" in text
    assert (
        text.rstrip()
        .splitlines()[-1]
        .endswith("stopping the legacy trails (measured) saves $37.00 a month")
    )
    page = read_page((tmp_path / "cost.html").read_text(encoding="utf-8"))
    assert page.tables["trails"] == [
        [payments, "eu-west-1", "default", "32.00"],
        [data, "us-east-1", "audit", "5.00"],
    ]
    measured = page.tables["savings"][1]
    assert measured == ["stopping the legacy trails (measured)", SPEND_SOURCE, "37.00"]


@pytest.mark.parametrize("flag", ["--spend", "--glacier"])
def test_spend_and_glacier_need_the_management_stack_file(flag, tmp_path, capsys):
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=20).events)
    assert main(["cost", "--logs", str(logs), flag]) == 2
    assert f"{flag} needs the management stack's file" in capsys.readouterr().err


def test_cutover_shows_what_stopping_each_trail_saves(org, tmp_path, capsys):
    from datetime import timedelta

    from tests.test_cutover import DAY, NOW, cli

    payments = org.accounts["payments"]
    start, _ = last_full_months(datetime.now(UTC).date(), 3)
    seed_cost_explorer(
        org, {"ResultsByTime": [month(start, (payments, "EUW1-PaidEventsRecorded", 45.0))]}
    )
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    assert main(cli(path, "--spend", "--json")) == 1  # the data trail is withheld
    trails = {t["trailName"]: t for t in conforming("cutover", capsys.readouterr().out)["trails"]}
    assert trails["default"]["savingUsdPerMonth"] == 15.0  # 45 over 3 months
    assert trails["audit"]["savingUsdPerMonth"] == 0.0  # Cost Explorer shows no paid copies there
    main(cli(path, "--spend"))
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-1] == "1 ready, 1 withheld; stopping them saves $15.00 a month (Cost Explorer)"
