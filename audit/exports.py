"""Excel exports of an edition: the ranking workbook, the raw answers, a director's scorecard.

Two layers, so that the writing can be timed and tested without a database:

* loaders (`load_edition`, `answer_rows`, `load_scorecard`) query the database and return
  plain dataclasses and tuples — criteria shares come from one grouped SQL aggregate and raw
  answers from a streamed Core select, never one ORM object per answer;
* writers (`write_edition`, `write_answers`, `write_scorecard`, and under them
  `write_tables`) turn plain rows into an .xlsx with openpyxl's write-only mode.

Sheet titles, captions, column headers and labels (categories, channels, yes/no) follow the
UI language: a Polish office gets "Ranking", "Wizyta", "Kryteria", "Licencje"; scripts that
read the sheets ask for the workbook in English (/lang/en) and get stable English names.

Formula injection: every text cell is stored as a string, whatever it starts with. A text
starting with =, +, -, @, a tab or a carriage return also gets Excel's quote prefix, so that
editing the cell in Excel keeps it text; no cell of an export is ever a formula.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import tempfile
from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import IO, Any, Literal, NamedTuple

import numpy as np
import sqlalchemy as sa
from flask import Response, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from . import fairness, services, standings
from .extensions import db
from .i18n import CATEGORY_LABELS, CHANNEL_LABELS, CHANNEL_STATUS_LABELS, describe_reason, lang
from .models import Answer, Campaign, Contact, Institution, Licence, Revision, RevisionStanding, RubricVersion, User
from .publication import reason_of

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CREATOR = "Audyt Zaufania"
CHANNEL_SHEETS = {"visit": _l("Visit"), "phone": _l("Phone"), "email": _l("E-mail"), "social": _l("Social media"),
                  "website": _l("Website")}
"""Sheet title per channel, in the UI language (see the module docstring)."""

SPOOL_BYTES = 16 * 1024 * 1024
EXCEL_MAX_ROWS = 1_048_576
RISKY_START = ("=", "+", "-", "@", "\t", "\r")
"""A text starting with one of these could be read as a formula by a spreadsheet."""
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""Control characters an .xlsx cannot hold (openpyxl refuses them): dropped from texts."""
FAST_ROWS = True
"""False: every row through openpyxl's own path, the reference the fast rows are tested against."""
_LETTERS = [get_column_letter(n) for n in range(1, 16385)]
"""Column letters by 0-based index, up to Excel's last column (XFD)."""

# --- the generic, pure writer ----------------------------------------------------------------

Kind = Literal["text", "int", "points", "percent", "delta", "date", "datetime", "general"]
NUMBER_FORMATS: dict[str, str] = {
    "text": "General", "general": "General", "int": "0", "points": "0.0", "percent": "0.0%",
    "delta": "+0.0%;-0.0%;0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm",
}
FIXED_WIDTHS: dict[str, float] = {"int": 8, "points": 9, "percent": 9, "delta": 9, "date": 11, "datetime": 17}
TEXT_WIDTH_CAP = 60
HEADER_WRAP_AT = 16
"""A header longer than its column's content wraps onto more lines rather than widening the column."""
WIDTH_SAMPLE = 2000
"""A table given as a stream has its column widths fitted to this many first rows, held while they are measured
(a list: to every row)."""

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
HEADER_BORDER = Border(bottom=Side(style="thin", color="7F8FA6"))
CAPTION_FONT = Font(bold=True, size=12)
NOTE_FONT = Font(italic=True, color="5F6B7A")
SCALE = {"start_type": "min", "start_color": "F8696B", "mid_type": "percentile", "mid_value": 50,
         "mid_color": "FFEB84", "end_type": "max", "end_color": "63BE7B"}
"""Excel's own red-yellow-green scale: low scores red, the field's median yellow, high green."""


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    comment: str | None = None
    """Shown as a note on the header cell (e.g. a criterion's question)."""
    scale: bool = False
    """A 3-colour scale over the column's values."""
    width: float | None = None
    """Fixed width; None: fitted to the content (text) or to the kind (numbers)."""


@dataclass(frozen=True)
class Table:
    """One sheet: caption lines, an optional group row, an optional summary row, the header, the rows.

    The summary row sits above the header, outside the autofilter, so sorting never moves it.
    Rows are plain values in column order (None: an empty cell).
    """

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    caption: Sequence[str] = ()
    groups: Sequence[str] | None = None
    summary: Sequence[Any] | None = None
    frozen_columns: int = 1


class Rows(Iterable[Any]):
    """Rows made afresh on each iteration and kept by nobody: what a table of a national edition is given, so
    that a sheet can be read more than once (e.g. its field averages, then its rows) without being held."""

    def __init__(self, make: Callable[[], Iterator[Any]]):
        self.make = make

    def __iter__(self) -> Iterator[Any]:
        return self.make()


@dataclass(frozen=True)
class Properties:
    title: str
    subject: str = ""
    description: str = ""


class _StyledCell(Cell):  # type: ignore[misc]  # openpyxl is untyped
    """A reusable cell carrying one pre-built style whose id is resolved once.

    openpyxl would otherwise hash every cell's style twice while writing it, a tenth of the
    time of a 500,000-cell workbook.
    """

    __slots__ = ("_has", "_sid")

    def __init__(self, ws: WriteOnlyWorksheet, template: Cell):
        super().__init__(ws, style_array=template._style)
        self._sid = template.style_id
        self._has = template.has_style

    @property
    def style_id(self) -> int:
        return int(self._sid)

    @property
    def has_style(self) -> bool:
        return bool(self._has)


