"""docs/rollback.md, steps 1 and 2, run as written against an organisation whose legacy
trail the cutover stopped: the legacy trail logs again, inventory shows it, and only then
is the organization trail stopped, kept with its bucket and logs."""

import json

from orgtrail.__main__ import main
from orgtrail.project import CHECKOUT
from tests.support.doc_commands import run_aws, shell_commands
from tests.support.moto_org import CENTRAL_BUCKET, MANAGEMENT, TRAIL_NAME

GUIDE = CHECKOUT / "docs" / "rollback.md"
# The guide's example accounts, as the emulated organisation has them.
EXAMPLE_MANAGEMENT, EXAMPLE_MEMBER = "111111111111", "333333333333"


def test_the_guides_non_destructive_steps_restore_the_legacy_trails_first(org, capsys):
    payments = org.member("payments", "eu-west-1").client("cloudtrail")
    payments.stop_logging(Name="default")
    logs_before = org.security_s3.list_objects_v2(Bucket=CENTRAL_BUCKET).get("KeyCount", 0)
    commands = shell_commands(
        GUIDE, {EXAMPLE_MANAGEMENT: MANAGEMENT, EXAMPLE_MEMBER: org.accounts["payments"]}
    )
    assert [c[:3] for c in commands] == [
        ["aws", "cloudtrail", "start-logging"],
        ["aws", "cloudtrail", "get-trail-status"],
        ["orgtrail", "inventory", "--regions"],
        ["aws", "cloudtrail", "stop-logging"],
    ], "the guide's runnable steps changed: this test runs them in order"

    def session_for(parameters: dict):
        _, _, _, region, account, _ = parameters["Name"].split(":", 5)
        return org.member(account, region)

    run_aws(commands[0], session_for)
    assert run_aws(commands[1], session_for)["IsLogging"] is True
    assert main([*commands[2][1:], "--json"]) in (0, 1)  # 1: the locked-out account is named
    inventory = json.loads(capsys.readouterr().out)
    (account,) = (a for a in inventory["accounts"] if a["accountId"] == org.accounts["payments"])
    assert [(t["name"], t["isLogging"]) for t in account["trails"]] == [("default", True)]
    run_aws(commands[3], session_for)
    trail = org.admin.client("cloudtrail").get_trail(Name=TRAIL_NAME)["Trail"]
    status = org.admin.client("cloudtrail").get_trail_status(Name=TRAIL_NAME)
    assert trail["IsOrganizationTrail"] and status["IsLogging"] is False  # stopped, not deleted
    assert org.security_s3.list_objects_v2(Bucket=CENTRAL_BUCKET).get("KeyCount", 0) == logs_before
