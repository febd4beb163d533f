"""The org-trail config contract: every key, its default, and its validation.

Both stacks read the same organisation-level keys; each stack adds its own.
Values arrive the way the Pulumi engine hands them to a program (strings, with
objects and arrays as JSON), or as native YAML values when a stack file is
read directly. `load_settings` checks every key and raises one `ConfigError`
listing every problem, so nothing is registered from a half-valid config.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NAMESPACE = "org-trail"
STACK_KINDS = ("security", "management")

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
ARCHIVE_STORAGE_CLASSES = ("GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
# CloudWatch Logs accepts only these retention periods (0 = never expire).
LOG_RETENTION_DAYS = (
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_LOCK_DAYS = 36500  # S3 caps default retention at 100 years.

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_TRAIL_NAME_ADJACENT = re.compile(r"[._-]{2}")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_STACK_REFERENCE = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
_S3_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,200}$")


class ConfigError(ValueError):
    """Every problem found in one configuration, each naming its key."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"  - {key}: {message}" for key, message in problems)
        super().__init__(f"invalid {NAMESPACE} configuration ({len(problems)} problems):\n{lines}")


@dataclass(frozen=True)
class Key:
    """One declared config key: its Pulumi.yaml type, default, and which stacks read it."""

    type: str  # string | integer | boolean | object | array (as declared in Pulumi.yaml)
    description: str
    stacks: tuple[str, ...] = STACK_KINDS
    default: Any = None


KEYS: dict[str, Key] = {
    "stackKind": Key(
        "string", "Which stack this is: security or management. Defaults to the stack name."
    ),
    "organizationId": Key(
        "string", "AWS Organizations ID, o- followed by 10-32 lowercase letters or digits."
    ),
    "managementAccountId": Key("string", "12-digit ID of the organization management account."),
    "securityAccountId": Key(
        "string", "12-digit ID of the security account that owns the log bucket."
    ),
    "trailName": Key("string", "Name of the organization trail.", default="org-trail"),
    "logBucketName": Key(
        "string",
        "Central log bucket. Default: org-trail-logs-<securityAccountId>-<region>.",
        stacks=("security",),
    ),
    "accessLogBucketName": Key(
        "string",
        "Bucket receiving the log bucket's server access logs. Default: org-trail-access-logs-<securityAccountId>-<region>.",
        stacks=("security",),
    ),
    "kmsKeyAlias": Key(
        "string",
        "Alias of the CloudTrail KMS key.",
        stacks=("security",),
        default="alias/org-trail",
    ),
    "objectLock": Key(
        "object",
        "Default retention of the log bucket: {mode: GOVERNANCE|COMPLIANCE, days: >0}.",
        stacks=("security",),
        default={"mode": "GOVERNANCE", "days": 365},
    ),
    "lifecycle": Key(
        "object",
        "Log bucket archival: {archiveAfterDays, storageClass, expireAfterDays (optional, never shorter than the lock)}.",
        stacks=("security",),
        default={"archiveAfterDays": 90, "storageClass": "GLACIER"},
    ),
    "analysis": Key(
        "object",
        "Athena over the logs: {accountIds, regions (partition projection), startDate YYYY/MM/DD, "
        "resultsBucketName?, resultExpirationDays}.",
        stacks=("security",),
        default={
            "accountIds": [],
            "regions": [],
            "startDate": "2024/01/01",
            "resultExpirationDays": 30,
        },
    ),
    "securityStack": Key(
        "string",
        "Stack reference of the security stack, e.g. acme/org-trail/security.",
        stacks=("management",),
    ),
    "legacyTrails": Key(
        "array",
        "Per-account trails to archive: [{accountId, region, trailName, bucket, roleName?, bucketRegion?, prefix?}].",
        stacks=("management",),
        default=[],
    ),
    "legacyArchive": Key(
        "object",
        "Legacy bucket archival: {archiveAfterDays, storageClass, expireAfterDays (optional)}.",
        stacks=("management",),
        default={"archiveAfterDays": 30, "storageClass": "GLACIER"},
    ),
    "dataEvents": Key(
        "object",
        "Data events: {s3: bool, lambda: bool, s3IncludeTrailBucket: bool (strict CIS 3.8/3.9; costly)}.",
        stacks=("management",),
        default={"s3": True, "lambda": True, "s3IncludeTrailBucket": False},
    ),
    "insights": Key(
        "boolean",
        "CloudTrail Insights (ApiCallRate, ApiErrorRate).",
        stacks=("management",),
        default=True,
    ),
    "logRetentionDays": Key(
        "integer", "Retention of the CloudWatch Logs group.", stacks=("management",), default=365
    ),
    "logGroupKmsKeyArn": Key(
        "string",
        "Optional KMS key ARN encrypting the CloudWatch Logs group.",
        stacks=("management",),
    ),
    "alarms": Key(
        "object",
        "CIS monitoring alarms: {subscriptions: [{protocol, endpoint}], namespace}.",
        stacks=("management",),
        default={"subscriptions": [], "namespace": "OrgTrail/CIS"},
    ),
}
# Regions the Athena table projects when analysis.regions is empty: every commercial region.
COMMERCIAL_REGIONS = (
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
    "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
    "us-west-2",
)  # fmt: skip
SUBSCRIPTION_PROTOCOLS = (
    "email",
    "email-json",
    "https",
    "sqs",
    "lambda",
    "sms",
    "firehose",
    "application",
)
AWS_REGION_KEY = "aws:region"
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"


