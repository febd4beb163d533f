"""boto3 sessions and clients for the operator commands.

Standard credential chain (profiles, SSO, environment, instance roles);
`AWS_ENDPOINT_URL` points every client at an emulator when set (boto3 reads it
itself). Adaptive retries, because an organisation-wide scan is exactly the
burst of calls that gets throttled.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import threading
from dataclasses import dataclass, field

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

from orgtrail.contract.config import ROLE_NAME, bucket_name_problem, known_regions

DEFAULT_MAX_ATTEMPTS = 10
# Accounts (or trails) read at once by inventory, verify and cutover: enough to hide a round
# trip of tens of milliseconds, few enough to stay under the APIs' request rates.
DEFAULT_CONCURRENCY = 16
# What a call to AWS can raise: the API's answer (denied, not found, throttled past retries)
# or the client's (no connection, bad parameters). Everything else is a bug and propagates.
AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
SESSION_NAME = "org-trail"


def client_config() -> Config:
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    return Config(
        retries={"mode": "adaptive", "max_attempts": attempts},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
    )


# The first call of a run (who are we?) says quickly when AWS cannot be reached at all: a
# short connect timeout and one retry, not the adaptive retries meant for throttling.
FIRST_CALL = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=3)
UNREACHABLE = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)


class CredentialError(RuntimeError):
    """No usable credentials: a usage error (exit 2), not a finding."""


def error_text(error: Exception) -> str:
    """A short, readable reason from a botocore error."""
    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "Error")
        message = details.get("Message", "")
        if code.isdigit() or not message or message.lstrip().startswith("<"):
            return f"{error.operation_name} failed ({code})"
        return f"{code}: {message}"
    return str(error)


def error_code(error: Exception) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code", "")
    return ""


@dataclass
class Account:
    """A caller acting in one account, and the clients made for it (cached; clients are thread-safe).

    Assumed-role accounts share the base session and pass their credentials per
    client: one botocore session loads each service model once, instead of once
    per account (the dominant cost of an organisation-wide scan).
    """

    account_id: str
    session: boto3.Session
    partition: str = "aws"
    credentials: dict | None = None
    # boto3 sessions are not thread-safe: every account made from one session shares its lock.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._clients: dict[tuple[str, str | None], object] = {}

    def client(self, service: str, region: str | None = None):
        key = (service, region)
        with self.lock:
            if key not in self._clients:
                keys = {}
                if self.credentials is not None:
                    keys = {
                        "aws_access_key_id": self.credentials["AccessKeyId"],
                        "aws_secret_access_key": self.credentials["SecretAccessKey"],
                        "aws_session_token": self.credentials["SessionToken"],
                    }
                self._clients[key] = self.session.client(
                    service, region_name=region, config=client_config(), **keys
                )
            return self._clients[key]

    def assume(self, account_id: str, role_name: str) -> Account:
        """The same caller, acting in `account_id` through `role_name` there."""
        if account_id == self.account_id:
            return self
        return self.assume_role_arn(f"arn:{self.partition}:iam::{account_id}:role/{role_name}")

    def assume_role_arn(self, role_arn: str) -> Account:
        account_id = role_arn.split(":")[4]
        credentials = self.client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName=SESSION_NAME
        )["Credentials"]
        return Account(account_id, self.session, self.partition, credentials, self.lock)


def current_account(profile: str | None = None, region: str | None = None) -> Account:
    """Who the standard credential chain says we are; CredentialError when it says nothing usable."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        if session.region_name is None:
            session = boto3.Session(profile_name=profile, region_name="us-east-1")
        identity = session.client("sts", config=FIRST_CALL).get_caller_identity()
    except UNREACHABLE as error:
        raise CredentialError(f"cannot reach AWS: {error_text(error)}") from None
    except AWS_ERRORS as error:
        raise CredentialError(f"no usable AWS credentials: {error_text(error)}") from None
    partition = identity["Arn"].split(":")[1]
    return Account(identity["Account"], session, partition)


def bucket_reader(account: Account, role_arn: str | None) -> Account:
    """Who reads the central bucket: `account` itself, or the role it assumes for that."""
    if not role_arn:
        return account
    try:
        return account.assume_role_arn(role_arn)
    except AWS_ERRORS as error:
        raise CredentialError(f"cannot assume {role_arn}: {error_text(error)}") from None


ACTIVE = "ACTIVE"


def account_state(account: dict) -> str:
    """An Organizations account's state: ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED...

    Read from `State`; `Status` "will be retired on September 9, 2026"
    (Organizations API reference, Account) and is read only where an older
    endpoint still answers with it alone.
    """
    return account.get("State") or account.get("Status") or "UNKNOWN"


def paginate(client, operation: str, key: str, **kwargs) -> list:
    """Every item of a paginated list call."""
    paginator = client.get_paginator(operation)
    return [item for page in paginator.paginate(**kwargs) for item in page.get(key, [])]


