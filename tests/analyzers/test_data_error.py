"""data_error: the job ran, but the rows it read or loaded were malformed."""

from __future__ import annotations

import pytest

from analyzers import data_error
from tests.analyzers._build import HEALTHY, Case, check_case

CASES = [
    Case(
        "postgres COPY names the row (server in another language)",
        (
            'psql:load.sql:31: 错误:  无效的整数类型输入语法: "2184-01-06 11:51:00"',
            '背景:  COPY admissions, line 2, column hadm_id: "2184-01-06 11:51:00"',
        ),
        "COPY_ROW",
    ),
    Case(
        "postgres COPY file format",
        ("ERROR:  extra data after last expected column", "CONTEXT:  COPY users, line 7"),
        "CSV_PARSE",
    ),
    Case(
        "a COPY that succeeded",
        ("COPY 1500", "copy users from stdin done, line count 1500"),
        None,
    ),
    Case(
        "mysql truncation",
        ("ERROR 1265 (01000): Data truncated for column 'price' at row 3",),
        "VALUE_RANGE",
    ),
    Case(
        "postgres enum value",
        ('ERROR:  invalid input value for enum order_status: "shipped "',),
        "VALUE_PARSE",
    ),
    Case("enum created", ("CREATE TYPE order_status AS ENUM",), None),
    Case("healthy run", HEALTHY, None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_data_error(case: Case) -> None:
    check_case(case, data_error.analyze)
