"""The one exception an operator can fix (``UserError``) and the problems it carries.

Everything raised elsewhere is a bug; ``__main__`` turns a ``UserError`` into words and exit 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the input, located as precisely as we know."""

    file: str
    message: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class UserError(Exception):
    """Input the operator must fix; carries every problem found in the run, not just the first."""

    def __init__(self, summary: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = tuple(problems)

    def __str__(self) -> str:
        lines = [self.summary, *(f"  - {problem}" for problem in self.problems)]
        return "\n".join(lines)
