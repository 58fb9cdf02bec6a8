"""bot/xlsx.py writes workbooks that openpyxl (and so Excel) reads back as written: IDs as
text, amounts as numbers shown with two decimals, a bold header, any text escaped."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from bot.xlsx import Sheet, workbook


def test_a_workbook_reads_back_as_written():
    rows = [
        ["Name", "Resident ID", "Base", "Count", "When", "Note"],
        ['张三 <b> & "co"', "11010519491231002X", Decimal("9000.50"), 3, date(2026, 11, 1), "bell\x07 gone"],
        ["李四", "110105194912310021", Decimal("-0.01"), None, "", "x" * 40],
    ]
    content = workbook(
        [
            Sheet("2026-11", rows, text_columns=(1,), widths={0: 16}),
            Sheet("A very long sheet name that Excel would refuse", [["k", Decimal("1.00")]], header=False),
        ]
    )
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["2026-11", "A very long sheet name that Exc"]
    sheet = book["2026-11"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1][:4] == ['张三 <b> & "co"', "11010519491231002X", 9000.5, 3]
    assert values[1][4:] == ["2026-11-01", "bell gone"]
    assert values[2][1] == "110105194912310021"  # a text cell: all 18 digits
    assert values[2][2] == -0.01 and values[2][3] is None
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet["B2"].number_format == "@" and sheet["C2"].number_format == "#,##0.00"
    assert sheet.column_dimensions["A"].width == 16
    assert book.worksheets[1]["B1"].value == 1 and not book.worksheets[1]["A1"].font.b
