"""The pack against a corpus of stacks: each case's policy flags it, or does not, in every
provider's shape. Through the real Analyzer protocol (what the CLI sees) and with the same
policies called in process (what mutation testing sees)."""

import pytest

from orgtrail.offline.policy_check import RunningPack
from tests.support.policy import InProcessPack
from tests.support.policy_corpus import CASES, Case


@pytest.fixture(scope="module", params=["grpc", "in-process"])
def pack(request):
    if request.param == "in-process":
        yield InProcessPack()
        return
    with RunningPack() as running:
        running.configure({})
        yield running


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_case(pack, case: Case):
    flagged = {verdict.policy for verdict in pack.verdicts(case.resources)}
    assert (case.policy in flagged) is case.flagged, sorted(flagged)


def test_the_in_process_pack_answers_exactly_as_the_running_pack():
    in_process = InProcessPack()
    with RunningPack() as running:
        running.configure({})
        for case in CASES:
            expected = running.verdicts(case.resources)
            assert in_process.verdicts(case.resources) == expected, case.id
