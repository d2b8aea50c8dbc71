"""Importing institutions from an Excel file: the whole file is checked before anything is written.

check_workbook() is pure (bytes in, an ImportCheck out; no Flask, no database): it refuses
hostile files before openpyxl opens them, reads the first sheet, and reports every problem
with the row number Excel shows, the column and the reason. Institutions already in the
database (the same name and town, ignoring case and spaces) are listed to be skipped, never
doubled; the same institution twice inside the file is an error.

Between the preview and the organiser's confirmation the checked rows wait on the server
(save_pending/load_pending), so the confirmation never trusts what the browser sends back; a large
import's rows then wait for the job that adds them (queue_pending), until it is done.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.comments import Comment  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

from .errors import N_

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
"""Institutions per file (rows below the header)."""
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024
"""Small parts may compress extremely well without harm; the ratio is checked on larger ones."""
MAX_ZIP_MEMBERS = 1000
MAX_COLUMNS_READ = 30

COLUMNS = ("name", "category", "city", "region", "channels")
DETAILS = ("address", "phone", "email", "website", "social", "opening_hours")
"""Optional columns: how an auditor reaches the institution (shown on the assignment)."""
VOIVODESHIPS = ("dolnośląskie", "kujawsko-pomorskie", "lubelskie", "lubuskie", "łódzkie", "małopolskie",
                "mazowieckie", "opolskie", "podkarpackie", "podlaskie", "pomorskie", "śląskie",
                "świętokrzyskie", "warmińsko-mazurskie", "wielkopolskie", "zachodniopomorskie")
"""The 16 regions (województwa) of Poland, as the region column accepts them (ignoring case)."""
HEADER_ALIASES = {
    "name": "name", "nazwa": "name",
    "category": "category", "kategoria": "category",
    "city": "city", "town": "city", "miasto": "city", "miejscowość": "city", "miejscowosc": "city",
    "region": "region", "województwo": "region", "wojewodztwo": "region",
    "channels": "channels", "kanały": "channels", "kanaly": "channels",
    "address": "address", "adres": "address",
    "phone": "phone", "telefon": "phone", "phone number": "phone", "numer telefonu": "phone",
    "email": "email", "e-mail": "email", "adres e-mail": "email",
    "website": "website", "www": "website", "strona internetowa": "website", "strona": "website",
    "social": "social", "social profile": "social", "profil społecznościowy": "social",
    "media społecznościowe": "social",
    "opening_hours": "opening_hours", "opening hours": "opening_hours", "godziny otwarcia": "opening_hours",
}
"""Header spellings accepted for each column (compared after normalise())."""
MAX_LENGTHS = {"name": 300, "city": 120, "region": 120, "address": 300, "phone": 60, "email": 254,
               "website": 300, "social": 300, "opening_hours": 500}
"""The database columns' sizes."""
CHANNEL_SEPARATORS = re.compile(r"[,;\n]")
PENDING_LIFETIME = timedelta(hours=2)
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def voivodeship(text: str) -> str | None:
    """The voivodeship a spelling names (any case, extra spaces, "woj." in front), or None."""
    wanted = normalise(text).removeprefix("województwo ").removeprefix("woj. ").strip()
    return next((v for v in VOIVODESHIPS if v == wanted), None)


def normalise(text: str) -> str:
    """The form two spellings are compared in: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def clean(text: str) -> str:
    """The form a value is stored in: trimmed, inner runs of whitespace made one space."""
    return " ".join(text.split())


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Accepted spellings (normalised) of each category and channel code, and the codes in order."""

    categories: Mapping[str, str]
    channels: Mapping[str, str]
    category_codes: tuple[str, ...]
    channel_codes: tuple[str, ...]

    @classmethod
    def of(cls, categories: Mapping[str, Iterable[str]], channels: Mapping[str, Iterable[str]]) -> Vocabulary:
        """Build from code -> its labels (in any language); the code itself is always accepted."""
        def spellings(labels: Mapping[str, Iterable[str]]) -> dict[str, str]:
            out: dict[str, str] = {}
            for code, names in labels.items():
                for name in (code, *names):
                    out.setdefault(normalise(str(name)), code)
            return out

        return cls(spellings(categories), spellings(channels), tuple(categories), tuple(channels))


@dataclass(frozen=True)
class InstitutionRow:
    """One institution as read from the file, cleaned and checked."""

    row: int
    """The row number Excel shows."""
    name: str
    category: str
    city: str
    region: str
    channels: tuple[str, ...]
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    social: str = ""
    opening_hours: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return normalise(self.name), normalise(self.city)


