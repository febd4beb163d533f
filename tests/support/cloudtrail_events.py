"""Realistic CloudTrail records: benign traffic with near misses, plus planted events per detection.

Benign traffic is shaped like a real organisation's (reads, data events,
service-invoked calls, logins with MFA, denied calls from log delivery) and
deliberately includes events one condition away from a detection, so a query
that drops a condition is caught. Planted events are tagged by detection;
each detection must return exactly its own.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from orgtrail.analysis.detections import SELECTIONS, Selection

ACCOUNTS = ("111111111111", "222222222222", "333333333333", "444444444444")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ORGANIZATION_ID = "o-a1b2c3d4e5"
START = datetime(2026, 11, 20, tzinfo=UTC)


@dataclass
class Corpus:
    events: list[dict]
    planted: dict[str, set[str]] = field(default_factory=dict)


class Generator:
    def __init__(self, seed: int = 7, start: datetime = START, days: int = 3):
        self.rng = random.Random(seed)
        self.start = start
        self.seconds = days * 86400

    def event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def identity(self, kind: str, account: str, **extra) -> dict:
        if kind == "Root":
            return {
                "type": "Root",
                "principalId": account,
                "arn": f"arn:aws:iam::{account}:root",
                "accountId": account,
                **extra,
            }
        if kind == "IAMUser":
            user = self.rng.choice(("alice", "bob", "carol"))
            return {
                "type": "IAMUser",
                "principalId": f"AIDA{self.rng.getrandbits(40):010X}",
                "arn": f"arn:aws:iam::{account}:user/{user}",
                "accountId": account,
                "userName": user,
                **extra,
            }
        if kind == "AWSService":
            return {"type": "AWSService", "invokedBy": extra.get("invokedBy", "ec2.amazonaws.com")}
        role = self.rng.choice(("Admin", "Deploy", "ReadOnly"))
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{self.rng.getrandbits(40):010X}:session",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/session",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"creationDate": "2026-11-20T00:00:00Z", "mfaAuthenticated": "false"},
            },
            **extra,
        }

    def event(self, source: str, name: str, kind: str = "AssumedRole", **fields) -> dict:
        account = fields.pop("account", self.rng.choice(ACCOUNTS))
        region = fields.pop("region", self.rng.choice(REGIONS))
        at = self.start + timedelta(seconds=self.rng.randrange(self.seconds))
        identity = fields.pop("identity", None) or self.identity(
            kind, account, **fields.pop("identity_extra", {})
        )
        record = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": f"{source}.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": f"203.0.113.{self.rng.randrange(1, 255)}",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": None,
            "responseElements": None,
            "requestID": self.event_id(),
            "eventID": self.event_id(),
            "readOnly": name.startswith(("Describe", "List", "Get", "Head", "Lookup")),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        record.update(fields)
        return record

    # --- benign traffic, near misses included ------------------------------------------

    def benign(self) -> dict:
        return self.rng.choice(self.BENIGN)(self)

    BENIGN: tuple[Callable[[Generator], dict], ...] = (
        lambda g: g.event("ec2", "DescribeInstances"),
        lambda g: g.event("ec2", "DescribeSecurityGroups"),
        lambda g: g.event("ec2", "DescribeRouteTables"),
        lambda g: g.event("ec2", "DescribeVpcs", kind="IAMUser"),
        lambda g: g.event("iam", "ListRoles"),
        lambda g: g.event("iam", "GetPolicy"),
        lambda g: g.event(
            "kms",
            "Decrypt",
            kind="AWSService",
            identity_extra={"invokedBy": "cloudtrail.amazonaws.com"},
        ),
        lambda g: g.event("kms", "EnableKey"),
        lambda g: g.event("s3", "GetBucketPolicy"),
        lambda g: g.event("config", "DescribeConfigRules"),
        lambda g: g.event("organizations", "ListAccounts"),
        lambda g: g.event("cloudtrail", "DescribeTrails"),
        lambda g: g.event("cloudtrail", "LookupEvents"),
        lambda g: g.event(
            "s3",
            "GetObject",
            eventCategory="Data",
            managementEvent=False,
            resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::app-data/key"}],
        ),
        lambda g: g.event("lambda", "Invoke", eventCategory="Data", managementEvent=False),
        lambda g: g.event(
            "sts",
            "AssumeRole",
            kind="AWSService",
            identity_extra={"invokedBy": "lambda.amazonaws.com"},
        ),
        # Near misses: one condition short of a detection.
        lambda g: g.console_login("IAMUser", mfa="Yes", result="Success"),
        lambda g: g.console_login("AssumedRole", mfa="No", result="Success"),
        lambda g: g.event(
            "s3", "ListBuckets", kind="Root", identity_extra={"invokedBy": "support.amazonaws.com"}
        ),
        lambda g: g.event("signin", "ConsoleLogin", kind="Root", eventType="AwsServiceEvent"),
        lambda g: g.event(
            "s3",
            "PutObject",
            errorCode="AccessDenied",
            sourceIPAddress="delivery.logs.amazonaws.com",
        ),
        lambda g: g.event("s3", "HeadBucket", errorCode="AccessDenied"),
        lambda g: g.event("ec2", "DescribeInstances", errorCode="ThrottlingException"),
        lambda g: g.event("iot", "CreatePolicy"),
        lambda g: g.event("ec2", "CreateTags"),
    )

    def console_login(self, kind: str, mfa: str, result: str, **fields) -> dict:
        extra = {"errorMessage": "Failed authentication"} if result == "Failure" else {}
        return self.event(
            "signin",
            "ConsoleLogin",
            kind=kind,
            additionalEventData={"MFAUsed": mfa, "LoginTo": "https://console.aws.amazon.com/"},
            responseElements={"ConsoleLogin": result},
            **extra,
            **fields,
        )

    # --- planted events: two per condition-based detection, one per name of each name list ----

    PLANTED: ClassVar[dict[str, tuple[Callable[[Generator], dict], ...]]] = {
        "unauthorized-api-calls": (
            lambda g: g.event("ec2", "RunInstances", errorCode="Client.UnauthorizedOperation"),
            lambda g: g.event("s3", "GetObject", errorCode="AccessDenied", eventCategory="Data"),
        ),
        "console-signin-without-mfa": (
            lambda g: g.console_login("IAMUser", mfa="No", result="Success"),
            lambda g: g.console_login("IAMUser", mfa="No", result="Success", account=ACCOUNTS[0]),
        ),
        "root-account-usage": (
            lambda g: g.event("s3", "ListBuckets", kind="Root"),
            lambda g: g.event("ec2", "DescribeRegions", kind="Root"),
        ),
        "console-auth-failures": (
            lambda g: g.console_login("IAMUser", mfa="No", result="Failure"),
            lambda g: g.console_login("IAMUser", mfa="Yes", result="Failure"),
        ),
    }


def _one_per_name(selection: Selection) -> tuple[Callable[[Generator], dict], ...]:
    """Every name of a detection's list, from its service: a name dropped anywhere is missed."""
    source = selection.service.removesuffix(".amazonaws.com")
    return tuple(lambda g, name=name: g.event(source, name) for name in selection.names)


