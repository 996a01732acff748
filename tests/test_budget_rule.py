"""The one budget rule (core.errors.check_budget) that the gateway and the session's event stream both apply."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import BudgetExceededError, check_budget


def test_no_budget_or_money_left_raises_nothing() -> None:
    check_budget(0.0, 99.0)
    check_budget(1.0, 0.99, session_id="s1")


@pytest.mark.parametrize(("session_id", "message"), [
    (None, "the model budget of $1.00 is used up (spent $1.2500)"),
    ("s1", "the model budget of $1.00 is used up by session s1 (spent $1.2500 so far)"),
])
def test_a_spent_budget_names_what_was_spent_and_the_fix(session_id: str | None, message: str) -> None:
    with pytest.raises(BudgetExceededError) as caught:
        check_budget(1.0, 1.25, session_id=session_id)
    assert caught.value.message == message
    assert caught.value.hint == "raise budget_usd or --budget-usd"
