"""CloudTrail's event selector language: what a trail's selectors record, and proofs of coverage.

Read from the CloudTrail API reference (AdvancedEventSelector, AdvancedFieldSelector,
EventSelector, DataResource, PutEventSelectors) and the user guide ("Logging management
events", "Logging data events", "Filtering data events by using advanced event selectors",
"Logging network activity events"):

- A trail records an event when it matches any of its selectors ("if the event matches any
  event selector, the trail processes and logs the event"); a trail without selectors records
  every management event, read and write, and nothing else (EventSelector: "By default,
  trails created without specific event selectors will be configured to log all read and
  write management events, and no data events").
- An advanced selector is the conjunction of its field selectors ("Contains all selector
  statements"). A field selector holds when the event's field matches one of the values of
  its including operators (`Equals` exactly, `StartsWith`, `EndsWith`; no operator of the
  kind: any value) and none of its excluding ones (`NotEquals`, `NotStartsWith`,
  `NotEndsWith`). Selectors take no wildcards ("Selectors don't support the use of wildcards
  like *").
- `eventCategory` (required, `Equals`) is `Management`, `Data` or `NetworkActivity` on trails;
  each category takes its own fields (see TRAIL_FIELDS). `readOnly`, `eventCategory` and
  `resources.type` take `Equals` only; management `eventSource` takes `NotEquals` only
  (kms.amazonaws.com, rdsdata.amazonaws.com); network activity `eventSource` is required and
  takes `Equals` only.
- A field an event does not carry matches no including operator and every excluding one: the
  reading the reference gives for `sessionCredentialFromConsole` ("set to Equals or NotEquals
  with a value of true", the field present only on console sessions), applied to every
  optional field.
- A basic selector records management events unless `IncludeManagementEvents` is false, of
  the access in `ReadWriteType` (default `All`), except those of the sources in
  `ExcludeManagementEventSources`; and data events of its `DataResources`: S3 object ARNs by
  prefix (`arn:aws:s3` every object, `arn:aws:s3:::bucket/` one bucket), Lambda functions by
  `arn:aws:lambda` (every function) or by an exact function ARN ("Lambda function ARNs are
  exact"), DynamoDB tables by `arn:aws:dynamodb` (every table).

Conservative on the unknown: a selector with a key, field, operator, value or combination not
listed above is not read. It is named (field, operator, value), and it never counts as
recording anything; on a trail whose coverage is to be replaced it makes that trail's coverage
unprovable.

Coverage ("every event `legacy` records, `organization` records too") is decided by searching
for a counterexample: an event the legacy selectors match and no organization selector
matches. Each field is independent in the search, apart from the ARN formats of the resource
types AWS documents, so the search considers every event CloudTrail could deliver and more:
"covered" is a proof, and each gap comes with an event that shows it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

MANAGEMENT, DATA, NETWORK = "Management", "Data", "NetworkActivity"
CATEGORIES = (MANAGEMENT, DATA, NETWORK)
INCLUDING = ("Equals", "StartsWith", "EndsWith")
EXCLUDING = ("NotEquals", "NotStartsWith", "NotEndsWith")
OPERATORS = INCLUDING + EXCLUDING

# The fields a trail's advanced selector takes, per event category (API reference,
# AdvancedFieldSelector `Field` and AdvancedEventSelector; the fields listed there for event
# data stores only are not taken by trails).
TRAIL_FIELDS = {
    MANAGEMENT: ("eventCategory", "eventSource", "readOnly"),
    DATA: (
        "eventCategory",
        "eventName",
        "eventSource",
        "eventType",
        "resources.type",
        "resources.ARN",
        "readOnly",
        "sessionCredentialFromConsole",
        "userIdentity.arn",
    ),
    NETWORK: (
        "eventCategory",
        "eventSource",
        "eventName",
        "errorCode",
        "vpcEndpointId",
        "userIdentity.arn",
    ),
}
REQUIRED_FIELDS = {MANAGEMENT: (), DATA: ("resources.type",), NETWORK: ("eventSource",)}
# The operators a field takes, where the reference restricts them; every other field takes all.
FIELD_OPERATORS = {
    (MANAGEMENT, "readOnly"): ("Equals",),
    (DATA, "readOnly"): ("Equals",),
    (DATA, "resources.type"): ("Equals",),
    (MANAGEMENT, "eventSource"): ("NotEquals",),
    (NETWORK, "eventSource"): ("Equals",),
}
# Fields whose values are few and known; every other field is an arbitrary string.
FIELD_VALUES = {"readOnly": ("true", "false"), "sessionCredentialFromConsole": ("true", "false")}
# Fields an event of the category may lack (an error code only on failed calls, no user ARN
# for some service and anonymous callers, the console flag only on console sessions).
OPTIONAL_FIELDS = {
    MANAGEMENT: (),
    DATA: ("sessionCredentialFromConsole", "userIdentity.arn"),
    NETWORK: ("errorCode", "userIdentity.arn"),
}
# Where each resource type's ARNs start, so a prefix such as arn:aws:s3::: is known to hold
# every S3 object (ARN formats from the AdvancedFieldSelector `resources.ARN` reference).
ARN_STARTS = {
    "AWS::S3::Object": "arn:{partition}:s3:::",
    "AWS::Lambda::Function": "arn:{partition}:lambda:",
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:",
}
BASIC_KEYS = frozenset(
    {"ReadWriteType", "IncludeManagementEvents", "DataResources", "ExcludeManagementEventSources"}
)
ADVANCED_KEYS = frozenset({"Name", "FieldSelectors"})
ANSWER_KEYS = frozenset(
    {"TrailARN", "EventSelectors", "AdvancedEventSelectors", "ResponseMetadata"}
)
READ_WRITE = {"All": (), "ReadOnly": ("true",), "WriteOnly": ("false",)}
# A basic DataResource value for every resource of its type, in any partition (DataResource
# `Values`); Lambda takes otherwise only a whole function ARN.
_EVERY = {"AWS::Lambda::Function": "lambda", "AWS::DynamoDB::Table": "dynamodb"}
# Split a selector's alternatives into this many sub-selectors at most, to name each gap.
MAX_ALTERNATIVES = 64
# Kinds of missed events named per sub-selector and access, and counterexamples looked at.
MAX_KINDS, MAX_COUNTEREXAMPLES_TRIED = 8, 512


@dataclass(frozen=True)
class Condition:
    """One field selector: the values of each operator."""

    field: str
    equals: frozenset[str] = frozenset()
    starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    not_equals: frozenset[str] = frozenset()
    not_starts_with: tuple[str, ...] = ()
    not_ends_with: tuple[str, ...] = ()

    @property
    def including(self) -> bool:
        return bool(self.equals or self.starts_with or self.ends_with)

    def holds(self, value: str | None) -> bool:
        """Whether an event whose field is `value` (None: the event lacks it) matches."""
        if value is None:
            return not self.including
        if self.including and not (
            value in self.equals
            or any(value.startswith(p) for p in self.starts_with)
            or any(value.endswith(s) for s in self.ends_with)
        ):
            return False
        return not (
            value in self.not_equals
            or any(value.startswith(p) for p in self.not_starts_with)
            or any(value.endswith(s) for s in self.not_ends_with)
        )

    def constants(self) -> tuple[set[str], set[str], set[str]]:
        """Exact values, prefixes and suffixes this condition compares with."""
        return (
            set(self.equals | self.not_equals),
            {*self.starts_with, *self.not_starts_with},
            {*self.ends_with, *self.not_ends_with},
        )

    def alternatives(self) -> list[Condition]:
        """One condition per including value (each keeping every exclusion), or itself."""
        kept = replace(self, equals=frozenset(), starts_with=(), ends_with=())
        split = [replace(kept, equals=frozenset({v})) for v in sorted(self.equals)]
        split += [replace(kept, starts_with=(p,)) for p in self.starts_with]
        split += [replace(kept, ends_with=(s,)) for s in self.ends_with]
        return split if len(split) > 1 else [self]


@dataclass(frozen=True)
class Selector:
    """What one selector records: events of `category` meeting every condition."""

    category: str
    conditions: tuple[Condition, ...] = ()
    where: str = ""  # which selector of the trail, for reports

    def condition(self, name: str) -> Condition | None:
        return next((c for c in self.conditions if c.field == name), None)

    def matches(self, event: Mapping[str, str | None]) -> bool:
        return event.get("eventCategory") == self.category and all(
            c.holds(event.get(c.field)) for c in self.conditions
        )


@dataclass
class Selectors:
    """A trail's selectors as read, and each one (or the whole answer) that could not be."""

    read: list[Selector] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


