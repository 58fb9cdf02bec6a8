"""Every action id and callback id the app uses, in one place."""

from enum import StrEnum


class ActionId(StrEnum):
    APPROVE = "request_approve"
    REJECT = "request_reject"
    DONE = "request_done"
    DETAILS = "request_details"


class CallbackId(StrEnum):
    CHANGE_FORM = "change_form"
    PAYBACK_FORM = "payback_form"
    COMPLAINT_FORM = "complaint_form"
    REJECT_REASON = "reject_reason"


# The single action inside every input block of our forms; the block id is the field name.
FIELD_ACTION = "value"