class _Sheet(WriteOnlyWorksheet):  # type: ignore[misc]  # openpyxl is untyped
    """A write-only sheet that writes each data row as one string of XML, styled per column.

    openpyxl's own path builds an element per cell and serialises it through et_xmlfile's
    pure-Python tree writer, about nine tenths of the time of a national export (docs/exports.md,
    "Speed"). A plain row (values of the basic types, no note, no row height) is written here as
    the very XML openpyxl would write for it (tests/test_exports.py compares them byte for byte);
    any other row still goes through openpyxl's path, with one pre-styled cell per column.
    """

    def __init__(self, parent: Workbook, title: str):
        super().__init__(parent, title)
        self.cells: Sequence[_StyledCell] = ()
        self.risky = _Styles(self).cell("text", quote=True)
        """Text that could be read as a formula: shown and kept as text (Excel's quote prefix)."""
        self.fast = FAST_ROWS
        self._looks: list[tuple[str, bool]] = []
        self._risky_look = f' s="{self.risky.style_id}"' if self.risky.has_style else ""
        self._plain = True

    def write(self, values: Sequence[Any], cells: Sequence[_StyledCell]) -> None:
        """Append one row, each value styled by its column's cell."""
        if cells is not self.cells:
            self.cells = cells
            self._looks = [(f' s="{c.style_id}"' if c.has_style else "", bool(is_date_format(c.number_format)))
                           for c in cells]
            self._plain = all(c.comment is None for c in cells)  # a note is written by openpyxl's path
        self.append(values)

    def _values_to_row(self, values: Sequence[Any], row_idx: int) -> Iterator[_StyledCell]:
        """openpyxl's path: one pre-styled cell per column, texts kept as text (see the module docstring)."""
        cells = self.cells
        for col_idx, value in enumerate(values, 1):
            if value is None:
                continue
            if isinstance(value, str):
                if not value:
                    continue
                cell = self.risky if value[:1] in RISKY_START else cells[col_idx - 1]
                try:
                    cell.value = value
                except IllegalCharacterError:
                    value = _ILLEGAL.sub("", value)
                    cell = self.risky if value[:1] in RISKY_START else cells[col_idx - 1]
                    cell.value = value
                if cell.data_type != "s":  # "=..." binds as a formula and "#N/A" as an error: keep text
                    cell.data_type = "s"
            else:
                cell = cells[col_idx - 1]
                cell.value = value
            cell.column = col_idx
            cell.row = row_idx
            yield cell

    def _write_rows(self) -> Iterator[None]:
        """openpyxl's row loop, with plain rows written as strings straight into the sheet's XML stream."""
        try:
            xf = self._writer.xf.send(True)
        except StopIteration:
            self._already_saved()
        raw = getattr(xf, "_file", None) if self.fast else None  # et_xmlfile's writer; not lxml's
        epoch, iso = self.parent.epoch, self.parent.iso_dates
        dims = self.row_dimensions
        with xf.element("sheetData"):
            row_idx = 1
            try:
                while True:
                    values = yield
                    xml = None
                    if raw is not None and self._plain and not iso and row_idx not in dims:
                        xml = self._row_xml(values, row_idx, epoch)
                    if xml is None:
                        self._writer.write_row(xf, self._values_to_row(values, row_idx), row_idx)
                    else:
                        raw(xml)
                    row_idx += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)

    def _row_xml(self, values: Sequence[Any], row_idx: int, epoch: Any) -> str | None:
        """The row as openpyxl writes it (see the class docstring); None: a value of another type."""
        r = str(row_idx)
        looks = self._looks
        parts = [f'<row r="{r}">']
        add = parts.append
        for col_idx, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                text = value[:32767]
                if _ILLEGAL.search(text):
                    value = _ILLEGAL.sub("", value)
                    text = value[:32767]
                look = self._risky_look if value[:1] in RISKY_START else looks[col_idx][0]
                if not text:
                    add(f'<c r="{_LETTERS[col_idx]}{r}"{look} t="inlineStr" />')
                    continue
                if "&" in text:
                    text = text.replace("&", "&amp;")
                if "<" in text:
                    text = text.replace("<", "&lt;")
                if ">" in text:
                    text = text.replace(">", "&gt;")
                stripped = text.strip()
                space = ' xml:space="preserve"' if stripped and stripped != text else ""
                add(f'<c r="{_LETTERS[col_idx]}{r}"{look} t="inlineStr"><is><t{space}>{text}</t></is></c>')
                continue
            look, dated = looks[col_idx]
            if kind is float or kind is int:
                if value != value or value in (math.inf, -math.inf):
                    add(f'<c r="{_LETTERS[col_idx]}{r}"{look} t="n"><v /></c>')  # openpyxl writes no number
                    continue
            elif (kind is datetime or kind is date) and dated and getattr(value, "tzinfo", None) is None:
                value = to_excel(value, epoch)
            else:
                return None
            add(f'<c r="{_LETTERS[col_idx]}{r}"{look} t="n"><v>{value:.16g}</v></c>')
        add("</row>")
        return "".join(parts)


class _Styles:
    """Pre-styled cells for one sheet, built once per look."""

    def __init__(self, ws: _Sheet):
        self.ws = ws
        self.cache: dict[tuple[object, ...], _StyledCell] = {}

    def cell(self, kind: str = "text", *, font: Font | None = None, fill: PatternFill | None = None,
             border: Border | None = None, wrap: bool = False, quote: bool = False) -> _StyledCell:
        key = (kind, font, fill, border, wrap, quote)
        found = self.cache.get(key)
        if found is None:
            template = Cell(self.ws)
            if kind not in ("text", "general"):
                template.number_format = NUMBER_FORMATS[kind]
            if font is not None:
                template.font = font
            if fill is not None:
                template.fill = fill
            if border is not None:
                template.border = border
            if wrap:
                template.alignment = Alignment(wrap_text=True, vertical="top")
            if quote:
                template.quotePrefix = True
            found = self.cache[key] = _StyledCell(self.ws, template)
        return found

    def row(self, kinds: Sequence[str], **look: Any) -> list[_StyledCell]:
        return [self.cell(kind, **look) for kind in kinds]


def _fitted(columns: Sequence[Column]) -> list[int]:
    """The columns whose width is fitted to their content."""
    return [j for j, c in enumerate(columns) if c.width is None and c.kind not in FIXED_WIDTHS]


def _widths(columns: Sequence[Column], rows: Iterable[Sequence[Any]], summary: Sequence[Any] | None) -> list[float]:
    """Column widths estimated from string lengths (capped), so nothing has to be resized by hand; one pass."""
    texts = [j for j in _fitted(columns) if columns[j].kind != "general"]
    general = [j for j in _fitted(columns) if columns[j].kind == "general"]
    longest = dict.fromkeys(texts + general, 0)
    for r in rows:
        for j in texts:
            if type(v := r[j]) is str and len(v) > longest[j]:
                longest[j] = len(v)
        for j in general:
            if (v := r[j]) is not None and len(text := str(v)) > longest[j]:
                longest[j] = len(text)
    widths = []
    for j, col in enumerate(columns):
        if col.width is not None:
            width = col.width
        elif col.kind in FIXED_WIDTHS:
            width = FIXED_WIDTHS[col.kind]
        else:
            most = longest[j]
            if summary is not None and isinstance(summary[j], str):
                most = max(most, len(summary[j]))
            width = min(TEXT_WIDTH_CAP, most + 2)
        header = min(len(col.header), HEADER_WRAP_AT) + 2
        widths.append(max(6.0, width, header))
    return widths