class Unreadable(ValueError):
    """Why a selector is not read: it names the key, field, operator or value."""


# --- reading ---------------------------------------------------------------------------------


def read_selectors(answer: Mapping, partition: str = "aws") -> Selectors:
    """A GetEventSelectors answer, of a trail in `partition`, as selectors, naming whatever
    cannot be read."""
    found = Selectors()
    if not isinstance(answer, Mapping):
        found.unreadable.append("the event selectors are not an object")
        return found
    unknown = sorted(set(answer) - ANSWER_KEYS)
    if unknown:
        # An unknown key beside the selectors could change what all of them mean.
        found.unreadable.append(f"the event selectors have {', '.join(unknown)}, not modelled")
        return found
    basic = answer.get("EventSelectors") or []
    advanced = answer.get("AdvancedEventSelectors") or []
    if not isinstance(basic, list) or not isinstance(advanced, list):
        found.unreadable.append("the event selectors are not lists")
        return found
    if basic and advanced:
        found.unreadable.append(
            "the trail has both basic and advanced event selectors, which CloudTrail refuses"
        )
        return found
    if not basic and not advanced:
        found.read.append(Selector(MANAGEMENT, where="no event selectors (CloudTrail's default)"))
        return found
    for index, selector in enumerate(basic, 1):
        where = f"event selector {index}"
        try:
            found.read += _basic(selector, where, partition)
        except Unreadable as problem:
            found.unreadable.append(f"{where}: {problem}")
    for index, selector in enumerate(advanced, 1):
        name = selector.get("Name") if isinstance(selector, Mapping) else None
        where = f"advanced selector {name!r}" if name else f"advanced selector {index}"
        try:
            found.read.append(_advanced(selector, where))
        except Unreadable as problem:
            found.unreadable.append(f"{where}: {problem}")
    return found


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise Unreadable(f"{what} is {value!r}, not a list of strings")
    return value


