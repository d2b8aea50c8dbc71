"""Run every benchmark and print one table."""

from __future__ import annotations

import sys

from . import engine


def main() -> int:
    rows = engine.run()
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'benchmark':<{width}}  {'measured':>12}  {'ratio':>7}  {'budget':>7}  verdict")
    failed = False
    for name, seconds, ratio, budget in rows:
        verdict = "" if budget is None else ("ok" if ratio <= budget else "OVER")
        failed |= verdict == "OVER"
        measured = f"{seconds * 1000:,.0f} ms"
        print(f"{name:<{width}}  {measured:>12}  {ratio:>6.2f}x  {'' if budget is None else f'{budget:.2f}x':>7}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