Generator.PLANTED.update(
    {detection: _one_per_name(selection) for detection, selection in SELECTIONS.items()}
)


def corpus(benign: int = 2000, seed: int = 7) -> Corpus:
    generator = Generator(seed)
    events = [generator.benign() for _ in range(benign)]
    planted: dict[str, set[str]] = {}
    for detection, makers in Generator.PLANTED.items():
        made = [make(generator) for make in makers]
        planted[detection] = {event["eventID"] for event in made}
        events.extend(made)
    generator.rng.shuffle(events)
    return Corpus(events, planted)


def log_key(organization_id: str, account: str, region: str, at: datetime, unique: str) -> str:
    """The key CloudTrail gives a log file of an organization trail."""
    return (
        f"AWSLogs/{organization_id}/{account}/CloudTrail/{region}/{at:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{at:%Y%m%dT%H%MZ}_{unique}.json.gz"
    )


def write_logs(
    root: Path,
    events: Iterable[dict],
    per_file: int = 200,
    organization_id: str = ORGANIZATION_ID,
    batch: int = 0,
) -> list[Path]:
    """Lay events out as an organization trail delivers them, with digest files beside them.

    `batch` keeps file names unique when one directory is written in several calls.
    """
    batches: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for event in events:
        day = event["eventTime"][:10].replace("-", "/")
        batches[(event["recipientAccountId"], event["awsRegion"], day)].append(event)
    written = []
    for (account, region, _), records in sorted(batches.items()):
        records.sort(key=lambda e: e["eventTime"])
        for offset in range(0, len(records), per_file):
            chunk = records[offset : offset + per_file]
            at = datetime.strptime(chunk[-1]["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            path = root / log_key(organization_id, account, region, at, f"{batch:04X}{offset:08X}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(
                gzip.compress(json.dumps({"Records": chunk}).encode(), compresslevel=1)
            )
            written.append(path)
            digest = Path(
                str(path)
                .replace("/CloudTrail/", "/CloudTrail-Digest/")
                .replace("_CloudTrail_", "_CloudTrail-Digest_")
            )
            digest.parent.mkdir(parents=True, exist_ok=True)
            digest.write_bytes(
                gzip.compress(json.dumps({"digestPublicKeyFingerprint": "x"}).encode())
            )
    return written


# --- Insights events ---------------------------------------------------------------------
# Shaped as the CloudTrail User Guide documents them ("CloudTrail record contents for
# Insights events for trails", "CloudTrail Insights insightDetails element"): a Start and an
# End record per incident sharing `sharedEventID`; statistics with the baseline and insight
# averages per minute, insightDuration and baselineDuration in minutes; attributions of the
# top user identities, user agents and error codes, for the insight and the baseline.


def insight_record(
    generator: Generator,
    state: str,
    shared: str,
    at: datetime,
    *,
    account: str,
    region: str,
    source: str,
    name: str,
    kind: str = "ApiCallRateInsight",
    baseline: float = 0.0125,
    observed: float = 3.5,
    duration: int = 14,
) -> dict:
    def attribution(attribute: str, value: str) -> dict:
        return {
            "attribute": attribute,
            "insight": [{"value": value, "average": observed}],
            "baseline": [{"value": value, "average": baseline}],
        }

    caller = f"arn:aws:sts::{account}:assumed-role/ci-deployer/session"
    return {
        "eventVersion": "1.08",
        "eventTime": f"{at:%Y-%m-%dT%H:%M:%SZ}",
        "awsRegion": region,
        "eventID": generator.event_id(),
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": account,
        "sharedEventID": shared,
        "insightDetails": {
            "state": state,
            "eventSource": source,
            "eventName": name,
            "insightType": kind,
            "insightContext": {
                "statistics": {
                    "baseline": {"average": baseline},
                    "insight": {"average": observed},
                    "insightDuration": duration,
                    "baselineDuration": 10080,
                },
                "attributions": [
                    attribution("userIdentityArn", caller),
                    attribution("userAgent", "aws-cli/2.22.0"),
                    attribution(
                        "errorCode", "AccessDenied" if kind == "ApiErrorRateInsight" else "null"
                    ),
                ],
            },
        },
        "eventCategory": "Insight",
    }


@dataclass
class InsightIncident:
    shared: str
    start: dict
    end: dict | None  # None: still open


def insight_incidents(seed: int = 11) -> list[InsightIncident]:
    """Closed and open incidents over accounts, regions and both insight types."""
    generator = Generator(seed)
    incidents = []
    cases = [
        (
            "111111111111",
            "us-east-1",
            "ec2.amazonaws.com",
            "RunInstances",
            "ApiCallRateInsight",
            True,
        ),
        (
            "333333333333",
            "eu-west-1",
            "iam.amazonaws.com",
            "CreateAccessKey",
            "ApiCallRateInsight",
            False,
        ),
        (
            "444444444444",
            "ap-southeast-2",
            "s3.amazonaws.com",
            "PutBucketPolicy",
            "ApiErrorRateInsight",
            True,
        ),
        ("333333333333", "us-east-1", "kms.amazonaws.com", "Decrypt", "ApiErrorRateInsight", False),
    ]
    for index, (account, region, source, name, kind, closed) in enumerate(cases):
        shared = generator.event_id()
        began = START + timedelta(hours=5 * index + 1, minutes=7)
        where = {"account": account, "region": region, "source": source, "name": name, "kind": kind}
        start = insight_record(generator, "Start", shared, began, **where)
        end = (
            insight_record(generator, "End", shared, began + timedelta(minutes=14), **where)
            if closed
            else None
        )
        incidents.append(InsightIncident(shared, start, end))
    return incidents


def insight_key(organization_id: str, account: str, region: str, at: datetime, unique: str) -> str:
    """The key CloudTrail gives an Insights file of an organization trail."""
    return (
        f"AWSLogs/{organization_id}/{account}/CloudTrail-Insight/{region}/{at:%Y/%m/%d}/"
        f"{account}_CloudTrail-Insight_{region}_{at:%Y%m%dT%H%MZ}_{unique}.json.gz"
    )


def write_insights(
    root: Path, records: Iterable[dict], organization_id: str = ORGANIZATION_ID
) -> list[Path]:
    """One Insights file per record, where CloudTrail delivers it."""
    written = []
    for index, record in enumerate(records):
        at = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        key = insight_key(
            organization_id, record["recipientAccountId"], record["awsRegion"], at, f"{index:016X}"
        )
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": [record]}).encode()))
        written.append(path)
    return written