def _access(read_only: Sequence[str]) -> tuple[Condition, ...]:
    return (Condition("readOnly", equals=frozenset(read_only)),) if read_only else ()


def _basic(selector: object, where: str, partition: str) -> list[Selector]:
    if not isinstance(selector, Mapping):
        raise Unreadable(f"{selector!r} is not an object")
    unknown = sorted(set(selector) - BASIC_KEYS)
    if unknown:
        raise Unreadable(f"{', '.join(unknown)} is not modelled")
    kind = selector.get("ReadWriteType", "All")
    if kind not in READ_WRITE:
        raise Unreadable(f"ReadWriteType {kind!r} is not All, ReadOnly or WriteOnly")
    access = _access(READ_WRITE[kind])
    include = selector.get("IncludeManagementEvents", True)
    if not isinstance(include, bool):
        raise Unreadable(f"IncludeManagementEvents {include!r} is not true or false")
    excluded = selector.get("ExcludeManagementEventSources") or []
    if excluded:
        excluded = _strings(excluded, "ExcludeManagementEventSources")
    found = []
    if include:
        sources = (Condition("eventSource", not_equals=frozenset(excluded)),) if excluded else ()
        found.append(Selector(MANAGEMENT, access + sources, f"{where}, management events"))
    resources = selector.get("DataResources") or []
    if not isinstance(resources, list):
        raise Unreadable(f"DataResources {resources!r} is not a list")
    for resource in resources:
        found.append(_data_resource(resource, access, where, partition))
    return found


