"""The pack against a corpus of stacks, through the real Analyzer protocol: each case's policy
flags it, or does not, in every provider's shape."""

import pytest

from orgtrail.policy_check import RunningPack
from tests.support.policy_corpus import CASES, Case


@pytest.fixture(scope="module")
def pack():
    with RunningPack() as running:
        running.configure({})
        yield running


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_case(pack, case: Case):
    flagged = {verdict.policy for verdict in pack.verdicts(case.resources)}
    assert (case.policy in flagged) is case.flagged, sorted(flagged)
