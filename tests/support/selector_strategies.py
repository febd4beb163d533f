"""Hypothesis strategies for CloudTrail's selector language: answers of GetEventSelectors, and
events, drawn from small pools of values so that selectors and events keep meeting.

Every selector drawn is one CloudTrail accepts on a trail (the fields, operators and values
of the API reference); `invalid_selectors` draws the ones it refuses or this tool does not
model.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st

ACCOUNT, REGION = "111111111111", "us-east-1"
BUCKETS = ("a", "ab", "logs", "b")
KEYS = ("", "x", "x/y", "x.json.gz", "y.gz")
FUNCTIONS = ("f", "f2", "g")
TABLES = ("t", "t2")
S3_ARNS = tuple(f"arn:aws:s3:::{bucket}/{key}" for bucket in BUCKETS for key in KEYS)
FUNCTION_ARNS = tuple(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}" for name in FUNCTIONS)
TABLE_ARNS = tuple(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}" for name in TABLES)
OTHER_TYPE = "AWS::S3Express::Object"
OTHER_ARNS = ("arn:aws:s3express:us-east-1:111111111111:bucket/d--use1-az4--x-s3/k",)
ARNS = {
    "AWS::S3::Object": S3_ARNS,
    "AWS::Lambda::Function": FUNCTION_ARNS,
    "AWS::DynamoDB::Table": TABLE_ARNS,
    OTHER_TYPE: OTHER_ARNS,
}
# How each resource type's ARNs begin: an event's ARN always fits its type.
ARN_FORMATS = {
    "AWS::S3::Object": "arn:aws:s3:::",
    "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:",
    "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/",
}
POOLS = {
    "eventSource": (
        "kms.amazonaws.com",
        "rdsdata.amazonaws.com",
        "s3.amazonaws.com",
        "ec2.amazonaws.com",
        "lambda.amazonaws.com",
    ),
    "eventName": ("GetObject", "PutObject", "Get", "Invoke", "DeleteObject"),
    "eventType": ("AwsApiCall", "AwsServiceEvent"),
    "userIdentity.arn": (
        f"arn:aws:iam::{ACCOUNT}:role/a",
        f"arn:aws:iam::{ACCOUNT}:role/ab",
        "arn:aws:iam::222222222222:user/u",
    ),
    "errorCode": ("VpceAccessDenied", "AccessDenied"),
    "vpcEndpointId": ("vpce-1", "vpce-12", "vpce-2"),
    "resources.ARN": S3_ARNS + FUNCTION_ARNS + TABLE_ARNS + OTHER_ARNS,
}
NETWORK_SOURCES = ("cloudtrail.amazonaws.com", "ec2.amazonaws.com", "kms.amazonaws.com")
OPTIONAL = ("userIdentity.arn", "errorCode", "sessionCredentialFromConsole")
FIELDS = {
    "Management": ("eventSource", "readOnly"),
    "Data": (
        "eventName",
        "eventSource",
        "eventType",
        "resources.ARN",
        "readOnly",
        "sessionCredentialFromConsole",
        "userIdentity.arn",
    ),
    "NetworkActivity": ("eventName", "errorCode", "vpcEndpointId", "userIdentity.arn"),
}


def pieces(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A value of the pool, or a non-empty prefix or suffix of one."""
    return st.sampled_from(pool).flatmap(
        lambda v: st.one_of(
            st.just(v),
            st.integers(1, len(v)).map(lambda i: v[:i]),
            st.integers(0, len(v) - 1).map(lambda i: v[i:]),
        )
    )