def _data_resource(
    resource: object, access: tuple[Condition, ...], where: str, partition: str
) -> Selector:
    if not isinstance(resource, Mapping) or set(resource) - {"Type", "Values"}:
        raise Unreadable(f"DataResources entry {resource!r} is not {{Type, Values}}")
    kind = resource.get("Type")
    values = _strings(resource.get("Values"), f"the Values of DataResources {kind}")
    # A value of another partition ("arn:aws:s3" on a GovCloud trail) may or may not be read as
    # that partition's by CloudTrail: the reference does not say, so neither reading is taken.
    foreign = [v for v in values if not v.startswith(f"arn:{partition}:")]
    if foreign:
        raise Unreadable(
            f"DataResources {kind} values {foreign} are not ARNs of the trail's partition "
            f"({partition}), which is not modelled"
        )
    if kind == "AWS::S3::Object":
        arn = Condition("resources.ARN", starts_with=tuple(values))
    elif kind in _EVERY:
        every = [v for v in values if _every_resource(v, _EVERY[kind])]
        exact = [v for v in values if v not in every]
        if any(kind != "AWS::Lambda::Function" or not _function_arn(v) for v in exact):
            raise Unreadable(
                f"DataResources {kind} values {exact}: only arn:<partition>:{_EVERY[kind]}"
                + (" or a whole function ARN" if kind == "AWS::Lambda::Function" else "")
                + " are modelled"
            )
        arn = Condition("resources.ARN", equals=frozenset(exact), starts_with=tuple(every))
    else:
        raise Unreadable(
            f"DataResources Type {kind!r} is not one basic selectors take "
            "(AWS::S3::Object, AWS::Lambda::Function, AWS::DynamoDB::Table)"
        )
    type_is = Condition("resources.type", equals=frozenset({kind}))
    return Selector(DATA, (type_is, arn, *access), f"{where}, {kind} data events")


def _every_resource(value: str, service: str) -> bool:
    parts = value.split(":")
    return len(parts) == 3 and parts[0] == "arn" and parts[1] and parts[2] == service


def _function_arn(value: str) -> bool:
    parts = value.split(":")
    return len(parts) in (7, 8) and parts[2] == "lambda" and parts[5] == "function" and all(parts)


def _advanced(selector: object, where: str) -> Selector:
    if not isinstance(selector, Mapping):
        raise Unreadable(f"{selector!r} is not an object")
    unknown = sorted(set(selector) - ADVANCED_KEYS)
    if unknown:
        raise Unreadable(f"{', '.join(unknown)} is not modelled")
    statements = selector.get("FieldSelectors")
    if not isinstance(statements, list) or not statements:
        raise Unreadable("it has no field selectors")
    conditions: dict[str, Condition] = {}
    for statement in statements:
        condition = _field_selector(statement)
        if condition.field in conditions:
            raise Unreadable(f"{condition.field} appears twice, which is not modelled")
        conditions[condition.field] = condition
    category = _category(conditions.pop("eventCategory", None))
    for name, condition in conditions.items():
        if name not in TRAIL_FIELDS[category]:
            raise Unreadable(f"{name} is not a field of {category} selectors on trails")
        allowed = FIELD_OPERATORS.get((category, name), OPERATORS)
        used = _operators(condition)
        if set(used) - set(allowed):
            raise Unreadable(
                f"{name} {'/'.join(used)} is not a form CloudTrail takes for {category} "
                f"selectors (only {'/'.join(allowed)})"
            )
        if name in FIELD_VALUES:
            values = condition.constants()[0]
            if values - set(FIELD_VALUES[name]):
                raise Unreadable(
                    f"{name} {sorted(values)} is not {' or '.join(FIELD_VALUES[name])}"
                )
    for name in REQUIRED_FIELDS[category]:
        if name not in conditions:
            raise Unreadable(f"a {category} selector without {name}, which CloudTrail requires")
    return Selector(category, tuple(conditions.values()), where)