def _header_lines(columns: Sequence[Column], widths: Sequence[float]) -> int:
    return min(4, max((math.ceil(len(c.header) / max(1.0, w - 2)) for c, w in zip(columns, widths, strict=True)),
                      default=1))


def write_tables(tables: Iterable[Table], properties: Properties, out: IO[bytes]) -> None:
    """Write tables as a finished-looking workbook: bold filled header, frozen panes, autofilter,
    number formats, fitted widths, colour scales on score columns.

    A table longer than a sheet can hold continues on sheets named "<title> (2)", ...
    """
    wb = Workbook(write_only=True)
    wb.properties.title = properties.title
    wb.properties.subject = properties.subject or None
    wb.properties.description = properties.description or None
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    for table in tables:
        _write_table(wb, table)
    wb.save(out)


def _new_sheet(wb: Workbook, title: str) -> _Sheet:
    ws = _Sheet(wb, title)
    wb._add_sheet(ws)  # create_sheet() cannot make a subclass
    return ws


def _write_table(wb: Workbook, table: Table) -> None:
    columns = table.columns
    rows = table.rows
    if isinstance(rows, Sequence) or not _fitted(columns):
        widths = _widths(columns, rows if isinstance(rows, Sequence) and _fitted(columns) else (), table.summary)
    else:  # a stream is never held: its widths are fitted to its first rows
        sample = list(itertools.islice(rows, WIDTH_SAMPLE))
        widths = _widths(columns, sample, table.summary)
        rows = itertools.chain(sample, rows)
    kinds = [c.kind for c in columns]
    last = get_column_letter(len(columns))
    top = len(table.caption) + (table.groups is not None) + (table.summary is not None)
    header_row = top + 1
    capacity = EXCEL_MAX_ROWS - header_row
    iterator = iter(rows)
    pending = next(iterator, None)
    part = 0
    while part == 0 or pending is not None:
        part += 1
        title = table.title if part == 1 else f"{table.title[:25]} ({part})"
        ws = _new_sheet(wb, title)
        styles = _Styles(ws)
        for j, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.freeze_panes = f"{get_column_letter(table.frozen_columns + 1)}{header_row + 1}"
        lines = _header_lines(columns, widths)
        if lines > 1:
            ws.row_dimensions[header_row].height = 15 * lines
        for n, line in enumerate(table.caption):
            ws.write([line], [styles.cell(font=CAPTION_FONT if n == 0 else NOTE_FONT)])
        if table.groups is not None:
            ws.write(list(table.groups), [styles.cell(font=HEADER_FONT, fill=HEADER_FILL)] * len(columns))
        if table.summary is not None:
            ws.write(list(table.summary), styles.row(kinds, font=HEADER_FONT))
        header = []
        for col, cell in zip(columns, styles.row(["text"] * len(columns), font=HEADER_FONT, fill=HEADER_FILL,
                                                 border=HEADER_BORDER, wrap=True), strict=True):
            if col.comment:  # a cell of its own: a comment belongs to one cell
                cell = _StyledCell(ws, cell)
                cell.comment = Comment(col.comment, CREATOR, width=320, height=120)
            header.append(cell)
        ws.write([c.header for c in columns], header)
        data = styles.row(kinds)
        count = 0
        while pending is not None and count < capacity:
            ws.write(pending, data)
            count += 1
            pending = next(iterator, None)
        last_row = header_row + max(count, 1)
        ws.auto_filter.ref = f"A{header_row}:{last}{last_row}"
        for first, final in _scaled_runs(columns):
            cols = f"{get_column_letter(first)}{{0}}:{get_column_letter(final)}{{1}}"
            if count:
                ws.conditional_formatting.add(cols.format(header_row + 1, last_row), ColorScaleRule(**SCALE))
            if table.summary is not None:
                ws.conditional_formatting.add(cols.format(top, top), ColorScaleRule(**SCALE))


def _scaled_runs(columns: Sequence[Column]) -> list[tuple[int, int]]:
    """Runs of adjacent scaled columns of one kind (1-based, inclusive): each gets one colour scale,
    so that e.g. all criteria of a sheet are coloured against each other, and points apart from shares."""
    runs: list[tuple[int, int]] = []
    for j, col in enumerate(columns, 1):
        if not col.scale:
            continue
        if runs and runs[-1][1] == j - 1 and columns[j - 2].kind == col.kind:
            runs[-1] = (runs[-1][0], j)
        else:
            runs.append((j, j))
    return runs


