"""Request kinds and the state machine every request goes through.

A request is submitted, then an administrator approves it and marks it done, or rejects
it; the requester may cancel it while it is still submitted. Nothing is ever deleted.
What differs by kind (its form, its rules) is in :mod:`bot.domain.kinds`.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import Refused


class RequestKind(StrEnum):
    CHANGE = "change"
    PAYBACK = "payback"
    COMPLAINT = "complaint"
    CARD = "card"
    TRANSFER = "transfer"
    RETIREMENT = "retirement"
    UNEMPLOYMENT = "unemployment"
    MEDICAL = "medical"
    SETTLEMENT = "settlement"
    CORRECTION = "correction"


class State(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DONE = "done"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


OPEN_STATES = (State.SUBMITTED, State.APPROVED)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    DONE = "done"
    CANCEL = "cancel"


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.APPROVE: (frozenset({State.SUBMITTED}), State.APPROVED),
    Action.REJECT: (frozenset({State.SUBMITTED, State.APPROVED}), State.REJECTED),
    Action.DONE: (frozenset({State.APPROVED}), State.DONE),
    Action.CANCEL: (frozenset({State.SUBMITTED}), State.CANCELLED),
}
ADMIN_ACTIONS = frozenset({Action.APPROVE, Action.REJECT, Action.DONE})


def next_state(current: State, action: Action) -> State:
    """The state ``action`` leads to from ``current``; Refused when the move is not allowed."""
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        raise Refused("transition_not_allowed", action=action.value, state=current.value)
    return target
