import pytest

from refill.domain.lifecycle import TERMINAL, IllegalTransition, LineStatus, check_transition, is_renewable


def test_lapsed_lines_come_back_by_renewal():
    for state in (LineStatus.GRACE, LineStatus.SUSPENDED, LineStatus.DEACTIVATED, LineStatus.RETAINED):
        check_transition(state, LineStatus.ACTIVE)


def test_illegal_and_terminal_transitions_are_refused():
    with pytest.raises(IllegalTransition):
        check_transition(LineStatus.ACTIVE, LineStatus.SUSPENDED)
    for state in TERMINAL:
        with pytest.raises(IllegalTransition):
            check_transition(state, LineStatus.ACTIVE)


def test_renewable_states():
    assert is_renewable(LineStatus.GRACE)
    assert not is_renewable(LineStatus.AGING)
    assert not is_renewable(LineStatus.PORTED_OUT)