def xlsx_response(write: Callable[[IO[bytes]], None], filename: str) -> Response:
    """Send a workbook as a download, never cached (it holds results and names).

    The workbook is spooled to disk past SPOOL_BYTES, so that a national export does not sit
    in memory twice; a smaller one is sent from memory and its spool closed at once.
    """
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed here or by the response
    write(out)
    body: IO[bytes] = out
    if out.tell() <= SPOOL_BYTES:
        out.seek(0)
        body = io.BytesIO(out.read())
        out.close()
    body.seek(0)
    response = send_file(body, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename, etag=False,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the edition workbook: plain data --------------------------------------------------------


@dataclass(frozen=True)
class ChannelInfo:
    code: str
    label: str


@dataclass(frozen=True)
class CriterionInfo:
    channel: str
    id: str
    question: str


class RankingRow(NamedTuple):
    rank: int | None
    institution: str
    category: str
    """The category's label in the UI language."""
    city: str
    region: str
    points: float | None
    channel_scores: tuple[float | None, ...]
    """Per channel of the edition, in Edition.channels order: 0-1, None when not scored."""
    licensed: bool
    category_rank: int | None
    override_reason: str | None
    failed_checks: str
    """The licence checks that failed, in plain sentences."""
    # --- rank uncertainty (audit/fairness.py): the bootstrap's 95% intervals and marks
    points_low: float | None = None
    points_high: float | None = None
    rank_best: int | None = None
    rank_worst: int | None = None
    marks: str = ""
    """"not distinguishable from its neighbours", "licence could flip", in the UI language."""


class ChannelRow(NamedTuple):
    institution: str
    city: str
    contact_scores: tuple[float, ...]
    mean: float | None
    contacts: int
    status: str


class CriteriaRow(NamedTuple):
    institution: str
    city: str
    category: str
    shares: tuple[float | None, ...]
    """Per criterion, in Edition.criteria order: earned / possible, None when nothing applied."""


class LicenceRow(NamedTuple):
    number: str
    institution: str
    city: str
    points: float
    granted: date
    valid_until: date
    status: str
    revoked_on: date | None
    reason: str | None


@dataclass(frozen=True)
class Edition:
    """Everything the edition workbook shows, as plain values in the UI language."""

    name: str
    year: int
    revision: int | None
    """None: an unpublished preview of the live standings."""
    published_at: datetime | None
    threshold: float
    channels: tuple[ChannelInfo, ...]
    ranking: Iterable[RankingRow]
    channel_rows: Mapping[str, Iterable[ChannelRow]]
    """Each read once per workbook, after `most_contacts` (a list, or Rows made again when read)."""
    criteria: tuple[CriterionInfo, ...]
    criteria_rows: Iterable[CriteriaRow]
    """Read twice per workbook (the field's averages, then the rows): a list or Rows."""
    licences: Sequence[LicenceRow]
    yes: str = "Yes"
    no: str = "No"
    generated_at: datetime = field(default_factory=datetime.now)
    contacts_changed: int = 0
    """Contacts counted by the revision but not accepted now, or accepted since: the criteria
    shares (totalled from the answers as they are now) may differ from the revision by these."""
    most_contacts: Mapping[str, int] | None = None
    """Per channel, the most contacts of an institution (its sheet's Contact columns); None: counted from the rows."""

    @property
    def preview(self) -> bool:
        return self.revision is None


def edition_filename(year: int, revision: int | None) -> str:
    return f"ranking-{year}-rev{revision}.xlsx" if revision is not None else f"ranking-{year}-preview-unpublished.xlsx"


def _edition_caption(edition: Edition) -> str:
    if edition.preview:
        return str(_("%(edition)s — UNPUBLISHED PREVIEW of the live standings, %(when)s; not a published result",
                 edition=edition.name, when=edition.generated_at.strftime("%Y-%m-%d %H:%M")))
    published = edition.published_at.strftime("%Y-%m-%d") if edition.published_at else ""
    return str(_("%(edition)s — revision %(number)d, published %(date)s; threshold %(threshold)s points",
                 edition=edition.name, number=edition.revision or 0, date=published,
                 threshold=f"{edition.threshold:g}"))


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return math.fsum(present) / len(present) if present else None


def edition_tables(edition: Edition) -> list[Table]:
    """The edition's sheets as plain tables: Ranking, one per channel, Criteria, Criteria summary, Licences."""
    caption = _edition_caption(edition)
    tables = [_ranking_table(edition, caption)]
    for channel in edition.channels:
        tables.append(_channel_table(edition, channel, caption))
    if edition.criteria:
        tables += _criteria_tables(edition, caption)
    tables.append(_licences_table(edition, caption))
    return tables


def _ranking_table(edition: Edition, caption: str) -> Table:
    columns = [Column(_("Rank"), "int"), Column(_("Institution")), Column(_("Category")), Column(_("City")),
               Column(_("Region")), Column(_("Ranking points"), "points", scale=True)]
    columns += [Column(c.label, "percent", scale=True) for c in edition.channels]
    columns += [Column(_("Licence")), Column(_("Rank in category"), "int"), Column(_("Override reason")),
                Column(_("Failed licence checks"))]
    # rank uncertainty: the bootstrap's 95% intervals and marks (audit/fairness.py, docs/statistics.md)
    how = _("95%% interval: where %(n)d redrawn samples of each institution's own contacts put it, leaving out the "
            "most extreme 5%% (a bootstrap; see docs/statistics.md).", n=fairness.REPLICATES)
    columns += [Column(_("Points: low"), "points", comment=how), Column(_("Points: high"), "points", comment=how),
                Column(_("Rank: best"), "int", comment=how), Column(_("Rank: worst"), "int", comment=how),
                Column(_("Uncertainty"))]
    yes, no = edition.yes, edition.no
    rows = ((r.rank, r.institution, r.category, r.city, r.region, r.points, *r.channel_scores,
             yes if r.licensed else no, r.category_rank, r.override_reason, r.failed_checks or None,
             r.points_low, r.points_high, r.rank_best, r.rank_worst, r.marks or None)
            for r in edition.ranking)
    return Table(_("Ranking"), columns, rows, caption=[caption], frozen_columns=2)


def _channel_table(edition: Edition, channel: ChannelInfo, caption: str) -> Table:
    found = edition.channel_rows.get(channel.code, ())
    if edition.most_contacts is not None:
        most = edition.most_contacts.get(channel.code, 0) or 1
    else:
        most = max((len(r.contact_scores) for r in found), default=0) or 1
    columns = [Column(_("Institution")), Column(_("City"))]
    columns += [Column(_("Contact %(n)d", n=n), "percent", scale=True) for n in range(1, most + 1)]
    columns += [Column(_("Channel mean"), "percent", scale=True), Column(_("Contacts"), "int"), Column(_("Status"))]
    pad = (None,) * most
    rows = ((r.institution, r.city, *(r.contact_scores + pad)[:most], r.mean, r.contacts, r.status) for r in found)
    return Table(str(CHANNEL_SHEETS.get(channel.code, channel.code))[:31], columns, rows,
                 caption=[caption, _("Channel: %(channel)s. Each contact's score, the channel's mean and the "
                                     "number of accepted contacts.", channel=channel.label)])


def _criteria_tables(edition: Edition, caption: str) -> list[Table]:
    """The institution x criterion matrix, and the field's view of each criterion.

    A share is earned / possible points summed over the institution's accepted contacts; the
    field's average is the mean of the institutions' shares (each institution weighs the same).
    """
    labels = {c.code: c.label for c in edition.channels}
    criteria = edition.criteria
    columns = [Column(_("Institution")), Column(_("City")), Column(_("Category"))]
    columns += [Column(c.id, "percent", comment=f"{labels.get(c.channel, c.channel)}: {c.question}" if c.question else None,
                       scale=True, width=max(8, min(len(c.id), 24) + 2)) for c in criteria]
    groups = ["", "", ""] + [labels.get(c.channel, c.channel) for c in criteria]  # repeated: survives filtering
    columns_of = [array("d") for _ in criteria]  # each criterion's shares that are present, 8 bytes each
    for r in edition.criteria_rows:
        for values, share in zip(columns_of, r.shares, strict=True):
            if share is not None:
                values.append(share)
    rows = ((r.institution, r.city, r.category, *r.shares) for r in edition.criteria_rows)
    averages = [math.fsum(values) / len(values) if values else None for values in columns_of]
    notes = [caption]
    if edition.contacts_changed:
        notes.append(ngettext("%(num)d contact changed status since this revision: these shares follow the "
                              "answers as they are now.",
                              "%(num)d contacts changed status since this revision: these shares follow the "
                              "answers as they are now.", edition.contacts_changed))
    matrix = Table(_("Criteria"), columns, rows, groups=groups,
                   summary=[_("Field average"), None, None, *averages], frozen_columns=1,
                   caption=[*notes, _("Share of the possible points each institution earned on each criterion, "
                                      "over its accepted contacts; empty: never applicable. The question is in "
                                      "each header's note and on the Criteria summary sheet.")])
    summary_columns = [Column(_("Channel")), Column(_("Criterion")), Column(_("Question"), width=TEXT_WIDTH_CAP),
                       Column(_("Field average"), "percent", scale=True), Column(_("Lowest"), "percent"),
                       Column(_("Highest"), "percent"), Column(_("Institutions assessed"), "int")]
    summary_rows = []
    for c, present, average in zip(criteria, columns_of, averages, strict=True):
        summary_rows.append((labels.get(c.channel, c.channel), c.id, c.question, average,
                             min(present) if present else None, max(present) if present else None, len(present)))
    field = Table(_("Criteria summary"), summary_columns, summary_rows, frozen_columns=2,
                  caption=[*notes, _("What the field does well and badly: each criterion's average share over "
                                      "the institutions; sort by the average to see the weakest first.")])
    return [matrix, field]


def _licences_table(edition: Edition, caption: str) -> Table:
    columns = [Column(_("Certificate number")), Column(_("Institution")), Column(_("City")),
               Column(_("Points"), "points"), Column(_("Granted"), "date"), Column(_("Valid until"), "date"),
               Column(_("Status")), Column(_("Revoked on"), "date"), Column(_("Revocation reason"))]
    return Table(_("Licences"), columns, list(edition.licences), frozen_columns=1,
                 caption=[caption, _("Licences of the edition as they stand on %(today)s.",
                                     today=edition.generated_at.strftime("%Y-%m-%d"))])


def edition_properties(edition: Edition) -> Properties:
    if edition.preview:
        title = _("%(edition)s: ranking — unpublished preview", edition=edition.name)
    else:
        title = _("%(edition)s: ranking, revision %(number)d", edition=edition.name, number=edition.revision or 0)
    return Properties(title=title, subject=_("Ranking and quality licences"), description=_edition_caption(edition))


def write_edition(edition: Edition, out: IO[bytes]) -> None:
    write_tables(edition_tables(edition), edition_properties(edition), out)


# --- the edition workbook: loading from the database ----------------------------------------


class _Result(NamedTuple):
    """One institution's result: a revision's frozen row, or the live engine's with overrides applied."""

    institution_id: int
    category: str
    points: float | None
    rank: int | None
    category_rank: int | None
    licensed: bool
    override_reason: str | None
    reasons: list[list[Any]]
    channels: dict[str, dict[str, Any]]


def _result_of(r: standings.InstitutionResult) -> _Result:
    return _Result(r.institution_id, r.category, r.points, r.rank, r.category_rank, r.licensed, r.override_reason,
                   r.reasons_json(), r.channels_json())


def _rows(result: standings.EditionResult) -> list[_Result]:
    return [_result_of(r) for r in result.institutions]


def _revision_results(revision: Revision) -> list[_Result]:
    return _rows(standings.published(revision))


def _live_results(campaign: Campaign) -> list[_Result]:
    """What the next revision would hold: the engine's standings with the organiser's overrides."""
    return _rows(standings.live(campaign))


def _edition_channels(campaign: Campaign, results: Iterable[_Result]) -> tuple[ChannelInfo, ...]:
    """The edition's channels in its order, those the results hold (a revision keeps its own)."""
    present: dict[str, None] = {}
    for r in results:
        present.update(dict.fromkeys(r.channels))
    return _channels_in_order(campaign, present)


def _channels_in_order(campaign: Campaign, present: Iterable[str]) -> tuple[ChannelInfo, ...]:
    present = list(present)
    ordered = [ch.channel for ch in campaign.channels if ch.channel in present]
    ordered += [code for code in present if code not in ordered]
    return tuple(ChannelInfo(code, str(CHANNEL_LABELS.get(code, code))) for code in ordered)


def _places(ids: Iterable[int], chunk: int = 900) -> dict[int, tuple[str, str, str]]:
    """Institution id -> (name, city, region); asked in chunks, since old SQLite allows 999 parameters."""
    wanted = sorted(set(ids))
    places = {}
    for start in range(0, len(wanted), chunk):
        rows = db.session.execute(sa.select(Institution.id, Institution.name, Institution.city, Institution.region)
                                  .where(Institution.id.in_(wanted[start:start + chunk])))
        places.update({i: (name, city, region) for i, name, city, region in rows})
    return places


def _criterion_sums(campaign_id: int) -> sa.Select[Any]:
    """(institution, channel, criterion, earned, possible) summed over accepted contacts, one row each."""
    return (sa.select(Contact.institution_id, Contact.channel, Answer.criterion_id, sa.func.sum(Answer.earned),
                      sa.func.sum(Answer.possible))
            .join(Answer, Answer.contact_id == Contact.id)
            .where(services.counting_contacts(campaign_id))
            .group_by(Contact.institution_id, Contact.channel, Answer.criterion_id))


def criterion_totals(campaign_id: int, among: sa.Select[int] | None = None, contacts: Sequence[int] | None = None
                     ) -> dict[tuple[int, str, str], tuple[float, float]]:
    """(institution, channel, criterion) -> (earned, possible) over accepted contacts: one grouped aggregate.

    `among` (a select of institution ids) narrows it, e.g. to one category of a revision;
    `contacts` (a few ids) to exactly these contacts, e.g. those a revision counted for one institution.
    """
    query = _criterion_sums(campaign_id)
    if among is not None:
        query = query.where(Contact.institution_id.in_(among.scalar_subquery()))
    if contacts is not None:
        query = query.where(Contact.id.in_(list(contacts)))
    rows = db.session.connection().execute(query)
    return {(i, ch, crit): (float(earned or 0), float(possible or 0)) for i, ch, crit, earned, possible in rows}


def _answered_criteria(campaign_id: int) -> list[tuple[str, str]]:
    """(channel, criterion) of every answer criterion_totals() totals: one grouped query, a few hundred rows."""
    return [(channel, criterion) for channel, criterion in db.session.execute(
        sa.select(Contact.channel, Answer.criterion_id).join(Answer, Answer.contact_id == Contact.id)
        .where(services.counting_contacts(campaign_id))
        .group_by(Contact.channel, Answer.criterion_id))]


def criterion_shares(campaign_id: int, criteria: Sequence[CriterionInfo], batch: int = 5000) -> dict[int, array[float]]:
    """Institution -> its share of each criterion (criteria's order; NaN: never applicable), as _share() gives it
    from criterion_totals(): the same aggregate, streamed into one array per institution (8 bytes a criterion)
    instead of a dict entry per institution and criterion, a tenth of the memory of a national edition."""
    index = {(c.channel, c.id): j for j, c in enumerate(criteria)}
    query = _criterion_sums(campaign_id)
    shares: dict[int, array[float]] = {}
    empty = array("d", [math.nan]) * len(criteria)
    for i, channel, criterion, earned, possible in db.session.connection().execute(
            query.execution_options(yield_per=batch)):
        j = index.get((channel, criterion))
        if j is None:
            continue
        mine = shares.get(i)
        if mine is None:
            mine = shares[i] = array("d", empty)
        share = _share({(i, channel, criterion): (float(earned or 0), float(possible or 0))}, (i, channel, criterion))
        mine[j] = math.nan if share is None else share
    return shares


def _shares_of(shares: Mapping[int, array[float]], institution_id: int, count: int) -> tuple[float | None, ...]:
    found = shares.get(institution_id)
    if found is None:
        return (None,) * count
    return tuple(None if v != v else v for v in found)  # NaN: never applicable


def _criteria_of(campaign: Campaign, channels: Sequence[str],
                 answered: Iterable[tuple[str, str]]) -> tuple[CriterionInfo, ...]:
    """Criteria of each channel's pinned rubric, in rubric order; criteria answered (channel, criterion) under
    another rubric version follow, without a question."""
    language = lang()
    pinned = {ch.channel: ch.rubric_hash for ch in campaign.channels}
    found: dict[str, dict[str, None]] = defaultdict(dict)
    for channel, criterion in answered:
        found[channel][criterion] = None
    infos = []
    for channel in channels:
        known: set[str] = set()
        if channel in pinned:
            for c in services.rubric_by_hash(pinned[channel]).criteria:
                infos.append(CriterionInfo(channel, c.id, c.question.get(language)))
                known.add(c.id)
        infos += [CriterionInfo(channel, crit, "") for crit in sorted(found.get(channel, {})) if crit not in known]
    return tuple(infos)


def _share(totals: Mapping[tuple[int, str, str], tuple[float, float]], key: tuple[int, str, str]) -> float | None:
    earned, possible = totals.get(key, (0.0, 0.0))
    return earned / possible if possible > 0 else None


def _licence_rows(campaign_id: int, today: date) -> list[LicenceRow]:
    rows = db.session.execute(
        sa.select(Licence.number, Institution.name, Institution.city, Licence.points, Licence.granted_at,
                  Licence.valid_until, Licence.revoked_at, Licence.revoked_reason)
        .join(Institution, Institution.id == Licence.institution_id)
        .where(Licence.campaign_id == campaign_id).order_by(Licence.number))
    out = []
    for number, name, city, points, granted, valid_until, revoked_at, reason in rows:
        if revoked_at is not None:
            status = _("revoked")
        elif valid_until < today:
            status = _("expired")
        else:
            status = _("valid")
        out.append(LicenceRow(number, name, city, points, granted, valid_until, status,
                              revoked_at.date() if revoked_at else None, reason))
    return out


def _failed_checks(reasons: Sequence[Sequence[Any]]) -> str:
    return " ".join(describe_reason(reason_of(list(r))) for r in reasons if len(r) > 1 and not r[1])


def _counted_contacts(results: Sequence[_Result]) -> set[int] | None:
    """The contacts a revision counted (None: a revision from before they were recorded)."""
    counted: set[int] = set()
    recorded = False
    for r in results:
        for channel in r.channels.values():
            ids = channel.get("contact_ids")
            if ids is not None:
                recorded = True
                counted.update(ids)
    return counted if recorded else None


def _contacts_changed_since(campaign_id: int, counted: Iterable[int] | None) -> int:
    """How many contacts were counted by a revision but are not now, or the other way round: two sorted arrays of
    ids (8 bytes a contact) rather than two sets of a national edition's contacts (ten times that)."""
    if counted is None:
        return 0
    then = np.unique(np.fromiter(counted, dtype=np.int64))
    now = np.fromiter(services.counted_contact_ids(campaign_id), dtype=np.int64)  # ascending, each once
    return int(np.setxor1d(then, now, assume_unique=True).size)


def _uncertainty_cells(interval: fairness.RankInterval | None) -> tuple[Any, ...]:
    """A ranking row's interval columns: points low/high, rank best/worst, and the marks in words."""
    if interval is None or interval.points is None:
        return (None, None, None, None, "")
    marks = [str(_("not distinguishable from its neighbours"))] if interval.indistinct else []
    if interval.licence_could_flip:
        marks.append(str(_("licence could flip")))
    return (interval.points_low, interval.points_high, interval.rank_best, interval.rank_worst, "; ".join(marks))


def load_edition(campaign: Campaign, revision: Revision | None) -> Edition:
    """An edition's workbook data from a published revision, or (None) a preview of the live standings.

    Names, places and licences are read as they are now. Criteria shares come from one
    aggregate of the accepted contacts' answers as they are now; when contacts changed status
    since the revision, the Criteria sheets say how many.

    Memory stays small whatever the edition's size: a revision's rows are read a chunk at a time
    (standings.published_chunks) once to learn what the sheets need before their rows (channels, contact
    columns; for a preview, the bootstrap's intervals), then again as each sheet is written; the rows of the
    sheets are made as they are written (Rows), never held; the criteria shares are one array per institution.

    A revision's intervals are those it keeps (standings.certainties), the ones its pages show, so the
    workbook and the pages give the same interval by construction; a preview bootstraps the live rows.
    """
    now = datetime.now()
    if revision is not None:
        def results() -> Iterator[_Result]:
            return (_result_of(r) for chunk in standings.published_chunks(revision) for r in chunk)
    else:
        live = standings.live(campaign)

        def results() -> Iterator[_Result]:
            return (_result_of(r) for r in live.institutions)
    present: dict[str, None] = {}
    order: list[tuple[int, str]] = []  # (institution, category) in ranking order
    most: dict[str, int] = defaultdict(int)
    counted = array("q")  # the contacts the revision counted, compactly (a national edition has ~75,000)
    recorded = False

    def surveyed() -> Iterator[_Result]:
        nonlocal recorded
        for r in results():
            present.update(dict.fromkeys(r.channels))
            order.append((r.institution_id, r.category))
            for code, ch in r.channels.items():
                most[code] = max(most[code], len(ch.get("contact_scores") or ()))
                if (ids := ch.get("contact_ids")) is not None:
                    recorded = True
                    counted.extend(ids)
            yield r

    threshold = revision.threshold if revision else campaign.threshold
    if revision is not None:  # the intervals the revision keeps, those its pages show: no bootstrap
        deque(surveyed(), maxlen=0)  # the first pass, for the channels, the order and the contact columns
        uncertainty = standings.certainties(revision)
    else:  # a preview: the bootstrap over the live rows, as publishing would store them (standings.revision_rows)
        uncertainty = fairness.published_uncertainty(surveyed(), threshold)
    channels = _channels_in_order(campaign, present)
    places = _places(i for i, _category in order)
    categories = {code: str(label) for code, label in CATEGORY_LABELS.items()}
    statuses = {code: str(label) for code, label in CHANNEL_STATUS_LABELS.items()}
    codes = [c.code for c in channels]
    criteria = _criteria_of(campaign, codes, _answered_criteria(campaign.id))
    shares = criterion_shares(campaign.id, criteria)

    def place(institution_id: int) -> tuple[str, str, str]:
        return places.get(institution_id, (f"#{institution_id}", "", ""))

    def ranking() -> Iterator[RankingRow]:
        for r in results():
            name, city, region = place(r.institution_id)
            scores = tuple((r.channels.get(code) or {}).get("score") for code in codes)
            yield RankingRow(r.rank, name, categories.get(r.category, r.category), city, region, r.points, scores,
                             r.licensed, r.category_rank, r.override_reason, _failed_checks(r.reasons),
                             *_uncertainty_cells(uncertainty.get(r.institution_id)))

    def channel_rows(code: str) -> Iterator[ChannelRow]:
        for r in results():
            name, city, _region = place(r.institution_id)
            ch = r.channels.get(code) or {}
            yield ChannelRow(name, city, tuple(ch.get("contact_scores") or ()), ch.get("score"),
                             int(ch.get("contacts") or 0), statuses.get(ch.get("status", ""), ch.get("status", "")))

    def criteria_rows() -> Iterator[CriteriaRow]:
        for institution_id, category in order:
            name, city, _region = place(institution_id)
            yield CriteriaRow(name, city, categories.get(category, category),
                              _shares_of(shares, institution_id, len(criteria)))

    changed = _contacts_changed_since(campaign.id, counted if recorded else None) if revision is not None else 0
    return Edition(name=campaign.name, year=campaign.year, revision=revision.number if revision else None,
                   published_at=revision.published_at if revision else None,
                   threshold=threshold, channels=channels, ranking=Rows(ranking),
                   channel_rows={code: Rows(partial(channel_rows, code)) for code in codes}, criteria=criteria,
                   criteria_rows=Rows(criteria_rows), licences=_licence_rows(campaign.id, now.date()), yes=_("Yes"),
                   no=_("No"), generated_at=now, contacts_changed=changed, most_contacts=dict(most))


# --- raw answers for analysts ----------------------------------------------------------------


class AnswerRow(NamedTuple):
    contact_id: int
    institution: str
    channel: str
    rubric_id: str
    rubric_version: str
    criterion_id: str
    value: str | None
    earned: float
    possible: float
    contacted_at: datetime | None
    auditor: str
    """The auditor's pseudonym (or "#id" when they have none); never a name or an e-mail."""


def _answers_query(campaign_id: int) -> sa.Select[Any]:
    return (sa.select(Contact.id, Institution.name, Contact.channel, RubricVersion.rubric_id, RubricVersion.version,
                      Answer.criterion_id, Answer.value, Answer.earned, Answer.possible, Contact.contacted_at,
                      User.pseudonym, Contact.auditor_id)
            .join(Answer, Answer.contact_id == Contact.id)
            .join(Institution, Institution.id == Contact.institution_id)
            .join(RubricVersion, RubricVersion.hash == Contact.rubric_hash)
            .join(User, User.id == Contact.auditor_id)
            .where(services.counting_contacts(campaign_id))
            .order_by(Contact.id, Answer.id))


def _answer_row(row: Sequence[Any]) -> AnswerRow:
    contact, name, channel, rubric, version, criterion, value, earned, possible, at, pseudonym, auditor = row
    return AnswerRow(contact, name, channel, rubric, version, criterion, value, earned, possible, at,
                     pseudonym or f"#{auditor}")


def answer_rows(campaign_id: int, batch: int = 5000) -> Iterator[AnswerRow]:
    """Every answer of the edition's accepted contacts, streamed from one Core select."""
    result = db.session.connection().execute(_answers_query(campaign_id).execution_options(yield_per=batch))
    for row in result:
        yield _answer_row(row)


def count_answer_rows(campaign_id: int) -> int:
    """How many rows answer_rows() gives (the export job's progress bar counts them)."""
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(
        _answers_query(campaign_id).order_by(None).with_only_columns(Answer.id).subquery())) or 0)