def _field_selector(statement: object) -> Condition:
    if not isinstance(statement, Mapping) or not isinstance(statement.get("Field"), str):
        raise Unreadable(f"field selector {statement!r} has no Field")
    name = statement["Field"]
    unknown = sorted(set(statement) - {"Field", *OPERATORS})
    if unknown:
        raise Unreadable(f"{name} with {', '.join(unknown)}, an operator not modelled")
    values = {op: _strings(statement[op], f"{name} {op}") for op in OPERATORS if op in statement}
    if not values:
        raise Unreadable(f"{name} has no operator")
    return Condition(
        name,
        equals=frozenset(values.get("Equals", ())),
        starts_with=tuple(values.get("StartsWith", ())),
        ends_with=tuple(values.get("EndsWith", ())),
        not_equals=frozenset(values.get("NotEquals", ())),
        not_starts_with=tuple(values.get("NotStartsWith", ())),
        not_ends_with=tuple(values.get("NotEndsWith", ())),
    )


def _operators(condition: Condition) -> list[str]:
    present = (
        condition.equals,
        condition.starts_with,
        condition.ends_with,
        condition.not_equals,
        condition.not_starts_with,
        condition.not_ends_with,
    )
    return [op for op, values in zip(OPERATORS, present, strict=True) if values]


def _category(condition: Condition | None) -> str:
    if condition is None:
        raise Unreadable("it has no eventCategory, which CloudTrail requires")
    values = sorted(condition.equals)
    if _operators(condition) != ["Equals"] or len(values) != 1 or values[0] not in CATEGORIES:
        raise Unreadable(
            f"eventCategory {'/'.join(_operators(condition))} {values} is not Equals one of "
            f"{', '.join(CATEGORIES)}"
        )
    return values[0]


# --- coverage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """Events one trail records and the other does not, shown by one event per access."""

    events: tuple[dict[str, str | None], ...]
    text: str


def gaps(
    legacy: Iterable[Selector],
    organization: Iterable[Selector],
    partition: str = "aws",
    accepted: Sequence[str] = (),
) -> list[Gap]:
    """What `legacy` records that `organization` does not, each shown by events.

    `accepted`: ARN prefixes the organization trail leaves out of data events on purpose
    (its own log buckets); a legacy selector that names one of them keeps it.
    """
    legacy, organization = list(legacy), list(organization)
    fill = _fill(legacy, organization)
    found: list[Gap] = []
    for selector in legacy:
        for part in _parts(selector):
            events = _counterexamples(
                _without_accepted(part, accepted), organization, partition, fill
            )
            for group in _same_but_access(events):
                text = describe(group, organization, partition, fill)
                if text not in {gap.text for gap in found}:
                    found.append(Gap(tuple(group), text))
    return found


def _same_but_access(events: list[dict[str, str | None]]) -> list[list[dict[str, str | None]]]:
    """Counterexamples grouped when they differ only in readOnly (a read and a write)."""
    groups: list[list[dict[str, str | None]]] = []
    for event in events:
        rest = {k: v for k, v in event.items() if k != "readOnly"}
        for group in groups:
            if {k: v for k, v in group[0].items() if k != "readOnly"} == rest:
                group.append(event)
                break
        else:
            groups.append([event])
    return groups


def _parts(selector: Selector) -> list[Selector]:
    """The selector split into one sub-selector per alternative, so each gap is named."""
    options = [c.alternatives() for c in selector.conditions]
    count = 1
    for option in options:
        count *= len(option)
    if count > MAX_ALTERNATIVES:
        return [selector]
    return [replace(selector, conditions=tuple(combo)) for combo in itertools.product(*options)]


def _without_accepted(selector: Selector, accepted: Sequence[str]) -> Selector:
    arn = selector.condition("resources.ARN")
    if selector.category != DATA or not accepted:
        return selector
    named = [*(arn.equals | set(arn.starts_with)), *arn.ends_with] if arn else []
    # A legacy selector that asks for objects under an accepted prefix still needs them.
    left_out = tuple(a for a in accepted if not any(v.startswith(a) for v in named))
    if not left_out:
        return selector
    arn = arn or Condition("resources.ARN")
    arn = replace(arn, not_starts_with=(*arn.not_starts_with, *left_out))
    others = tuple(c for c in selector.conditions if c.field != "resources.ARN")
    return replace(selector, conditions=(*others, arn))


