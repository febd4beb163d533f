"""The output contract: what each command prints with --json, one model per command.

`make contract` writes each model's JSON Schema to `schema/<command>.schema.json`; the
tests run the commands and validate what they really print against those files, so a
field added, renamed or dropped in a command without the contract saying so fails. The
commands build their documents themselves: the models describe them and never fill them in.

Every document starts with `schemaVersion`; it goes up only when a field is removed or
changes meaning. Adding a field does not change it: read the documents leniently, as the
AWS CLI's users read its output.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

SchemaVersion = Literal[1]
AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
# verify's areas: a check's ID is `<area>.<name>`.
CHECK_AREAS = (
    "trail", "bucket", "keys", "analysis", "delivery", "guardrails", "alerts", "organization"
)  # fmt: skip
CheckId = Annotated[str, Field(pattern=rf"^({'|'.join(CHECK_AREAS)})\.[a-z0-9-]+$")]


class Strict(BaseModel):
    # additionalProperties: false, so an undeclared field fails the contract tests.
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Strict):
    code: str = Field(
        description="the kind of error, e.g. UsageError, CredentialError, ConfigError"
    )
    message: str


class ErrorDocument(Strict):
    """What every command prints on stdout with --json when it cannot run (exit 2)."""

    error: ErrorDetail


# --- plan ----------------------------------------------------------------------------------


class PlannedResource(Strict):
    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    protect: bool
    retainOnDelete: bool
    inputs: dict[str, Any]


class Verdict(Strict):
    policy: str
    level: Literal["advisory", "mandatory", "remediate", "disabled"]
    message: str
    urn: str | None


class StackPlanDocument(Strict):
    stack: str
    accountId: str
    region: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    policyVerdicts: list[Verdict] | None = Field(description="null with --no-policy")


class CostWarningDocument(Strict):
    id: str
    choice: str
    why: str
    cheaper: str | None = Field(description="the cheaper way to the same end, if there is one")
    usdPerMonth: float | None = Field(description="from --cost-profile; null without one")
    measuredBy: str


class PlanDocument(Strict):
    """`orgtrail plan --json`"""

    schemaVersion: SchemaVersion
    stacks: list[StackPlanDocument]
    toCreate: dict[str, dict[str, NonNegativeInt]] = Field(
        description="per stack, how many resources of each type it would create"
    )
    changes: dict[str, list[str]] | None = Field(
        None, description="with --diff: per stack, each change since the saved plan (+, -, ~)"
    )
    costWarnings: list[CostWarningDocument] = Field(
        description="the management stack's cost-heavy choices (figures with --cost-profile)"
    )


# --- inventory -----------------------------------------------------------------------------


class InventoryTrail(Strict):
    name: str
    arn: str
    homeRegion: str
    isOrganizationTrail: bool
    isMultiRegionTrail: bool
    isLogging: bool | None = Field(description="null when the status could not be read")
    s3BucketName: str | None
    s3KeyPrefix: str
    kmsKeyId: str | None
    logFileValidationEnabled: bool
    ownerAccountId: str
    latestDeliveryError: str | None = None
    statusError: str | None = None
    bucketLifecycleRules: list[str] | None = None
    bucketLifecycleError: str | None = None
    bucketRegion: str | None = None
    bucketAccountId: str | None = None
    bucketLocationError: str | None = None


class InventoryAccount(Strict):
    accountId: AccountId
    name: str
    status: str = Field(description="Organizations' State: ACTIVE, SUSPENDED, PENDING_CLOSURE, ...")
    trails: list[InventoryTrail]
    error: str | None
    notScanned: str | None
    regions: list[str]
    regionErrors: dict[str, str]
    bucketsError: str | None = None


class InventorySummary(Strict):
    accounts: NonNegativeInt
    trails: NonNegativeInt
    organizationTrails: NonNegativeInt
    ownTrails: NonNegativeInt
    notRead: NonNegativeInt


class InventoryDocument(Strict):
    """`orgtrail inventory --json`"""

    schemaVersion: SchemaVersion
    organizationId: str
    managementAccountId: AccountId
    regions: list[str] | None = Field(description="null: each account's own enabled regions")
    accounts: list[InventoryAccount]
    notRead: list[str] = Field(description="every account and region whose trails were not read")
    summary: InventorySummary


# --- cutover -------------------------------------------------------------------------------


class Window(Strict):
    start: str
    end: str


class CutoverDecision(Strict):
    id: str = Field(description="the legacy trail's ARN: the decision's stable ID")
    accountId: AccountId
    region: str
    trailName: str
    action: Literal["stopped", "ready", "already-stopped", "withheld"]
    reason: str
    reasons: list[str] = Field(description="every reason the trail is withheld")
    regions: list[str] = Field(description="the regions whose deliveries were checked")
    deliveries: NonNegativeInt
    firstDelivery: str | None
    lastDelivery: str | None
    savingUsdPerMonth: float | None = Field(
        None, description="with --spend: what stopping it saves a month (Cost Explorer)"
    )


class CutoverSummary(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    stopped: NonNegativeInt
    ready: NonNegativeInt
    alreadyStopped: NonNegativeInt = Field(alias="already-stopped")
    withheld: NonNegativeInt


class CutoverDocument(Strict):
    """`orgtrail cutover --json`"""

    schemaVersion: SchemaVersion
    organizationId: str
    organizationTrailArn: str
    window: Window
    applied: bool
    trails: list[CutoverDecision]
    summary: CutoverSummary


# --- verify --------------------------------------------------------------------------------


class VerifyCheck(Strict):
    id: CheckId = Field(description="stable across releases; key scripts on it")
    area: Literal[CHECK_AREAS]  # type: ignore[valid-type]
    subject: str = Field(description="which one, when a check repeats (an account, a source)")
    name: str
    result: Literal["PASS", "FAIL"]
    ok: bool
    detail: str


class VerifySummary(Strict):
    passed: NonNegativeInt
    failed: NonNegativeInt


class VerifyDocument(Strict):
    """`orgtrail verify --json`"""

    schemaVersion: SchemaVersion
    trail: str
    logBucket: str
    region: str
    checks: list[VerifyCheck]
    summary: VerifySummary


# --- query ---------------------------------------------------------------------------------


class Detection(Strict):
    name: str
    description: str


class Skipped(Strict):
    path: str
    reason: str


class Read(Strict):
    files: NonNegativeInt
    events: NonNegativeInt
    insightFiles: NonNegativeInt
    insights: NonNegativeInt = Field(description="Insights events (records) read")
    skipped: list[Skipped]
    ignored: dict[str, NonNegativeInt]
    beforeSince: NonNegativeInt


class QueryDocument(Strict):
    """`orgtrail query --json` (and `query --list --json`: read null, detections empty)"""

    schemaVersion: SchemaVersion
    available: list[Detection]
    read: Read | None
    detections: dict[str, list[dict[str, Any]]] = Field(
        description="per detection run, its rows (lower-case column names)"
    )
    reports: dict[str, list[dict[str, Any]]] = Field(
        description="with --report: the report's rows (not findings)"
    )


# --- cost ----------------------------------------------------------------------------------


class CostWindow(Strict):
    start: str | None
    end: str | None
    days: float = Field(ge=0)
    logFiles: NonNegativeInt
    events: NonNegativeInt


class PriceOrigin(Strict):
    origin: str = Field(description="where every price of this document comes from")
    date: str
    region: str


class ItemPrice(Strict):
    usd: float
    per: float
    source: str = Field(description="the AWS pricing page the price was read from")


CostGroup = Literal["management", "data-events", "insights", "cloudwatch-logs", "log-bucket"]


class CostItem(Strict):
    id: str
    name: str
    group: CostGroup = Field(description="the item's group: the subtotals of `groups`")
    quantityPerMonth: float = Field(ge=0)
    unit: str
    price: ItemPrice
    usdPerMonth: float = Field(ge=0)
    perAccount: dict[str, float]


class CostSummary(Strict):
    usdPerMonth: float = Field(ge=0)
    cutoverSavingUsdPerMonth: float = Field(ge=0)


class BucketSavingDocument(Strict):
    bucket: str
    accountId: AccountId
    region: str
    storageClass: str
    standardBytes: float | None
    objects: float | None
    sampled: NonNegativeInt
    eligibleBytesShare: float | None
    eligibleObjectsShare: float | None
    usdPerMonth: float | None
    oneTimeUsd: float | None
    breakEvenMonths: float | None
    error: str | None = Field(description="why the bucket could not be measured")


class SpendPeriod(Strict):
    start: str
    end: str
    months: NonNegativeInt


class AccountSpendDocument(Strict):
    usdPerMonth: float
    byKind: dict[str, float] = Field(description="extra copies, data events, Insights, other: ...")
    paidCopiesByRegion: dict[str, float]


class TrailSaving(Strict):
    accountId: AccountId
    region: str
    trailName: str
    usdPerMonth: float = Field(
        description="its account's paid copies there, shared among its legacy trails"
    )


class SpendDocument(Strict):
    period: SpendPeriod
    accounts: dict[str, AccountSpendDocument]
    trailSavings: list[TrailSaving]


class CostDocument(Strict):
    """`orgtrail cost --json`"""

    schemaVersion: SchemaVersion
    window: CostWindow
    prices: PriceOrigin
    items: list[CostItem]
    groups: dict[CostGroup, float] = Field(description="USD a month by group of items")
    accounts: dict[str, float]
    summary: CostSummary
    notMeasured: list[str] = Field(description="what the files read cannot tell: never priced as 0")
    assumptions: list[str]
    glacier: list[BucketSavingDocument] | None = Field(
        description="with --glacier: each legacy bucket's archive saving; null without"
    )
    spend: SpendDocument | None = Field(
        description="with --spend: today's CloudTrail spend from Cost Explorer; null without"
    )


DOCUMENTS: dict[str, type[BaseModel]] = {
    "plan": PlanDocument,
    "inventory": InventoryDocument,
    "cutover": CutoverDocument,
    "verify": VerifyDocument,
    "query": QueryDocument,
    "cost": CostDocument,
    "error": ErrorDocument,
}


def schema(name: str) -> dict:
    model = DOCUMENTS[name]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(by_alias=True, mode="serialization"),
    }
