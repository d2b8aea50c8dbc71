"""Long lists one page at a time: a query's rows for one page, and how many pages the whole set has.

A national edition lists thousands of institutions, contacts or people; a page shows PAGE_SIZE of
them and counts the rest in SQL, so that the server never loads or renders rows nobody sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from .extensions import db

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    """1-based; a number past the end is brought back to the last page."""
    total: int
    """Rows in the whole (filtered) set."""
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)

    @property
    def first(self) -> int:
        """Position (1-based) of the page's first row in the whole set; 0 when it is empty."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.number * self.size, self.total)

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to offer: the first, the last and a few around this one; None for a gap."""
        shown = sorted({1, self.pages, *range(max(1, self.number - around), min(self.pages, self.number + around) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def clamp(number: int | None, total: int, size: int = PAGE_SIZE) -> int:
    """A requested page number within 1..pages."""
    return min(max(number or 1, 1), max((total + size - 1) // size, 1))


def paginate(query: sa.Select[Any], number: int | None, size: int = PAGE_SIZE, scalars: bool = True) -> Page[Any]:
    """One page of an ordered SELECT, and the count of the whole set: two statements."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    number = clamp(number, total, size)
    paged = query.limit(size).offset((number - 1) * size)
    items = list(db.session.scalars(paged)) if scalars else list(db.session.execute(paged).all())
    return Page(items, number, total, size)


def of_list(rows: Sequence[T], number: int | None, size: int = PAGE_SIZE) -> Page[T]:
    """One page of rows already in memory (a result the engine computed whole)."""
    number = clamp(number, len(rows), size)
    return Page(rows[(number - 1) * size:number * size], number, len(rows), size)


def institution_matches(text: str) -> sa.ColumnElement[bool]:
    """Institutions whose name or town contains `text`, case folded in Python as the institutions page
    compares them (SQLite's LIKE folds ASCII letters only, not Ł or Ż): one light query of names."""
    from .institution_import import normalise
    from .models import Institution

    needle = normalise(text)
    ids = [i for i, name, city in db.session.execute(sa.select(Institution.id, Institution.name, Institution.city))
           if needle in normalise(name) or needle in normalise(city)]
    return Institution.id.in_(ids)


@dataclass(frozen=True)
class ResultFilter:
    """Which institutions of a ranking to list: by category, region, licence, and a name or town."""

    category: str | None = None
    region: str | None = None
    licensed: bool | None = None
    search: str = ""

    @property
    def active(self) -> bool:
        return bool(self.category or self.region or self.licensed is not None or self.search)

    def institutions(self) -> sa.Select[tuple[int]] | None:
        """The institutions the region and the search allow (None: all of them)."""
        from .models import Institution

        if not self.region and not self.search:
            return None
        query = sa.select(Institution.id)
        if self.region:
            query = query.where(Institution.region == self.region)
        if self.search:
            query = query.where(institution_matches(self.search))
        return query


def result_filter(args: Mapping[str, str]) -> ResultFilter:
    """The filter a ranking page's GET parameters ask for (unknown values ignored)."""
    from .models import CATEGORIES

    licence = args.get("licence")
    return ResultFilter(args.get("category") if args.get("category") in CATEGORIES else None,
                        args.get("region") or None, {"yes": True, "no": False}.get(licence or ""),
                        (args.get("q") or "").strip())


def regions() -> list[str]:
    from .models import Institution

    return list(db.session.scalars(sa.select(Institution.region).distinct().order_by(Institution.region)))