def _fill(*selector_lists: Sequence[Selector]) -> str:
    """A character no selector value contains: the arbitrary part of a counterexample's value."""
    used = set()
    for selector in itertools.chain(*selector_lists):
        for condition in selector.conditions:
            for values in condition.constants():
                for value in values:
                    used |= set(value)
    candidates = itertools.chain("…⋯¤", map(chr, range(0xE000, 0xF900)))
    return next(c for c in candidates if c not in used)


def _values(
    name: str,
    conditions: Sequence[Condition],
    fill: str,
    optional: bool,
    prefixes: Iterable[str] = (),
) -> list[str | None]:
    """Values of `name` standing for every value an event could have.

    Two values that agree on every comparison the conditions make are alike to every
    selector, so one of each kind is enough. A value that is not one of the exact values and
    whose longest matching prefix and suffix among the conditions' are P and S agrees with
    P + fill + S: `fill` occurs in no value, so no longer prefix, suffix or exact value can
    match it. The exact values, and P + fill + S for every such P and S, are therefore every
    kind there is.
    """
    if name in FIELD_VALUES:
        found: list[str | None] = list(FIELD_VALUES[name])
    else:
        exact, starts, ends = set(), set(prefixes), set()
        for condition in conditions:
            e, s, t = condition.constants()
            exact |= e | s | t  # a prefix or suffix may also be a whole value
            starts |= s
            ends |= t
        generic = sorted(
            ((p, s) for p in {"", *starts} for s in {"", *ends}),
            key=lambda ps: (len(ps[0]) + len(ps[1]), ps),
        )
        found = [p + fill + s for p, s in generic] + sorted(exact)
    return [*found, None] if optional else found


def _counterexamples(
    legacy: Selector, organization: Sequence[Selector], partition: str, fill: str
) -> list[dict[str, str | None]]:
    """Events `legacy` matches and no selector of `organization` does (none: covered), for
    each access (read, write): one of each kind the organization trail misses, a few kinds at
    most."""
    rivals = [s for s in organization if s.category == legacy.category]
    accesses: list[str | None] = ["true", "false"] if legacy.category != NETWORK else [None]
    found = []
    for access in accesses:
        kinds: list[dict[str, str | None]] = []
        for event in itertools.islice(
            _search(legacy, rivals, partition, fill, access), MAX_COUNTEREXAMPLES_TRIED
        ):
            # The search tries the most general values first: a later event that an earlier
            # one's values already stand for is the same gap.
            if not any(_stands_for(kind, event, fill) for kind in kinds):
                kinds.append(event)
            if len(kinds) == MAX_KINDS:
                break
        found += kinds
    return found


def _stands_for(general: Mapping, specific: Mapping, fill: str) -> bool:
    """Whether every value of `specific` is one `general`'s values stand for (`fill`: any text)."""
    if general.keys() != specific.keys():
        return False
    for name, value in specific.items():
        pattern = general[name]
        if pattern == value:
            continue
        if pattern is None or value is None or fill not in pattern:
            return False
        prefix, suffix = pattern.split(fill, 1)
        if len(value) < len(prefix) + len(suffix) or not (
            value.startswith(prefix) and value.endswith(suffix)
        ):
            return False
    return True


def _search(
    legacy: Selector,
    rivals: Sequence[Selector],
    partition: str,
    fill: str,
    access: str | None,
) -> Iterator[dict[str, str | None]]:
    """Every event (one of each kind of value) `legacy` matches and no rival does."""
    category = legacy.category
    names = {c.field for s in (legacy, *rivals) for c in s.conditions}
    if category == DATA:
        names |= {"resources.type", "resources.ARN"}
    if access is not None:
        names.add("readOnly")
    domain = {t: start.format(partition=partition) for t, start in ARN_STARTS.items()}
    choices: dict[str, list[str | None]] = {}
    for name in sorted(names):
        conditions = [c for s in (legacy, *rivals) for c in s.conditions if c.field == name]
        prefixes = domain.values() if name == "resources.ARN" else ()
        optional = name in OPTIONAL_FIELDS[category]
        values = _values(name, conditions, fill, optional, prefixes)
        if name == "readOnly" and access is not None:
            values = [access]
        own = legacy.condition(name)
        choices[name] = [v for v in values if own is None or own.holds(v)]
    order = sorted(choices, key=lambda n: len(choices[n]))

    def fits(event: dict[str, str | None]) -> bool:
        kind, arn = event.get("resources.type"), event.get("resources.ARN")
        start = domain.get(kind or "")
        return category != DATA or start is None or (arn or "").startswith(start)

    def assign(index: int, event: dict, alive: list[Selector]) -> Iterator[dict]:
        if index == len(order):
            if not alive and fits(event):
                yield {"eventCategory": category, **event}
            return
        name = order[index]
        assigned = set(order[: index + 1])
        for value in choices[name]:
            event[name] = value
            left = [s for s in alive if (c := s.condition(name)) is None or c.holds(value)]
            # A rival whose every condition is met already matches whatever comes next.
            if any({c.field for c in s.conditions} <= assigned for s in left):
                continue
            yield from assign(index + 1, event, left)
        event.pop(name, None)

    if any(not s.conditions for s in rivals):
        return iter(())
    return assign(0, {}, list(rivals))


