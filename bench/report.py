"""One table for every benchmark: what was measured, its ratio to the baseline, and the budget."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    name: str
    measured: str
    ratio: float
    budget: float | None
    """The largest ratio allowed; None for a baseline or a row shown for comparison."""
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return ""
        return "ok" if self.ratio <= self.budget else "OVER"


def print_table(rows: list[Row]) -> bool:
    """Print the table; True if every row is within its budget."""
    width = max(len(r.name) for r in rows)
    print()
    print(f"{'benchmark':<{width}}  {'measured':>14}  {'ratio':>7}  {'budget':>7}  verdict")
    for r in rows:
        budget = "" if r.budget is None else f"{r.budget:.2f}x"
        note = f"  ({r.note})" if r.note else ""
        print(f"{r.name:<{width}}  {r.measured:>14}  {r.ratio:>6.2f}x  {budget:>7}  {r.verdict}{note}")
    return all(r.verdict != "OVER" for r in rows)
