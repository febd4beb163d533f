"""The coverage proof of `orgtrail.ops.selectors`, checked against a literal reading of one event at
a time (tests/support/selector_oracle.py) over selectors and events drawn from the grammar.

`make test` runs a bounded, seeded number of examples; `tools/selector_search.py` runs the
same properties for as long as it is given.
"""

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgtrail.ops.selectors import ARN_STARTS, gaps, read_selectors
from tests.support.selector_oracle import records
from tests.support.selector_strategies import answers, neighbours, sample_events

# tools/selector_search.py sets ORGTRAIL_SELECTOR_EXAMPLES for a long search with fresh seeds.
LONG_SEARCH = os.environ.get("ORGTRAIL_SELECTOR_EXAMPLES")
BOUNDED = settings(
    max_examples=int(LONG_SEARCH or 400),
    derandomize=not LONG_SEARCH,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ACCEPTED = ("arn:aws:s3:::logs/",)
SAMPLE = 300  # events tried against each proof of coverage


def realistic(event: dict) -> bool:
    """A counterexample is an event CloudTrail could deliver: its ARN fits its resource type."""
    start = ARN_STARTS.get(event.get("resources.type") or "")
    return start is None or event["resources.ARN"].startswith(start.format(partition="aws"))


def proven(legacy: dict, organization: dict, accepted=()) -> list:
    read = read_selectors(legacy)
    assert read.unreadable == []  # the strategies draw only what CloudTrail accepts
    return gaps(read.read, read_selectors(organization).read, "aws", accepted)


def organization_for(legacy: dict) -> st.SearchStrategy[dict]:
    """Any answer, or one a few small steps from the legacy trail's: nearly covering it."""
    return st.one_of(answers(), neighbours(legacy))


@BOUNDED
@given(answers(), st.data())
def test_covered_means_every_event_the_legacy_trail_records_is_recorded(legacy, data):
    org = data.draw(organization_for(legacy))
    if proven(legacy, org):
        return
    for event in sample_events(random.Random(data.draw(st.integers())), SAMPLE, legacy, org):
        assert not records(legacy, event) or records(org, event), event


@BOUNDED
@given(answers(), st.data())
def test_every_gap_is_shown_by_an_event_only_the_legacy_trail_records(legacy, data):
    org = data.draw(organization_for(legacy))
    for gap in proven(legacy, org):
        for event in gap.events:
            assert records(legacy, event), (gap.text, event)
            assert not records(org, event), (gap.text, event)
            assert realistic(event), (gap.text, event)


@BOUNDED
@given(answers(), st.data())
def test_accepted_exclusions_leave_out_only_what_they_name(legacy, data):
    org = data.draw(organization_for(legacy))
    if proven(legacy, org, ACCEPTED):
        return
    for event in sample_events(random.Random(data.draw(st.integers())), SAMPLE, legacy, org):
        if records(legacy, event) and not records(org, event):
            assert event["resources.ARN"].startswith(ACCEPTED), event


@BOUNDED
@given(answers())
def test_every_trail_covers_itself(answer):
    assert proven(answer, answer) == []
