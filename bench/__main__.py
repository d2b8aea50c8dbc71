"""Run every benchmark and print one table (`make bench`); exit 1 if a budget is exceeded."""

from __future__ import annotations

import sys

from . import dashboard, engine, export, fairness, form_page, jobs, load, pages
from .report import print_table


def main() -> int:
    rows = engine.run() + fairness.run() + form_page.run() + dashboard.run() + pages.run() + export.run() + jobs.run() + load.run()
    return 0 if print_table(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