@dataclass(frozen=True)
class Problem:
    """Why a row (or the whole file, row None) cannot be imported."""

    row: int | None
    column: str | None
    message: str
    """English, marked with N_(), with %(name)s parameters: translate with gettext(message, **params)."""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.message % dict(self.params) if self.params else self.message


@dataclass(frozen=True)
class ImportCheck:
    rows: tuple[InstitutionRow, ...] = ()
    """New institutions, ready to be written."""
    present: tuple[InstitutionRow, ...] = ()
    """Already in the database (same name and town): skipped."""
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _refused(message: str, **params: Any) -> ImportCheck:
    return ImportCheck(problems=(Problem(None, None, message, params),))


# --- the checker ---------------------------------------------------------------------------


def check_workbook(data: bytes, vocabulary: Vocabulary, existing: Collection[tuple[str, str]]) -> ImportCheck:
    """Check a whole uploaded file; `existing` holds the (normalise(name), normalise(city)) already stored."""
    refusal = _refuse_hostile(data)
    if refusal is not None:
        return refusal
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; the message is the same
        return _refused(N_("The file could not be read as an Excel workbook (.xlsx). Save it from Excel "
                           "or LibreOffice as .xlsx and try again."))
    try:
        if not workbook.worksheets:
            return _refused(N_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared size may be wrong (or lie): read what is really there
        rows = sheet.iter_rows(max_col=MAX_COLUMNS_READ, values_only=True)
        header = next(rows, None)
        columns, problems = _columns_of(header)
        if problems:
            return ImportCheck(problems=tuple(problems))
        records: list[tuple[int, dict[str, str]]] = []
        for number, values in enumerate(rows, start=2):
            if not any(v is not None for v in values):
                continue
            texts = {name: _text(values[index]) if index < len(values) else "" for name, index in columns.items()}
            if not any(texts.values()):
                continue  # blank rows are allowed anywhere
            if len(records) >= MAX_ROWS:
                return _refused(N_("The file has more than %(max)s institutions; split it into smaller files."),
                                max=f"{MAX_ROWS:,}")
            records.append((number, texts))
    except Exception:
        return _refused(N_("The file could not be read as an Excel workbook (.xlsx). Save it from Excel "
                           "or LibreOffice as .xlsx and try again."))
    finally:
        workbook.close()
    if not records:
        return _refused(N_("The file has no institutions below the header row."))
    return check_records(records, vocabulary, existing)


def _refuse_hostile(data: bytes) -> ImportCheck | None:
    """Refuse what is not a modest xlsx before openpyxl decompresses anything."""
    if len(data) > MAX_FILE_BYTES:
        return _refused(N_("The file is larger than %(max)s MB."), max=MAX_FILE_BYTES // (1024 * 1024))
    if not data:
        return _refused(N_("The file is empty."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return _refused(N_("This is not an Excel .xlsx file. Older .xls files and CSV files must first be "
                           "saved as .xlsx (Excel workbook)."))
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            return _refused(N_("This is not an Excel .xlsx file. Older .xls files and CSV files must first be "
                               "saved as .xlsx (Excel workbook)."))
        if len(members) > MAX_ZIP_MEMBERS:
            return _refused(N_("The file holds too many parts to be a workbook of institutions."))
        total = sum(m.file_size for m in members)
        if total > MAX_UNCOMPRESSED_BYTES:
            return _refused(N_("The file unpacks to more than %(max)s MB; it cannot be a list of institutions."),
                            max=MAX_UNCOMPRESSED_BYTES // (1024 * 1024))
        for m in members:
            if m.file_size >= RATIO_CHECK_FROM_BYTES and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
                return _refused(N_("The file is compressed suspiciously well (a “zip bomb”?); it was not opened."))
    return None


def _columns_of(header: Sequence[Any] | None) -> tuple[dict[str, int], list[Problem]]:
    """Column name -> index, from the header row; a missing or repeated column is a problem."""
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, value in enumerate(header or ()):
        name = HEADER_ALIASES.get(normalise(_text(value)))
        if name is None:
            continue  # other columns (notes, ids) are ignored
        if name in columns:
            problems.append(Problem(1, name, N_("The column “%(column)s” appears twice in the header row."),
                                    {"column": name}))
        else:
            columns[name] = index
    for name in COLUMNS:
        if name not in columns:
            problems.append(Problem(1, name, N_("The header row has no “%(column)s” column. Row 1 must hold the "
                                                "column names: %(columns)s."),
                                    {"column": name, "columns": ", ".join(COLUMNS)}))
    return columns, problems


def _text(value: Any) -> str:
    """A cell's value as cleaned text. Text starting with = + - @ stays text: it is a name, never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return clean(str(value))


def check_records(records: Iterable[tuple[int, Mapping[str, str]]], vocabulary: Vocabulary,
                  existing: Collection[tuple[str, str]]) -> ImportCheck:
    """Check rows given as (row number, column -> text): values, duplicates in the file, existing ones."""
    rows: list[InstitutionRow] = []
    present: list[InstitutionRow] = []
    problems: list[Problem] = []
    first_row_of: dict[tuple[str, str], int] = {}
    for number, texts in records:
        row_problems: list[Problem] = []

        def problem(column: str, message: str, params: Mapping[str, Any], found: list[Problem] = row_problems,
                    row: int = number) -> None:
            found.append(Problem(row, column, message, params))

        values = {name: clean(texts.get(name, "")) for name in (*COLUMNS, *DETAILS)}
        for name in ("name", "city", "region"):
            if not values[name]:
                problem(name, N_("Empty; this column is required."), {})
        for name in ("name", "city", "region", *DETAILS):
            if len(values[name]) > MAX_LENGTHS[name]:
                problem(name, N_("Too long: at most %(max)s characters."), {"max": MAX_LENGTHS[name]})
        region = voivodeship(values["region"])
        if values["region"] and region is None:
            problem("region", N_("Unknown region “%(value)s”; use one of the 16 voivodeships: %(allowed)s."),
                    {"value": values["region"], "allowed": ", ".join(VOIVODESHIPS)})
        if values["email"] and "@" not in values["email"]:
            problem("email", N_("“%(value)s” is not an e-mail address."), {"value": values["email"]})
        category = vocabulary.categories.get(normalise(values["category"]))
        allowed_categories = ", ".join(vocabulary.category_codes)
        if not values["category"]:
            problem("category", N_("Empty; use one of: %(allowed)s."), {"allowed": allowed_categories})
        elif category is None:
            problem("category", N_("Unknown category “%(value)s”; use one of: %(allowed)s."),
                    {"value": values["category"], "allowed": allowed_categories})
        channels: set[str] = set()
        for part in CHANNEL_SEPARATORS.split(values["channels"]):
            if not part.strip():
                continue
            code = vocabulary.channels.get(normalise(part))
            if code is None:
                problem("channels", N_("Unknown channel “%(value)s”; use any of: %(allowed)s, separated by commas."),
                        {"value": part.strip(), "allowed": ", ".join(vocabulary.channel_codes)})
            else:
                channels.add(code)
        if not values["channels"].strip(" ,;"):
            problem("channels", N_("Empty; list the channels the institution offers, e.g. %(example)s."),
                    {"example": ", ".join(vocabulary.channel_codes)})
        if values["name"] and values["city"]:
            key = (normalise(values["name"]), normalise(values["city"]))
            if key in first_row_of:
                problem("name", N_("The same institution (name and town) as in row %(first)s."),
                        {"first": first_row_of[key]})
            else:
                first_row_of[key] = number
        if row_problems:
            problems.extend(row_problems)
            continue
        assert category is not None
        assert region is not None
        checked = InstitutionRow(number, values["name"], category, values["city"], region,
                                 tuple(c for c in vocabulary.channel_codes if c in channels),
                                 **{name: values[name] for name in DETAILS})
        (present if checked.key in existing else rows).append(checked)
    order = (*COLUMNS, *DETAILS)
    problems.sort(key=lambda p: (p.row or 0, order.index(p.column) if p.column in order else 0))
    return ImportCheck(tuple(rows), tuple(present), tuple(problems))


def recheck(rows: Sequence[InstitutionRow], vocabulary: Vocabulary,
            existing: Collection[tuple[str, str]]) -> ImportCheck:
    """Check stored rows again at confirmation: the database may have changed since the preview."""
    return check_records(((r.row, {"name": r.name, "category": r.category, "city": r.city, "region": r.region,
                                   "channels": ", ".join(r.channels), **{d: getattr(r, d) for d in DETAILS}})
                          for r in rows), vocabulary, existing)


# --- the preview, kept on the server until confirmed ---------------------------------------


@dataclass(frozen=True)
class PendingImport:
    owner_id: int
    filename: str
    created_at: datetime
    rows: tuple[InstitutionRow, ...]
    present: tuple[InstitutionRow, ...]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _pending_path(directory: Path, token: str) -> Path | None:
    return directory / f"{token}.json" if TOKEN_PATTERN.fullmatch(token or "") else None


def save_pending(directory: Path, owner_id: int, filename: str, check: ImportCheck) -> str:
    """Keep a clean check's rows for its confirmation; returns the random token that names them."""
    directory.mkdir(parents=True, exist_ok=True)
    _forget_old(directory)
    token = secrets.token_urlsafe(24)
    payload = {"owner_id": owner_id, "filename": filename[:200], "created_at": _now().isoformat(),
               "rows": [asdict(r) for r in check.rows], "present": [asdict(r) for r in check.present]}
    path = directory / f"{token}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o600)
    return token


def load_pending(directory: Path, token: str, owner_id: int, queued: bool = False) -> PendingImport | None:
    """The rows saved under token for this organiser, or None if unknown, someone else's or too old.

    `queued`: the rows a job adds (confirmed, then handed over with queue_pending); they never grow too old,
    and are read from the preview's file too, in case the hand-over was interrupted."""
    path = _pending_path(directory, token)
    if path is not None and queued and _queued_path(path).is_file():
        path = _queued_path(path)
    if path is None or not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        pending = PendingImport(
            int(payload["owner_id"]), str(payload["filename"]), datetime.fromisoformat(payload["created_at"]),
            tuple(_row_of(r) for r in payload["rows"]), tuple(_row_of(r) for r in payload["present"]))
    except (ValueError, KeyError, TypeError):
        return None
    if pending.owner_id != owner_id or (not queued and _now() - pending.created_at > PENDING_LIFETIME):
        return None
    return pending


def _queued_path(path: Path) -> Path:
    return path.with_suffix(".queued")


def queue_pending(directory: Path, token: str) -> None:
    """Hand a confirmed preview's rows over to the job that adds them: kept (past the preview's lifetime, out
    of the sweep of old previews) until the job is done."""
    path = _pending_path(directory, token)
    if path is not None and path.is_file():
        path.replace(_queued_path(path))


def discard_pending(directory: Path, token: str) -> int:
    """Remove a preview's rows, waiting or handed over to a job; returns the files removed."""
    path = _pending_path(directory, token)
    removed = 0
    for kept in (path, _queued_path(path)) if path is not None else ():
        if kept.is_file():
            kept.unlink(missing_ok=True)
            removed += 1
    return removed


def _row_of(data: Mapping[str, Any]) -> InstitutionRow:
    return InstitutionRow(int(data["row"]), str(data["name"]), str(data["category"]), str(data["city"]),
                          str(data["region"]), tuple(str(c) for c in data["channels"]),
                          **{d: str(data.get(d, "")) for d in DETAILS})


def _forget_old(directory: Path) -> None:
    """Previews nobody confirmed are removed once they are past their lifetime."""
    limit = datetime.now().timestamp() - PENDING_LIFETIME.total_seconds()
    for path in directory.glob("*.json"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            pass


# --- the template to fill in ---------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="0B5CAD")
HEADER_FONT = Font(bold=True, color="FFFFFF")
WIDTHS = {"name": 60, "category": 24, "city": 24, "region": 22, "channels": 36, "address": 36, "phone": 18,
          "email": 28, "website": 30, "social": 30, "opening_hours": 30}
HEADERS = {  # the template's header row, in Polish and in English (both read back: HEADER_ALIASES)
    "name": ("nazwa", "name"), "category": ("kategoria", "category"), "city": ("miejscowość", "city"),
    "region": ("województwo", "region"), "channels": ("kanały", "channels"), "address": ("adres", "address"),
    "phone": ("telefon", "phone"), "email": ("e-mail", "email"), "website": ("strona internetowa", "website"),
    "social": ("profil społecznościowy", "social"), "opening_hours": ("godziny otwarcia", "opening hours"),
}
SHEET_NAMES = ("instytucje", "institutions")
COLUMN_HELP = {
    "name": ("Pełna nazwa instytucji (wymagana).", "The institution's full name (required)."),
    "category": ("Kod kategorii albo jej nazwa (wymagana) – lista w arkuszu „Instrukcja”.",
                 "Category code or its name (required) – see the “Instrukcja” sheet."),
    "city": ("Miejscowość (wymagana).", "Town or city (required)."),
    "region": ("Województwo (wymagane), np. mazowieckie.", "Region (voivodeship, required), e.g. mazowieckie."),
    "channels": ("Kanały kontaktu oddzielone przecinkami, np. visit, phone, email.",
                 "Contact channels separated by commas, e.g. visit, phone, email."),
    "address": ("Adres (nieobowiązkowy): ulica, numer, kod i miejscowość.",
                "Address (optional): street, number, postcode and town."),
    "phone": ("Numer telefonu dla klientów (nieobowiązkowy).", "Phone number for clients (optional)."),
    "email": ("Adres e-mail dla klientów (nieobowiązkowy).", "E-mail address for clients (optional)."),
    "website": ("Strona internetowa (nieobowiązkowa).", "Website (optional)."),
    "social": ("Profil w mediach społecznościowych (nieobowiązkowy).", "Social media profile (optional)."),
    "opening_hours": ("Godziny otwarcia (nieobowiązkowe), np. pon.–pt. 8:00–16:00.",
                      "Opening hours (optional), e.g. Mon–Fri 8:00–16:00."),
}


def template_workbook(categories: Mapping[str, tuple[str, str]], channels: Mapping[str, tuple[str, str]],
                      polish: bool = True) -> bytes:
    """The file organisers fill in; categories and channels map each code to its (Polish, English) label.

    The sheet's name and headers are in the organiser's language (`polish`); the import reads both.
    """
    language = 0 if polish else 1
    columns = (*COLUMNS, *DETAILS)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_NAMES[language]
    sheet.append([HEADERS[name][language] for name in columns])
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="center")
        polish, english = COLUMN_HELP[name]
        cell.comment = Comment(f"PL: {polish}\nEN: {english}", "Audyt Zaufania", width=320, height=110)
        sheet.column_dimensions[cell.column_letter].width = WIDTHS[name]
    sheet.row_dimensions[1].height = 22
    sheet.freeze_panes = "A2"
    last = MAX_ROWS + 1
    category_list = DataValidation(
        type="list", formula1='"' + ",".join(categories) + '"', allow_blank=True, errorStyle="warning",
        showErrorMessage=True, errorTitle="Kategoria / Category",
        error="Użyj kodu z listy (albo nazwy kategorii). / Use a code from the list (or the category's name).",
        promptTitle="Kategoria / Category", prompt="Wybierz z listy. / Choose from the list.")
    category_list.add(f"B2:B{last}")
    channel_prompt = DataValidation(  # no list for several values in one cell: a prompt only
        allow_blank=True, showErrorMessage=False, promptTitle="Kanały / Channels",
        prompt=("Oddziel przecinkami / separate with commas: " + ", ".join(channels))[:255])
    channel_prompt.add(f"E2:E{last}")
    region_list = DataValidation(
        type="list", formula1='"' + ",".join(VOIVODESHIPS) + '"', allow_blank=True, errorStyle="warning",
        showErrorMessage=True, errorTitle="Województwo / Region",
        error="Wybierz jedno z 16 województw. / Choose one of the 16 voivodeships.")
    region_list.add(f"D2:D{last}")
    sheet.add_data_validation(region_list)
    sheet.add_data_validation(category_list)
    sheet.add_data_validation(channel_prompt)

    notes = workbook.create_sheet("Instrukcja")
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 55
    notes.column_dimensions["C"].width = 55
    notes.append(["Import instytucji / Importing institutions"])
    notes["A1"].font = Font(bold=True, size=14)
    limit = f"{MAX_ROWS:,}"
    for code, text in (
        ("PL", f"Wpisz jedną instytucję w wierszu arkusza „{sheet.title}”, od wiersza 2. Nie zmieniaj wiersza 1 "
               "(nagłówków). Instytucje, które już są w systemie (ta sama nazwa i miejscowość, bez względu na "
               f"wielkość liter i spacje), zostaną pominięte. Najwyżej {limit.replace(',', ' ')} instytucji "
               "i 5 MB w jednym pliku."),
        ("EN", f"Enter one institution per row of the “{sheet.title}” sheet, from row 2. Do not change row 1 "
               "(the headers). Institutions already in the system (the same name and town, ignoring case and "
               f"spaces) are skipped. At most {limit} institutions and 5 MB per file."),
    ):
        notes.append([code, text])
        row = notes.max_row
        notes.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        notes.row_dimensions[row].height = 48
        notes.cell(row=row, column=1).font = Font(bold=True)
    tables = (
        (("Kolumna / Column", "Opis", "Description"), {HEADERS[name][language]: COLUMN_HELP[name] for name in columns}),
        (("category", "Kategoria: kod albo nazwa", "Category: code or name"), categories),
        (("channels", "Kanał: kod albo nazwa", "Channel: code or name"), channels),
    )
    for heading, entries in tables:
        notes.append([])
        notes.append(list(heading))
        for cell in notes[notes.max_row]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        for code, (polish, english) in entries.items():
            notes.append([code, polish, english])
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
