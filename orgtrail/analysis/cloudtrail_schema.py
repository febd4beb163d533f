"""The CloudTrail table's columns, once, for both engines.

The Glue table (Athena) and the local DuckDB view are built from this list,
so a detection written for one runs unchanged on the other. Names and types
follow AWS's documented CloudTrail table for Athena: lower-case columns,
nested structs, and free-form JSON (requestParameters and friends) kept as
JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass

STRING, JSON_TEXT, DOUBLE = "string", "json", "double"


@dataclass(frozen=True)
class Column:
    name: str  # lower-case, as Athena names it
    key: str  # the record's JSON key
    type: str | tuple[Column, ...] = STRING  # string, json text, double, or a struct of columns
    array: bool = False

    def hive_type(self) -> str:
        if isinstance(self.type, tuple):
            inner = f"struct<{','.join(f'{c.name}:{c.hive_type()}' for c in self.type)}>"
        else:
            inner = "double" if self.type == DOUBLE else "string"
        return f"array<{inner}>" if self.array else inner

    def duckdb_type(self) -> str:
        """The type DuckDB's JSON reader parses this field into (once, while reading)."""
        if isinstance(self.type, tuple):
            inner = _duckdb_struct(self.type)
        else:
            inner = {JSON_TEXT: "JSON", DOUBLE: "DOUBLE"}.get(self.type, "VARCHAR")
        return f"{inner}[]" if self.array else inner

    def duckdb_expression(self, parent: str) -> str:
        """DuckDB SQL turning the parsed field into the Athena column (lower-case names, JSON as text)."""
        value = f'{parent}."{self.key}"'
        if self.array:
            item = f"{self.name}_item"  # one name per level: nested lambdas do not shadow
            fields = ", ".join(f"{c.name} := {c.duckdb_expression(item)}" for c in self.type)
            return f"list_transform({value}, lambda {item}: struct_pack({fields}))"
        if isinstance(self.type, tuple):
            fields = ", ".join(f"{c.name} := {c.duckdb_expression(value)}" for c in self.type)
            return f"struct_pack({fields})"
        if self.type == JSON_TEXT:
            return f"CAST({value} AS VARCHAR)"
        return value


def _duckdb_struct(columns: tuple[Column, ...]) -> str:
    fields = ", ".join('"' + column.key + '" ' + column.duckdb_type() for column in columns)
    return f"STRUCT({fields})"


def record_type(columns: tuple[Column, ...] | None = None) -> str:
    """One CloudTrail record (by default an event's) as DuckDB reads it."""
    return _duckdb_struct(COLUMNS if columns is None else columns)


def _strings(*keys: str) -> tuple[Column, ...]:
    return tuple(Column(key.lower(), key) for key in keys)


SESSION_ISSUER = _strings("type", "principalId", "arn", "accountId", "userName")
USER_IDENTITY = (
    *_strings("type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName"),
    Column(
        "sessioncontext",
        "sessionContext",
        (
            Column("attributes", "attributes", _strings("mfaAuthenticated", "creationDate")),
            Column("sessionissuer", "sessionIssuer", SESSION_ISSUER),
            Column("ec2roledelivery", "ec2RoleDelivery"),
            Column("sourceidentity", "sourceIdentity"),
        ),
    ),
)

COLUMNS: tuple[Column, ...] = (
    Column("eventversion", "eventVersion"),
    Column("useridentity", "userIdentity", USER_IDENTITY),
    *_strings("eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent"),
    *_strings("errorCode", "errorMessage"),
    Column("requestparameters", "requestParameters", JSON_TEXT),
    Column("responseelements", "responseElements", JSON_TEXT),
    Column("additionaleventdata", "additionalEventData", JSON_TEXT),
    *_strings("requestID", "eventID", "readOnly"),
    Column("resources", "resources", _strings("ARN", "accountId", "type"), array=True),
    *_strings("eventType", "apiVersion", "recipientAccountId"),
    Column("serviceeventdetails", "serviceEventDetails", JSON_TEXT),
    *_strings("sharedEventID", "vpcEndpointId", "eventCategory"),
    Column(
        "tlsdetails",
        "tlsDetails",
        _strings("tlsVersion", "cipherSuite", "clientProvidedHostHeader"),
    ),
)

# The security stack's Glue database and Athena workgroup (components/log_analysis.py).
DATABASE = "org_trail"
WORKGROUP = "org-trail"
# Partition columns, filled by projection in Athena and from the key locally.
PARTITIONS = ("account", "region", "day")
# The account projection's values (partition projection, enum): the tables see only these.
ACCOUNT_PROJECTION = f"projection.{PARTITIONS[0]}.values"
TABLE = "cloudtrail_logs"


# Insights records, as "CloudTrail record contents for Insights events for trails" and
# "CloudTrail Insights insightDetails element" lay them out. Their files hold one JSON
# document each, {"Records": [...]}: the table has that one column, and queries unnest it
# (`CROSS JOIN UNNEST(records) AS t (insight)`), in Athena and locally alike.
_AVERAGE = (Column("average", "average", DOUBLE),)
_VALUES = (Column("value", "value"), Column("average", "average", DOUBLE))
INSIGHT_RECORD: tuple[Column, ...] = (
    *_strings("eventVersion", "eventTime", "awsRegion", "eventID", "eventType"),
    *_strings("recipientAccountId", "sharedEventID"),
    Column(
        "insightdetails",
        "insightDetails",
        (
            *_strings("state", "eventSource", "eventName", "insightType"),
            Column(
                "insightcontext",
                "insightContext",
                (
                    Column(
                        "statistics",
                        "statistics",
                        (
                            Column("baseline", "baseline", _AVERAGE),
                            Column("insight", "insight", _AVERAGE),
                            Column("insightduration", "insightDuration", DOUBLE),
                            Column("baselineduration", "baselineDuration", DOUBLE),
                        ),
                    ),
                    Column(
                        "attributions",
                        "attributions",
                        (
                            Column("attribute", "attribute"),
                            Column("insight", "insight", _VALUES, array=True),
                            Column("baseline", "baseline", _VALUES, array=True),
                        ),
                        array=True,
                    ),
                ),
            ),
        ),
    ),
    Column("eventcategory", "eventCategory"),
)
INSIGHT_COLUMNS: tuple[Column, ...] = (Column("records", "Records", INSIGHT_RECORD, array=True),)
INSIGHTS_TABLE = "cloudtrail_insights"
