"""Every action id and callback id the app uses, in one place: the listeners register
these, and the templates (``messages/blocks``) write them as ``{{ ids.APPROVE }}``, so an
id has one spelling. A test checks that each id in a template has a listener and each
listener's id is in some template."""

from enum import StrEnum

from bot.domain.requests import RequestKind


class ActionId(StrEnum):
    APPROVE = "request_approve"
    REJECT = "request_reject"
    DONE = "request_done"
    DETAILS = "request_details"
    WITHDRAW = "request_withdraw"  # the requester, from the receipt
    CONTACT_ADMIN = "request_contact_admin"  # the requester, from a rejection
    ADMIN_REMOVE = "admin_remove"  # /si admin remove, confirmed
    REMINDER_DONE = "reminder_done"
    REMINDER_SNOOZE = "reminder_snooze"
    REMINDER_SEE_CHANGES = "reminder_see_changes"
    REMINDER_EXPORT_FORM = "reminder_export_change_form"
    HELPFUL = "help_helpful"
    NOT_HELPFUL = "help_not_helpful"
    OPEN_FORM = "help_open_form"
    # The topics offered with an answer: one id a button, as ids are unique within a block.
    OFFER_1 = "help_offer_1"
    OFFER_2 = "help_offer_2"
    OFFER_3 = "help_offer_3"
    TEACH = "help_teach"
    TEACH_TOPIC = "help_teach_topic"  # the topic select the Teach button reads
    TEACH_NEW = "help_teach_new"
    HOME_OPEN_FORM = "home_open_form"
    HOME_COMMAND = "home_command"
    HOME_OPEN_FORM_MORE = "home_open_form_more"  # App Home's "More…" select of the other forms
    HOME_WAITING = "home_waiting"  # the overflow of a waiting request: approve / details
    LIST_PAGE = "list_page"  # the newer page of a request list (value: the keyset)
    LIST_PAGE_OLDER = "list_page_older"  # the older page (ids are unique within a block)
    LIST_KIND = "list_kind"  # the list modal's kind select (value: the whole filter)
    LIST_STATE = "list_state"  # the list modal's state select (value: the whole filter)
    CHANGE_FORM_FILED = "change_form_filed"
    HANDOVER_CONFIRM = "handover_confirm"
    RECORD_PAYMENT = "payment_record"
    DIFFERENCE_ACTION = "bill_difference"
    EXPLAIN_ROUNDING = "bill_explain_rounding"
    STATEMENT_CONFIRM = "statement_confirm"
    STATEMENT_DISPUTE = "statement_dispute"
    CORRECT_WAGE = "roster_correct_wage"
    BASES_OVERRIDE = "bases_override"
    BASES_LOCK = "bases_lock"
    BASES_RESOLVE = "bases_resolve"
    BASES_CONFIRM = "bases_confirm"
    BASES_DISPUTE = "bases_dispute"
    # A form's choice that redraws it (the fields that apply change): dispatch_action.
    FORM_REDRAW = "form_redraw"


class CallbackId(StrEnum):
    REJECT_REASON = "reject_reason"
    CONTACT_ADMIN = "request_contact_admin_form"
    DOCUMENT_FORM = "document_form"
    PAYMENT_FORM = "payment_form"
    DIFFERENCE_EXPLAIN = "bill_difference_explain"
    DIFFERENCE_REQUEST = "bill_difference_request"
    STATEMENT_DISPUTE_FORM = "statement_dispute_form"
    WAGE_CORRECTION = "wage_correction"
    TEACH_NEW_TOPIC = "help_teach_new_topic"
    BASES_OVERRIDE_FORM = "bases_override_form"
    BASES_RESOLVE_FORM = "bases_resolve_form"
    BASES_DISPUTE_FORM = "bases_dispute_form"


OFFERS = (ActionId.OFFER_1, ActionId.OFFER_2, ActionId.OFFER_3)

# The single action inside every input block of our forms; the block id is the field name.
FIELD_ACTION = "value"


def form_callback(kind: RequestKind) -> str:
    """The callback id of the modal that files a request of ``kind``."""
    return f"{kind.value}_form"


FORM_CALLBACKS = {form_callback(kind): kind for kind in RequestKind}
