"""Every action id and callback id the app uses, in one place."""

from enum import StrEnum


class ActionId(StrEnum):
    APPROVE = "request_approve"
    REJECT = "request_reject"
    DONE = "request_done"
    DETAILS = "request_details"
    REMINDER_DONE = "reminder_done"
    REMINDER_SNOOZE = "reminder_snooze"
    REMINDER_SEE_CHANGES = "reminder_see_changes"
    HELPFUL = "help_helpful"
    NOT_HELPFUL = "help_not_helpful"
    OPEN_FORM = "help_open_form"
    # The administrator's workspace (bot/handlers/workspace.py).
    HOME_OPEN_FORM = "home_open_form"
    HOME_COMMAND = "home_command"
    CHANGE_FORM_FILED = "change_form_filed"
    HANDOVER_CONFIRM = "handover_confirm"


class CallbackId(StrEnum):
    CHANGE_FORM = "change_form"
    PAYBACK_FORM = "payback_form"
    COMPLAINT_FORM = "complaint_form"
    REJECT_REASON = "reject_reason"
    CARD_FORM = "card_form"
    TRANSFER_FORM = "transfer_form"
    RETIREMENT_FORM = "retirement_form"
    UNEMPLOYMENT_FORM = "unemployment_form"
    MEDICAL_FORM = "medical_form"
    SETTLEMENT_FORM = "settlement_form"
    DOCUMENT_FORM = "document_form"


# The single action inside every input block of our forms; the block id is the field name.
FIELD_ACTION = "value"