def partition_of(region: str) -> str:
    """The ARN partition of a region, so GovCloud and China need no extra key."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Organization:
    """What both stacks must agree on to authorise, and then create, the same trail."""

    organization_id: str
    management_account_id: str
    security_account_id: str
    trail_name: str
    region: str

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def trail_arn(self) -> str:
        # Deterministic, so the security stack can authorise the trail before it exists.
        return (
            f"arn:{self.partition}:cloudtrail:{self.region}:"
            f"{self.management_account_id}:trail/{self.trail_name}"
        )


@dataclass(frozen=True)
class ObjectLock:
    mode: str
    days: int


@dataclass(frozen=True)
class Archive:
    """Move logs to a colder class after some days; expire only if asked."""

    archive_after_days: int
    storage_class: str
    expire_after_days: int | None = None


@dataclass(frozen=True)
class LegacyTrail:
    account_id: str
    region: str
    trail_name: str
    bucket: str
    role_name: str = DEFAULT_ROLE_NAME
    bucket_region: str = ""
    prefix: str = ""

    @property
    def log_prefix(self) -> str:
        """Where this trail writes in its bucket: [<prefix>/]AWSLogs/."""
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"


@dataclass(frozen=True)
class DataEvents:
    s3: bool
    lambda_functions: bool
    s3_include_trail_bucket: bool


@dataclass(frozen=True)
class Analysis:
    account_ids: tuple[str, ...]
    regions: tuple[str, ...]
    start_date: str  # YYYY/MM/DD, the first day the table projects
    results_bucket_name: str
    result_expiration_days: int


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str


@dataclass(frozen=True)
class Alarms:
    subscriptions: tuple[Subscription, ...]
    namespace: str


@dataclass(frozen=True)
class SecuritySettings:
    organization: Organization
    log_bucket_name: str
    access_log_bucket_name: str
    kms_key_alias: str
    object_lock: ObjectLock
    lifecycle: Archive
    analysis: Analysis


@dataclass(frozen=True)
class ManagementSettings:
    organization: Organization
    security_stack: str
    legacy_trails: tuple[LegacyTrail, ...]
    legacy_archive: Archive
    data_events: DataEvents
    insights: bool
    log_retention_days: int
    log_group_kms_key_arn: str | None
    alarms: Alarms


Settings = SecuritySettings | ManagementSettings


def load_settings(values: Mapping[str, Any], stack_name: str) -> Settings:
    """Validate a whole stack config (keys `org-trail:<key>` and `aws:region`).

    Raises ConfigError naming every bad key and what is allowed.
    """
    reader = _Reader(values)
    kind = reader.stack_kind(stack_name)
    reader.reject_unknown_keys(kind)
    organization = reader.organization()
    if kind == "security":
        settings: Settings | None = reader.security(organization)
    else:
        settings = reader.management(organization)
    if reader.problems:
        raise ConfigError(reader.problems)
    assert settings is not None
    return settings


def config_key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def to_engine_value(value: Any) -> str:
    """A YAML value in the form the Pulumi engine passes config to a program."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