def answer_chunks(campaign_id: int, contacts: int = 500) -> Iterator[list[AnswerRow]]:
    """The same rows as answer_rows(), a few hundred contacts at a time, each chunk read by a query of its
    own (keyset on the contact id): the caller may commit between chunks, so that a long export on SQLite
    holds no read lock for minutes and memory stays at one chunk whatever the edition's size."""
    after = 0
    ids = sa.select(Contact.id).where(services.counting_contacts(campaign_id)).order_by(Contact.id)
    while True:
        batch = list(db.session.scalars(ids.where(Contact.id > after).limit(contacts)))
        if not batch:
            return
        rows = db.session.execute(_answers_query(campaign_id).where(Contact.id >= batch[0], Contact.id <= batch[-1]))
        yield [_answer_row(row) for row in rows]
        after = batch[-1]


def answers_filename(year: int) -> str:
    return f"answers-{year}.xlsx"


def write_answers(name: str, rows: Iterable[Sequence[Any]], out: IO[bytes]) -> None:
    """Raw answers, one row per answer, for analysts: no caption, the header in row 1."""
    columns = [Column(_("Contact"), "int"), Column(_("Institution"), width=50), Column(_("Channel"), width=10),
               Column(_("Rubric"), width=12), Column(_("Rubric version"), width=10), Column(_("Criterion"), width=24),
               Column(_("Answer"), width=12), Column(_("Earned"), "general", width=9),
               Column(_("Possible"), "general", width=9), Column(_("Contacted"), "datetime"),
               Column(_("Auditor (pseudonym)"), width=12)]
    write_tables([Table(_("Answers"), columns, rows, frozen_columns=1)],
                 Properties(title=_("%(edition)s: raw answers", edition=name),
                            subject=_("Answers of accepted contacts")), out)