def values(pool: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(pieces(pool), min_size=1, max_size=3, unique=True)


@st.composite
def field_selector(draw, category: str, name: str) -> dict:
    if name == "readOnly":
        return {
            "Field": name,
            "Equals": draw(st.sets(st.sampled_from(["true", "false"]), min_size=1).map(sorted)),
        }
    if name == "sessionCredentialFromConsole":
        return {"Field": name, draw(st.sampled_from(["Equals", "NotEquals"])): ["true"]}
    if category == "Management" and name == "eventSource":
        return {
            "Field": name,
            "NotEquals": draw(
                st.lists(
                    st.sampled_from(["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
                    min_size=1,
                    unique=True,
                )
            ),
        }
    operators = draw(
        st.lists(
            st.sampled_from(
                ["Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"]
            ),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    return {"Field": name, **{op: draw(values(POOLS[name])) for op in operators}}


@st.composite
def advanced_selector(draw) -> dict:
    category = draw(st.sampled_from(["Management", "Data", "NetworkActivity"]))
    statements = [{"Field": "eventCategory", "Equals": [category]}]
    if category == "Data":
        types = draw(st.lists(st.sampled_from(sorted(ARNS)), min_size=1, max_size=2, unique=True))
        statements.append({"Field": "resources.type", "Equals": types})
    if category == "NetworkActivity":
        statements.append(
            {"Field": "eventSource", "Equals": [draw(st.sampled_from(NETWORK_SOURCES))]}
        )
    names = draw(st.lists(st.sampled_from(FIELDS[category]), max_size=3, unique=True))
    statements += [draw(field_selector(category, name)) for name in names]
    return {
        "Name": f"s{draw(st.integers(0, 9))}",
        "FieldSelectors": draw(st.permutations(statements)),
    }


@st.composite
def data_resource(draw) -> dict:
    kind = draw(
        st.sampled_from(["AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"])
    )
    if kind == "AWS::S3::Object":
        chosen = draw(
            st.lists(
                st.one_of(
                    st.just("arn:aws:s3"),
                    st.just("arn:aws:s3:::"),
                    pieces(S3_ARNS).filter(lambda v: v.startswith("arn:aws:s3")),
                ),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
    elif kind == "AWS::Lambda::Function":
        chosen = draw(
            st.lists(
                st.sampled_from(("arn:aws:lambda", *FUNCTION_ARNS)),
                min_size=1,
                max_size=2,
                unique=True,
            )
        )
    else:
        chosen = ["arn:aws:dynamodb"]
    return {"Type": kind, "Values": chosen}


@st.composite
def basic_selector(draw) -> dict:
    selector: dict = {}
    if draw(st.booleans()):
        selector["ReadWriteType"] = draw(st.sampled_from(["All", "ReadOnly", "WriteOnly"]))
    if draw(st.booleans()):
        selector["IncludeManagementEvents"] = draw(st.booleans())
    if draw(st.booleans()):
        selector["ExcludeManagementEventSources"] = draw(
            st.lists(st.sampled_from(["kms.amazonaws.com", "rdsdata.amazonaws.com"]), unique=True)
        )
    selector["DataResources"] = draw(st.lists(data_resource(), max_size=2))
    return selector


def answers() -> st.SearchStrategy[dict]:
    """GetEventSelectors answers: no selectors, basic selectors or advanced ones."""
    return st.one_of(
        st.just({"EventSelectors": [], "AdvancedEventSelectors": []}),
        st.lists(basic_selector(), min_size=1, max_size=3).map(lambda s: {"EventSelectors": s}),
        st.lists(advanced_selector(), min_size=1, max_size=4).map(
            lambda s: {"AdvancedEventSelectors": s}
        ),
    )


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


@st.composite
def events(draw) -> dict:
    """An event CloudTrail could deliver to a trail in partition aws."""
    category = draw(st.sampled_from(["Management", "Data", "NetworkActivity"]))
    event = {
        "eventCategory": category,
        "eventSource": draw(st.sampled_from(POOLS["eventSource"] + NETWORK_SOURCES)),
        "eventName": draw(st.sampled_from(POOLS["eventName"])),
        "eventType": draw(st.sampled_from(POOLS["eventType"])),
        "userIdentity.arn": draw(optional(st.sampled_from(POOLS["userIdentity.arn"]))),
    }
    if category in ("Management", "Data"):
        event["readOnly"] = draw(st.sampled_from(["true", "false"]))
    if category == "Data":
        kind = draw(st.sampled_from(sorted(ARNS)))
        event["resources.type"] = kind
        event["resources.ARN"] = draw(st.sampled_from(ARNS[kind]))
        event["sessionCredentialFromConsole"] = draw(optional(st.just("true")))
    if category == "NetworkActivity":
        event["errorCode"] = draw(optional(st.sampled_from(POOLS["errorCode"])))
        event["vpcEndpointId"] = draw(st.sampled_from(POOLS["vpcEndpointId"]))
    return event


def reshaped(value: str) -> st.SearchStrategy[str]:
    """The value cut short at either end, or lengthened."""
    options = [st.just(value + "z"), st.just("z" + value)]
    if len(value) > 1:
        options += [st.integers(1, len(value) - 1).map(lambda i: value[:i])]
        options += [st.integers(1, len(value) - 1).map(lambda i: value[i:])]
    return st.one_of(options)


@st.composite
def advanced_neighbour(draw, selector: dict) -> dict:
    """An advanced selector a small step from `selector`: one value or operator changed, one
    field selector added or dropped."""
    statements = [dict(s) for s in selector["FieldSelectors"]]
    free = [
        i
        for i, s in enumerate(statements)
        if s["Field"] not in ("eventCategory", "resources.type", "readOnly")
        and not ("NotEquals" in s and s["Field"] == "eventSource")
        and s["Field"] != "sessionCredentialFromConsole"
        and not (s["Field"] == "eventSource" and "Equals" in s and len(s) == 2)
    ]
    category = statements[0]["Equals"][0] if statements[0]["Field"] == "eventCategory" else None
    edits = ["add"]
    if free:
        edits += ["value", "operator", "drop"]
    edit = draw(st.sampled_from(edits))
    if edit == "add":
        names = [n for n in FIELDS.get(category, ()) if n not in {s["Field"] for s in statements}]
        if names:
            statements.append(draw(field_selector(category, draw(st.sampled_from(names)))))
        return {**selector, "FieldSelectors": statements}
    index = draw(st.sampled_from(free))
    statement = statements[index]
    operators = [op for op in statement if op != "Field"]
    operator = draw(st.sampled_from(operators))
    if edit == "drop":
        statements.pop(index)
    elif edit == "value":
        chosen = statement[operator]
        position = draw(st.integers(0, len(chosen) - 1))
        statement[operator] = [
            *chosen[:position],
            draw(reshaped(chosen[position])),
            *chosen[position + 1 :],
        ]
    else:
        others = [
            op
            for op in (
                "Equals",
                "StartsWith",
                "EndsWith",
                "NotEquals",
                "NotStartsWith",
                "NotEndsWith",
            )
            if op not in statement
        ]
        if others:
            statement[draw(st.sampled_from(others))] = statement.pop(operator)
    return {**selector, "FieldSelectors": statements}


@st.composite
def neighbours(draw, answer: dict) -> dict:
    """An answer a few small steps from `answer`: where coverage is nearly, but not quite, true."""
    advanced = [dict(s) for s in answer.get("AdvancedEventSelectors") or []]
    basic = [dict(s) for s in answer.get("EventSelectors") or []]
    for _ in range(draw(st.integers(1, 2))):
        if advanced:
            index = draw(st.integers(0, len(advanced) - 1))
            advanced[index] = draw(advanced_neighbour(advanced[index]))
        elif basic:
            index = draw(st.integers(0, len(basic) - 1))
            basic[index] = draw(basic_neighbour(basic[index]))
    if draw(st.booleans()):
        advanced += draw(st.lists(advanced_selector(), max_size=1)) if not basic else []
    return {"AdvancedEventSelectors": advanced} if advanced else {"EventSelectors": basic}


@st.composite
def basic_neighbour(draw, selector: dict) -> dict:
    selector = dict(selector)
    edit = draw(st.sampled_from(["access", "exclude", "resource", "management"]))
    if edit == "access":
        selector["ReadWriteType"] = draw(st.sampled_from(["All", "ReadOnly", "WriteOnly"]))
    elif edit == "exclude":
        selector["ExcludeManagementEventSources"] = draw(
            st.lists(st.sampled_from(["kms.amazonaws.com", "rdsdata.amazonaws.com"]), unique=True)
        )
    elif edit == "management":
        selector["IncludeManagementEvents"] = not selector.get("IncludeManagementEvents", True)
    elif selector.get("DataResources"):
        resources = [dict(r) for r in selector["DataResources"]]
        index = draw(st.integers(0, len(resources) - 1))
        if resources[index]["Type"] == "AWS::S3::Object":
            values = resources[index]["Values"]
            resources[index]["Values"] = [
                v for v in [draw(reshaped(v)) for v in values] if v.startswith("arn:aws:s3")
            ] or values
        selector["DataResources"] = resources
    return selector


def constants(*answers: dict) -> dict[str, set[str]]:
    """Every value the answers compare each field with (basic selectors' too)."""
    found: dict[str, set[str]] = {}
    for answer in answers:
        for selector in answer.get("AdvancedEventSelectors") or []:
            for statement in selector["FieldSelectors"]:
                for operator, compared in statement.items():
                    if operator != "Field":
                        found.setdefault(statement["Field"], set()).update(compared)
        for selector in answer.get("EventSelectors") or []:
            for resource in selector.get("DataResources", []):
                found.setdefault("resources.ARN", set()).update(resource["Values"])
            excluded = selector.get("ExcludeManagementEventSources", [])
            found.setdefault("eventSource", set()).update(excluded)
    return found


PADDING = ("", "", "z", "/", "z/", "x.json.gz")


def sample_events(rng: random.Random, count: int, *answers: dict) -> list[dict]:
    """Events CloudTrail could deliver whose values are mostly those the answers compare, as
    they are or lengthened at either end: where a wrong proof would show. Drawn with `rng`
    (seeded by hypothesis), so that hundreds per example cost no hypothesis data."""
    compared = constants(*answers)
    types = sorted({*ARNS, *compared.get("resources.type", ())})

    def value(name: str, pool: tuple[str, ...]) -> str:
        known = sorted(compared.get(name, ())) or list(pool)
        if rng.random() < 0.3:
            return rng.choice(pool)
        return rng.choice(PADDING[:4]) + rng.choice(known) + rng.choice(PADDING)

    found = []
    for _ in range(count):
        category = rng.choice(["Management", "Data", "NetworkActivity"])
        event: dict = {"eventCategory": category}
        for name in ("eventSource", "eventName", "eventType", "userIdentity.arn"):
            event[name] = value(
                name, POOLS[name] + (NETWORK_SOURCES if name == "eventSource" else ())
            )
        if rng.random() < 0.2:
            event["userIdentity.arn"] = None
        if category != "NetworkActivity":
            event["readOnly"] = rng.choice(["true", "false"])
        if category == "Data":
            kind = rng.choice(types)
            event["resources.type"] = kind
            arn = value("resources.ARN", ARNS.get(kind, OTHER_ARNS))
            fits = arn.startswith(ARN_FORMATS.get(kind, "arn:"))
            event["resources.ARN"] = arn if fits else rng.choice(ARNS.get(kind, OTHER_ARNS))
            event["sessionCredentialFromConsole"] = rng.choice(["true", None])
        if category == "NetworkActivity":
            event["errorCode"] = rng.choice([None, value("errorCode", POOLS["errorCode"])])
            event["vpcEndpointId"] = value("vpcEndpointId", POOLS["vpcEndpointId"])
        found.append(event)
    return found
