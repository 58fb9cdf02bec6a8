"""Who reads a message where it lands, which decides what it may show."""

from enum import StrEnum


class Audience(StrEnum):
    PRIVATE = "private"  # one entitled person (an administrator, the person concerned): data whole
    SHARED = "shared"  # a channel: resident ID numbers, amounts and private facts masked
