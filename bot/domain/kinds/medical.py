"""Medical treatment approval (就医审批 / 备案): inpatient, special outpatient, out of area."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.fields import FormReader
from bot.domain.kinds.spec import LONG, FormContext, KindSpec
from bot.domain.requests import RequestKind

MAX_PLACE = 100


class TreatmentKind(StrEnum):
    INPATIENT = "inpatient"
    SPECIAL_OUTPATIENT = "special_outpatient"  # 门诊特殊病 / chronic-disease outpatient
    OUT_OF_AREA = "out_of_area"  # treatment in another city: register (备案) first
    OTHER = "other"


@dataclass(frozen=True)
class MedicalRequest:
    treatment_kind: TreatmentKind
    hospital: str
    date_from: date
    date_to: date | None
    notes: str = field(metadata=LONG)


def parse(form: FormReader, ctx: FormContext) -> MedicalRequest:
    """A treatment approval: the kind, the hospital, and the dates (within a year either
    side of today; the end, when given, not before the start)."""
    today = ctx.today
    kind = form.choice("treatment_kind", TreatmentKind)
    hospital = form.name("hospital", limit=MAX_PLACE)
    window = timedelta(days=366)
    first = form.day("date_from", earliest=today - window, latest=today + window)
    last = form.day("date_to", required=False, earliest=today - window, latest=today + 2 * window)
    if first and last and last < first:
        form.problem("date_to", "date_order", first=first.isoformat(), last=last.isoformat())
    notes = form.notes("notes")
    form.done()
    return MedicalRequest(kind, hospital, first, last, notes)


def materials(form: MedicalRequest) -> str:
    area = "out_of_area" if form.treatment_kind is TreatmentKind.OUT_OF_AREA else "any"
    return f"materials.medical.{area}"


SPEC = KindSpec(
    kind=RequestKind.MEDICAL,
    command="medical",
    form=MedicalRequest,
    parse=parse,
    materials=materials,
    sensitive=True,
)