# --- a director's scorecard ------------------------------------------------------------------


class ScorecardChannel(NamedTuple):
    channel: str
    score: float | None
    contacts: int
    weight: float | None
    category_average: float | None


class ScorecardCriterion(NamedTuple):
    channel: str
    criterion_id: str
    question: str
    share: float | None
    category_average: float | None


@dataclass(frozen=True)
class Scorecard:
    edition: str
    year: int
    revision: int
    published_at: datetime
    institution: str
    city: str
    category: str
    points: float | None
    rank: int | None
    ranked: int
    category_rank: int | None
    category_ranked: int
    threshold: float
    licensed: bool
    licence_number: str | None
    licence_valid_until: date | None
    channels: Sequence[ScorecardChannel]
    criteria: Sequence[ScorecardCriterion]


def scorecard_filename(year: int, revision: int, institution_id: int) -> str:
    return f"scorecard-{year}-rev{revision}-institution-{institution_id}.xlsx"


def load_scorecard(campaign: Campaign, revision: Revision, institution_id: int) -> Scorecard | None:
    """One institution's row of a revision, next to its category; None if it is not in the revision.

    The institution's criteria shares come from exactly the contacts the revision counted (as
    on the director's scorecard page); the category average of a criterion is the mean of the
    category's institutions' shares over their accepted contacts.
    """
    results = _revision_results(revision)
    mine = next((r for r in results if r.institution_id == institution_id), None)
    if mine is None:
        return None
    peers = [r for r in results if r.category == mine.category]
    name, city, _region = _places([institution_id]).get(institution_id, (f"#{institution_id}", "", ""))
    channels = _edition_channels(campaign, results)
    scorecard_channels = []
    for ch in channels:
        own = mine.channels.get(ch.code) or {}
        scorecard_channels.append(ScorecardChannel(
            ch.label, own.get("score"), int(own.get("contacts") or 0), own.get("weight"),
            _mean((p.channels.get(ch.code) or {}).get("score") for p in peers)))
    peer_ids = [p.institution_id for p in peers]
    totals = criterion_totals(campaign.id, sa.select(RevisionStanding.institution_id).where(
        RevisionStanding.revision_id == revision.id, RevisionStanding.category == mine.category))
    counted = _counted_contacts([mine])
    own_totals = totals if counted is None else criterion_totals(campaign.id, contacts=sorted(counted))
    labels = {c.code: c.label for c in channels}
    criteria = []
    for c in _criteria_of(campaign, [ch.code for ch in channels], ((ch, crit) for _i, ch, crit in totals)):
        criteria.append(ScorecardCriterion(
            labels.get(c.channel, c.channel), c.id, c.question, _share(own_totals, (institution_id, c.channel, c.id)),
            _mean(_share(totals, (i, c.channel, c.id)) for i in peer_ids)))
    licence = db.session.scalar(sa.select(Licence).filter_by(campaign_id=campaign.id, institution_id=institution_id))
    active = licence is not None and licence.revoked_at is None
    return Scorecard(
        edition=campaign.name, year=campaign.year, revision=revision.number, published_at=revision.published_at,
        institution=name, city=city, category=str(CATEGORY_LABELS.get(mine.category, mine.category)),
        points=mine.points, rank=mine.rank, ranked=sum(1 for r in results if r.rank is not None),
        category_rank=mine.category_rank, category_ranked=sum(1 for r in peers if r.rank is not None),
        threshold=revision.threshold, licensed=mine.licensed,
        licence_number=licence.number if licence is not None and active else None,
        licence_valid_until=licence.valid_until if licence is not None and active else None,
        channels=scorecard_channels, criteria=criteria)


