"""Bank statement import (银行流水导入) and repayment matching (see :mod:`.services`)."""

from __future__ import annotations

from credo.lending.statements.reading import StatementFileError, parse_statement
from credo.lending.statements.services import (
    line_ignore,
    line_match,
    line_post,
    match_line,
    post_matched,
    statement_import,
)

__all__ = [
    "StatementFileError",
    "line_ignore",
    "line_match",
    "line_post",
    "match_line",
    "parse_statement",
    "post_matched",
    "statement_import",
]