# IAM user guide, "IAM identifiers": a role ARN is arn:PARTITION:iam::ACCOUNT:role/PATH/NAME,
# a name of 1-64 of letters, digits and +=,.@_- (a path of the same characters and slashes).
ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")


def role_arn(text: str) -> str:
    """An IAM role ARN (argparse type): checked before any call is made."""
    if not ROLE_ARN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
        )
    return text


def region_names(text: str) -> list[str]:
    """Comma-separated region names, each one AWS has (argparse type); "" for none given."""
    regions = [region.strip() for region in text.split(",") if region.strip()]
    known = known_regions()
    unknown = [region for region in regions if region not in known]
    if unknown:
        hints = []
        for region in unknown:
            close = difflib.get_close_matches(region, sorted(known), n=1)
            hints.append(f"{region!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise argparse.ArgumentTypeError(f"not an AWS region: {', '.join(hints)}")
    return regions


# One bucket's objects (and optionally a key prefix under it): the bucket name whole, then /.
EXCLUDED_PREFIX = re.compile(r"^arn:aws(-[a-z]+)*:s3:::(?P<bucket>[^/]+)/[^*?]*$")


def one_bucket_prefix(text: str) -> str:
    """An ARN prefix of one bucket's objects (argparse type, for --accept-excluded): a waiver
    broader than one bucket (`arn:aws:s3:::`, a name without its `/`, a wildcard) would excuse
    every bucket whose name starts the same."""
    found = EXCLUDED_PREFIX.match(text)
    if not found or bucket_name_problem(found["bucket"]):
        raise argparse.ArgumentTypeError(
            f"{text!r} does not name one bucket's objects: give arn:aws:s3:::<bucket>/ "
            "(the whole bucket name and its /, optionally a key prefix after it, no wildcard), "
            "so no other bucket whose name starts the same is excused"
        )
    return text


def member_role_name(text: str) -> str:
    """An IAM role name (argparse type), as AssumeRole takes it in each member account."""
    if not ROLE_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IAM role name (1-64 letters, digits and +=,.@_-)"
        )
    return text


def region_name(text: str) -> str:
    """One region AWS has (argparse type), named with the nearest when it is not one."""
    if "," in text or not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not one AWS region name")
    (region,) = region_names(text)
    return region


def at_least_one(text: str) -> int:
    """A number of requests at once, at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: at least 1")
    return value


# The regions an account's multi-region trail may record in: enabled (by default or by opting
# in) and those changing state, where it may still or already record (Account Management API
# reference, ListRegions `RegionOptStatus`).
RECORDING_REGION_STATES = ("ENABLED", "ENABLED_BY_DEFAULT", "ENABLING", "DISABLING")


def enabled_regions(account: Account, region: str | None = None) -> list[str]:
    """The regions enabled for the account, as it lists them itself (asked in `region`, one
    known to be enabled for it): without AllRegions, DescribeRegions lists those only (EC2 API
    reference); one not opted in is left out."""
    regions = account.client("ec2", region).describe_regions()["Regions"]
    return sorted(
        region["RegionName"] for region in regions if region.get("OptInStatus") != "not-opted-in"
    )


class RegionReader:
    """Each account's regions, for an organisation-wide run from the management account.

    The cheapest way that works, found once per run and kept: the Account Management API
    from the management account (ListRegions with the member's AccountId: one client for
    every account, once trusted access for account.amazonaws.com is enabled; the management
    account asks for itself without one); else ListRegions in the account itself, through its
    role (a small client per account); else the account's own EC2 DescribeRegions (a large
    one). All three give the account's own answer.
    """

    def __init__(self, management: Account):
        self.management = management
        # For each way: None until first tried, then whether it works.
        self.usable: dict[str, bool | None] = {"organisation": None, "own": None}
        self._first = threading.Lock()

    def regions(self, account_id: str, member: Account, region: str | None = None) -> list[str]:
        """The account's regions; `region`, enabled for it, is where EC2 is asked."""
        ways = {
            "organisation": lambda: self._listed(
                self.management,
                {} if account_id == self.management.account_id else {"AccountId": account_id},
            ),
            "own": lambda: self._listed(member, {}),
        }
        for way, listed_by in ways.items():
            if self.usable[way] is None:
                # One account finds out whether this way works; the others wait for that.
                with self._first:
                    if self.usable[way] is None:
                        listed = listed_by()
                        self.usable[way] = listed is not None
                        if listed is not None:
                            return listed
                        continue
            if self.usable[way]:
                listed = listed_by()
                if listed is not None:
                    return listed
                self.usable[way] = False
        return enabled_regions(member, region)

    @staticmethod
    def _listed(caller: Account, account: dict) -> list[str] | None:
        """The regions by Account Management's ListRegions, or None when refused."""
        try:
            listed = paginate(
                caller.client("account"),
                "list_regions",
                "Regions",
                RegionOptStatusContains=list(RECORDING_REGION_STATES),
                **account,
            )
        except AWS_ERRORS:
            return None
        return sorted(region["RegionName"] for region in listed)