def scorecard_tables(card: Scorecard) -> list[Table]:
    caption = _("%(institution)s, %(city)s — %(edition)s, revision %(number)d published %(date)s",
                institution=card.institution, city=card.city, edition=card.edition, number=card.revision,
                date=card.published_at.strftime("%Y-%m-%d"))
    yes, no = _("Yes"), _("No")
    summary = [
        (_("Institution"), card.institution), (_("City"), card.city), (_("Category"), card.category),
        (_("Ranking points"), card.points), (_("Threshold"), card.threshold),
        (_("Rank"), f"{card.rank} / {card.ranked}" if card.rank is not None else None),
        (_("Rank in category"),
         f"{card.category_rank} / {card.category_ranked}" if card.category_rank is not None else None),
        (_("Licence"), yes if card.licensed else no),
        (_("Certificate number"), card.licence_number),
        (_("Valid until"), card.licence_valid_until.isoformat() if card.licence_valid_until else None),
    ]
    channel_columns = [Column(_("Channel")), Column(_("Score"), "percent", scale=True), Column(_("Contacts"), "int"),
                       Column(_("Weight in the score"), "percent"), Column(_("Category average"), "percent")]
    criteria_columns = [Column(_("Channel")), Column(_("Criterion")), Column(_("Question"), width=TEXT_WIDTH_CAP),
                        Column(_("Your share"), "percent", scale=True),
                        Column(_("Category average"), "percent", scale=True),
                        Column(_("Difference"), "delta")]
    criteria_rows = [(c.channel, c.criterion_id, c.question, c.share, c.category_average,
                      c.share - c.category_average if c.share is not None and c.category_average is not None else None)
                     for c in card.criteria]
    return [
        Table(_("Summary"), [Column(_("Item")), Column(_("Value"), "general")], summary, caption=[caption]),
        Table(_("Channels"), channel_columns, list(card.channels), caption=[caption]),
        Table(_("Criteria"), criteria_columns, criteria_rows, caption=[caption, _(
            "Share of the possible points earned on each criterion over the accepted contacts, next to the "
            "average of the institutions of the same category.")], frozen_columns=2),
    ]


def write_scorecard(card: Scorecard, out: IO[bytes]) -> None:
    write_tables(scorecard_tables(card), Properties(
        title=_("%(institution)s: scorecard, %(edition)s", institution=card.institution, edition=card.edition),
        subject=_("Scorecard")), out)