# --- reports ---------------------------------------------------------------------------------

_ACCESS = {"true": "read", "false": "write"}
KIND_FIELDS = {DATA: "resources.type", NETWORK: "eventSource"}


def describe(
    events: Sequence[Mapping[str, str | None]],
    organization: Sequence[Selector],
    partition: str = "aws",
    fill: str = "…",
) -> str:
    """A gap in words: the kind of its events, their access, and each value the organization
    trail misses. `events` differ at most in readOnly."""
    event = events[0]
    category = event["eventCategory"]
    access = " and ".join(
        sorted({_ACCESS[e["readOnly"]] for e in events if e.get("readOnly") in _ACCESS})
    )
    if category == MANAGEMENT:
        text = f"{access} management events"
    elif category == DATA:
        text = f"{access} {event.get('resources.type')} data events"
    else:
        text = "network activity events"
    starts = [start.format(partition=partition) for start in ARN_STARTS.values()]
    # The organization's selectors of the same kind (resource type, network source): what
    # each of them compares a missed value with is why it misses the event.
    kind = KIND_FIELDS.get(category)
    rivals = [
        s
        for s in organization
        if s.category == category
        and (kind is None or (c := s.condition(kind)) is None or c.holds(event.get(kind)))
    ]
    places, details = [], []
    for name, value in event.items():
        if name in ("eventCategory", "readOnly", "resources.type"):
            continue
        compared = [
            c for s in rivals if (c := s.condition(name)) is not None and not c.holds(value)
        ]
        place, detail = _value_phrases(
            name, value, compared, fill, starts if name == "resources.ARN" else []
        )
        places += [place] if place else []
        details += [detail] if detail else []
    text = " ".join([text.strip(), *places])
    return f"{text} ({', '.join(details)})" if details else text


def _value_phrases(
    name: str, value: str | None, compared: Sequence[Condition], fill: str, starts: Sequence[str]
) -> tuple[str, str]:
    """Where a missed event's value is (from, under, on), and what else about it is missed.

    `compared`: the organization trail's conditions on the field that the value fails; the
    values they include, which this one is not, are named (those it fails by being excluded
    are named by the value itself)."""
    if value is None:
        return "", f"without {name}"
    # Only what could be the value, given what is known of it: under P, the values in P.
    known = value.split(fill, 1)[0] if fill in value else value
    including = sorted(
        {
            *(e for c in compared for e in c.equals if e.startswith(known)),
            *(f"{p}…" for c in compared for p in c.starts_with if p.startswith(known)),
            *(f"…{s}" for c in compared for s in c.ends_with),
        }
    )
    other_than = f"{name} other than {', '.join(including)}" if including else ""
    if fill not in value:
        if name == "eventSource":
            return f"from {value}", ""
        return (f"on {value}", "") if name == "resources.ARN" else ("", f"{name} {value}")
    prefix, suffix = value.split(fill, 1)
    if prefix in ("", *starts) and not suffix:
        return "", other_than  # any value: worth naming only when the organization compares it
    if name == "resources.ARN" and not suffix:
        return f"under {prefix}", other_than
    return "", f"{name} {prefix}…{suffix}"