# --- validation ------------------------------------------------------------


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid general-purpose S3 bucket name, or None."""
    allowed = "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if not _BUCKET_NAME.match(name) or ".." in name:
        return f"{name!r} is not a valid bucket name ({allowed})"
    if _IP_ADDRESS.match(name):
        return f"{name!r} looks like an IP address, which S3 does not allow"
    if name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return f"{name!r} uses a prefix or suffix S3 reserves"
    return None


def trail_name_problem(name: str) -> str | None:
    """Why `name` is not a valid CloudTrail trail name, or None."""
    if not _TRAIL_NAME.match(name) or _TRAIL_NAME_ADJACENT.search(name) or _IP_ADDRESS.match(name):
        return (
            f"{name!r} is not a valid trail name (3-128 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit, no two of '._-' in a row, not an IP address)"
        )
    return None


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _is_default(key: str, value: Any) -> bool:
    return value in (None, "") or _decoded(value) == KEYS[key].default


class _Reader:
    """Reads keys one by one, collecting problems instead of stopping at the first."""

    def __init__(self, values: Mapping[str, Any]):
        self.values = values
        self.problems: list[tuple[str, str]] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append((key, message))

    # raw access

    def raw(self, key: str) -> Any:
        full = config_key(key)
        value = self.values.get(full)
        if value is None:
            return KEYS[key].default
        return value

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.raw(key)
        if value is None or value == "":
            if required:
                self.problem(config_key(key), f"is required ({KEYS[key].description})")
            return None
        if isinstance(value, bool | dict | list):
            self.problem(config_key(key), f"must be a string, got {value!r}")
            return None
        return str(value)

    def structured(self, key: str, expected: type) -> Any:
        value = self.raw(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                self.problem(config_key(key), f"is not valid JSON ({err.msg})")
                return None
        if not isinstance(value, expected):
            shape = "an object" if expected is dict else "a list"
            self.problem(config_key(key), f"must be {shape}, got {value!r}")
            return None
        return value

    def required_text(self, key: str, value: Any) -> str | None:
        if value is None or value == "":
            self.problem(key, "is required")
            return None
        return str(value)

    def check(
        self, key: str, value: str | None, problem_of: Callable[[str], str | None]
    ) -> str | None:
        if value is None:
            return None
        problem = problem_of(value)
        if problem:
            self.problem(key, problem)
            return None
        return value

    # stack shape

    def stack_kind(self, stack_name: str) -> str:
        kind = self.string("stackKind") or stack_name
        if kind not in STACK_KINDS:
            self.problem(
                config_key("stackKind"),
                f"stack {stack_name!r} must say which stack it is: set stackKind to one of "
                f"{', '.join(STACK_KINDS)} (or name the stack so)",
            )
            raise ConfigError(self.problems)
        return kind

    def reject_unknown_keys(self, kind: str) -> None:
        prefix = f"{NAMESPACE}:"
        for full in self.values:
            if not full.startswith(prefix):
                continue
            key = full[len(prefix) :]
            if key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1)
                hint = f"; did you mean {config_key(close[0])}?" if close else ""
                self.problem(full, f"is not an {NAMESPACE} key{hint}")
            elif kind not in KEYS[key].stacks and not _is_default(key, self.values[full]):
                # Project-level defaults reach both stacks; only a value set on purpose is a mistake.
                self.problem(
                    full, f"belongs to the {' and '.join(KEYS[key].stacks)} stack, not {kind}"
                )

    def organization(self) -> Organization:
        org_id = self.check(
            config_key("organizationId"),
            self.string("organizationId", required=True),
            lambda v: (
                None
                if _ORGANIZATION_ID.match(v)
                else f"{v!r} is not an organization ID (o- followed by 10-32 lowercase letters or digits)"
            ),
        )
        management = self.account_id(
            config_key("managementAccountId"), self.raw("managementAccountId")
        )
        security = self.account_id(config_key("securityAccountId"), self.raw("securityAccountId"))
        if management and management == security:
            self.problem(
                config_key("securityAccountId"),
                "must be a separate account from managementAccountId: the logs must survive a compromised management account",
            )
        trail_name = self.check(
            config_key("trailName"), self.string("trailName"), trail_name_problem
        )
        region = self.region(AWS_REGION_KEY, self.values.get(AWS_REGION_KEY), required=True)
        return Organization(
            org_id or "", management or "", security or "", trail_name or "", region or ""
        )

    def account_id(self, key: str, value: Any) -> str | None:
        if value is None or value == "":
            self.problem(key, "is required (a 12-digit AWS account ID)")
            return None
        text = str(value)
        if isinstance(value, int) and not isinstance(value, bool) and len(text) < 12:
            self.problem(key, f"{value} lost its leading zeros: quote account IDs in YAML")
            return None
        if not _ACCOUNT_ID.match(text):
            self.problem(key, f"{text!r} is not a 12-digit AWS account ID")
            return None
        return text

    def region(self, key: str, value: Any, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                self.problem(key, "is required (the home region, e.g. us-east-1)")
            return None
        if not isinstance(value, str) or not _REGION.match(value):
            self.problem(key, f"{value!r} is not an AWS region name (like us-east-1)")
            return None
        return value

    def integer(self, key: str, value: Any, minimum: int, maximum: int | None = None) -> int | None:
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip())
        ):
            number = int(value)
        else:
            number = None
        allowed = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        if number is None or number < minimum or (maximum is not None and number > maximum):
            self.problem(key, f"{value!r} is not allowed: a whole number {allowed}")
            return None
        return number

    def boolean(self, key: str, value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problem(key, f"{value!r} is not allowed: true or false")
        return None

    def choice(self, key: str, value: Any, allowed: tuple[str, ...]) -> str | None:
        if value not in allowed:
            self.problem(key, f"{value!r} is not allowed: one of {', '.join(allowed)}")
            return None
        return value

    def fields(
        self, key: str, obj: dict, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> None:
        for field in obj:
            if field not in allowed:
                self.problem(
                    f"{key}.{field}", f"is not a field of {key} (allowed: {', '.join(allowed)})"
                )
        for field in required:
            if obj.get(field) in (None, ""):
                self.problem(f"{key}.{field}", "is required")

    # security stack

    def security(self, org: Organization) -> SecuritySettings | None:
        suffix = f"{org.security_account_id}-{org.region}"
        log_bucket = self.check(
            config_key("logBucketName"),
            self.string("logBucketName") or f"org-trail-logs-{suffix}",
            bucket_name_problem,
        )
        access_bucket = self.check(
            config_key("accessLogBucketName"),
            self.string("accessLogBucketName") or f"org-trail-access-logs-{suffix}",
            bucket_name_problem,
        )
        if log_bucket and log_bucket == access_bucket:
            self.problem(
                config_key("accessLogBucketName"),
                "must differ from logBucketName: a bucket cannot receive its own access logs",
            )
        alias = self.check(
            config_key("kmsKeyAlias"),
            self.string("kmsKeyAlias"),
            lambda v: (
                None
                if _ALIAS.match(v) and not v.startswith("alias/aws/")
                else f"{v!r} is not a KMS alias (alias/ followed by letters, digits, / _ -; alias/aws/ is reserved)"
            ),
        )
        lock = self.object_lock()
        lifecycle = self.archive("lifecycle", minimum_expiry=lock.days if lock else None)
        analysis = self.analysis(org, suffix, (log_bucket, access_bucket))
        if None in (log_bucket, access_bucket, alias, lock, lifecycle, analysis):
            return None
        return SecuritySettings(org, log_bucket, access_bucket, alias, lock, lifecycle, analysis)

    def analysis(self, org: Organization, suffix: str, other_buckets: tuple) -> Analysis | None:
        key = config_key("analysis")
        obj = self.structured("analysis", dict)
        if obj is None:
            return None
        allowed = (
            "accountIds",
            "regions",
            "startDate",
            "resultsBucketName",
            "resultExpirationDays",
        )
        self.fields(key, obj, allowed)
        merged = {**KEYS["analysis"].default, **obj}
        accounts = merged["accountIds"] if isinstance(merged["accountIds"], list) else None
        if accounts is None:
            self.problem(f"{key}.accountIds", "must be a list of 12-digit account IDs")
            accounts = []
        account_ids = [self.account_id(f"{key}.accountIds[{i}]", a) for i, a in enumerate(accounts)]
        if not account_ids:
            # Without a list, the two accounts this project knows; new accounts are added here.
            account_ids = [org.management_account_id, org.security_account_id]
        regions = merged["regions"] if isinstance(merged["regions"], list) else None
        if regions is None:
            self.problem(f"{key}.regions", "must be a list of region names")
            regions = []
        region_names = [
            self.region(f"{key}.regions[{i}]", r, required=True) for i, r in enumerate(regions)
        ]
        start = str(merged["startDate"])
        if not re.fullmatch(r"\d{4}/\d{2}/\d{2}", start):
            self.problem(f"{key}.startDate", f"{start!r} is not a date in the form YYYY/MM/DD")
        results = self.check(
            f"{key}.resultsBucketName",
            str(merged.get("resultsBucketName") or f"org-trail-athena-results-{suffix}"),
            bucket_name_problem,
        )
        if results in other_buckets:
            self.problem(
                f"{key}.resultsBucketName", "must differ from the log and access-log buckets"
            )
        expiry = self.integer(f"{key}.resultExpirationDays", merged["resultExpirationDays"], 2)
        if None in account_ids or None in region_names or results is None or expiry is None:
            return None
        return Analysis(
            tuple(dict.fromkeys(account_ids)),
            tuple(region_names) or COMMERCIAL_REGIONS,
            start,
            results,
            expiry,
        )

    def object_lock(self) -> ObjectLock | None:
        key = config_key("objectLock")
        obj = self.structured("objectLock", dict)
        if obj is None:
            return None
        self.fields(key, obj, ("mode", "days"), required=("mode", "days"))
        mode = self.choice(f"{key}.mode", obj.get("mode"), LOCK_MODES) if "mode" in obj else None
        days = (
            self.integer(f"{key}.days", obj.get("days"), 1, MAX_LOCK_DAYS)
            if "days" in obj
            else None
        )
        if mode is None or days is None:
            return None
        return ObjectLock(mode, days)

    def archive(self, name: str, minimum_expiry: int | None = None) -> Archive | None:
        key = config_key(name)
        obj = self.structured(name, dict)
        if obj is None:
            return None
        merged = {**KEYS[name].default, **obj}
        self.fields(key, obj, ("archiveAfterDays", "storageClass", "expireAfterDays"))
        after = self.integer(f"{key}.archiveAfterDays", merged["archiveAfterDays"], 0)
        storage = self.choice(
            f"{key}.storageClass", merged["storageClass"], ARCHIVE_STORAGE_CLASSES
        )
        expire = merged.get("expireAfterDays")
        if expire is not None:
            expire = self.integer(f"{key}.expireAfterDays", expire, 1)
            if expire is not None and after is not None and expire <= after:
                self.problem(
                    f"{key}.expireAfterDays",
                    f"{expire} must be later than archiveAfterDays ({after})",
                )
                expire = None
            elif expire is not None and minimum_expiry is not None and expire < minimum_expiry:
                self.problem(
                    f"{key}.expireAfterDays",
                    f"{expire} is shorter than the Object Lock retention ({minimum_expiry} days); "
                    "logs may never expire before their lock ends",
                )
                expire = None
            if expire is None:
                return None
        if after is None or storage is None:
            return None
        return Archive(after, storage, expire)

    # management stack

    def management(self, org: Organization) -> ManagementSettings | None:
        security_stack = self.check(
            config_key("securityStack"),
            self.string("securityStack", required=True),
            lambda v: (
                None
                if _STACK_REFERENCE.match(v)
                else f"{v!r} is not a stack reference (stack, project/stack or org/project/stack)"
            ),
        )
        legacy = self.legacy_trails(org)
        archive = self.archive("legacyArchive")
        data_events = self.data_events()
        insights = self.boolean(config_key("insights"), self.raw("insights"))
        retention = self.raw("logRetentionDays")
        retention_days = self.integer(config_key("logRetentionDays"), retention, 0)
        if retention_days is not None and retention_days not in LOG_RETENTION_DAYS:
            self.problem(
                config_key("logRetentionDays"),
                f"{retention_days} is not a CloudWatch Logs retention (one of {', '.join(map(str, LOG_RETENTION_DAYS))})",
            )
            retention_days = None
        log_key = self.check(
            config_key("logGroupKmsKeyArn"),
            self.string("logGroupKmsKeyArn"),
            lambda v: None if _KMS_KEY_ARN.match(v) else f"{v!r} is not a KMS key ARN",
        )
        alarms = self.alarms()
        parts = (security_stack, legacy, archive, data_events, insights, retention_days, alarms)
        if any(part is None for part in parts):
            return None
        return ManagementSettings(
            org,
            security_stack,
            legacy,
            archive,
            data_events,
            insights,
            retention_days,
            log_key,
            alarms,
        )

    def alarms(self) -> Alarms | None:
        key = config_key("alarms")
        obj = self.structured("alarms", dict)
        if obj is None:
            return None
        self.fields(key, obj, ("subscriptions", "namespace"))
        merged = {**KEYS["alarms"].default, **obj}
        namespace = str(merged["namespace"])
        if not re.fullmatch(r"[A-Za-z0-9._/#:-]{1,255}", namespace) or namespace.startswith("AWS/"):
            self.problem(f"{key}.namespace", f"{namespace!r} is not a custom CloudWatch namespace")
        entries = merged["subscriptions"] if isinstance(merged["subscriptions"], list) else None
        if entries is None:
            self.problem(f"{key}.subscriptions", "must be a list of {protocol, endpoint}")
            return None
        before = len(self.problems)
        subscriptions = []
        for index, entry in enumerate(entries):
            at = f"{key}.subscriptions[{index}]"
            if not isinstance(entry, dict):
                self.problem(at, "must be an object {protocol, endpoint}")
                continue
            self.fields(at, entry, ("protocol", "endpoint"))
            protocol = self.choice(f"{at}.protocol", entry.get("protocol"), SUBSCRIPTION_PROTOCOLS)
            endpoint = self.required_text(f"{at}.endpoint", entry.get("endpoint"))
            if protocol == "email" and endpoint and "@" not in endpoint:
                self.problem(f"{at}.endpoint", f"{endpoint!r} is not an email address")
            elif protocol == "https" and endpoint and not endpoint.startswith("https://"):
                self.problem(f"{at}.endpoint", f"{endpoint!r} must be an https:// URL")
            if protocol and endpoint:
                subscriptions.append(Subscription(protocol, endpoint))
        if len(self.problems) > before:
            return None
        return Alarms(tuple(subscriptions), namespace)

    def data_events(self) -> DataEvents | None:
        key = config_key("dataEvents")
        obj = self.structured("dataEvents", dict)
        if obj is None:
            return None
        self.fields(key, obj, ("s3", "lambda", "s3IncludeTrailBucket"))
        merged = {**KEYS["dataEvents"].default, **obj}
        flags = [
            self.boolean(f"{key}.{field}", merged[field])
            for field in ("s3", "lambda", "s3IncludeTrailBucket")
        ]
        if None in flags:
            return None
        return DataEvents(*flags)

    def legacy_trails(self, org: Organization) -> tuple[LegacyTrail, ...] | None:
        key = config_key("legacyTrails")
        entries = self.structured("legacyTrails", list)
        if entries is None:
            return None
        before = len(self.problems)
        trails: list[LegacyTrail] = []
        seen: dict[tuple[str, str, str], int] = {}
        bucket_owner: dict[str, tuple[str, int]] = {}
        allowed = (
            "accountId",
            "region",
            "trailName",
            "bucket",
            "roleName",
            "bucketRegion",
            "prefix",
        )
        for index, entry in enumerate(entries):
            at = f"{key}[{index}]"
            if not isinstance(entry, dict):
                self.problem(at, f"must be an object with {', '.join(allowed[:4])}, got {entry!r}")
                continue
            self.fields(at, entry, allowed)
            trail = self.legacy_trail(at, entry)
            if trail is None:
                continue
            identity = (trail.account_id, trail.region, trail.trail_name)
            if identity in seen:
                self.problem(
                    at, f"repeats {key}[{seen[identity]}] (same account, region and trail)"
                )
                continue
            seen[identity] = index
            owner, first = bucket_owner.setdefault(trail.bucket, (trail.account_id, index))
            if owner != trail.account_id:
                self.problem(
                    f"{at}.bucket",
                    f"{trail.bucket!r} is listed under account {owner} in {key}[{first}]; "
                    "a bucket has one owner, so list it under the account that owns it",
                )
                continue
            if (
                trail.account_id == org.management_account_id
                and trail.trail_name == org.trail_name
                and trail.region == org.region
            ):
                self.problem(at, "is the organization trail itself, not a legacy trail")
                continue
            trails.append(trail)
        if len(self.problems) > before:
            return None
        return tuple(trails)

    def legacy_trail(self, at: str, entry: dict) -> LegacyTrail | None:
        account = self.account_id(f"{at}.accountId", entry.get("accountId"))
        region = self.region(f"{at}.region", entry.get("region"), required=True)
        name = self.check(
            f"{at}.trailName",
            self.required_text(f"{at}.trailName", entry.get("trailName")),
            trail_name_problem,
        )
        bucket = self.check(
            f"{at}.bucket",
            self.required_text(f"{at}.bucket", entry.get("bucket")),
            bucket_name_problem,
        )
        role = str(entry.get("roleName") or DEFAULT_ROLE_NAME)
        if not _ROLE_NAME.match(role):
            self.problem(
                f"{at}.roleName",
                f"{role!r} is not an IAM role name (1-64 of letters, digits, +=,.@_-)",
            )
            role = None
        bucket_region = self.region(f"{at}.bucketRegion", entry.get("bucketRegion")) or region
        prefix = str(entry.get("prefix") or "").strip("/")
        if prefix and not _S3_PREFIX.match(prefix):
            self.problem(f"{at}.prefix", f"{prefix!r} is not an S3 key prefix CloudTrail accepts")
            prefix = None
        if None in (account, region, name, bucket, role, prefix):
            return None
        return LegacyTrail(account, region, name, bucket, role, bucket_region, prefix)
