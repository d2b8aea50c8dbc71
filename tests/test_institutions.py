"""Institutions: the Excel import's checker (pure), the template round trip, the list and form, access."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from audit import institution_import as importer
from audit.extensions import db
from audit.models import Assignment, Institution, User

from .conftest import Auth

HEADER = ["name", "category", "city", "region", "channels"]
VOCABULARY = importer.Vocabulary.of(
    {"social_welfare": ["Ośrodek pomocy społecznej", "Social welfare centre"], "utility": ["Utility customer office"],
     "municipal_services": [], "helpline": []},
    {"visit": ["Wizyta osobista", "In-person visit"], "phone": ["Telefon"], "email": [], "social": [], "website": []})
GOOD = ["MOPS w Lipowcu", "social_welfare", "Lipowiec", "śląskie", "visit, phone"]


def xlsx(*rows, header=HEADER) -> bytes:
    """A workbook whose first sheet holds the header and rows; text starting with = stays text."""
    workbook = Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a name that looks like a formula, as typed in a text cell
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def check(data: bytes, existing=frozenset()) -> importer.ImportCheck:
    return importer.check_workbook(data, VOCABULARY, existing)


def problems(result: importer.ImportCheck) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.reason) for p in result.problems]


# --- the pure checker ----------------------------------------------------------------------


def test_a_clean_file_gives_its_rows_cleaned_with_codes():
    result = check(xlsx(GOOD, ["  Biuro  Obsługi ", "Utility customer office", "Brzozowo", "łódzkie",
                               "Telefon; EMAIL,website"]))
    assert result.ok and result.present == ()
    assert [(r.row, r.name, r.category, r.city, r.channels) for r in result.rows] == [
        (2, "MOPS w Lipowcu", "social_welfare", "Lipowiec", ("visit", "phone")),
        (3, "Biuro Obsługi", "utility", "Brzozowo", ("phone", "email", "website")),
    ]


def test_category_may_be_the_code_or_a_polish_or_english_label():
    result = check(xlsx(["A", "social_welfare", "X", "śląskie", "visit"],
                        ["B", "ośrodek POMOCY społecznej", "X", "śląskie", "visit"],
                        ["C", "Social welfare centre", "X", "śląskie", "visit"]))
    assert result.ok and {r.category for r in result.rows} == {"social_welfare"}


def test_every_bad_value_is_reported_with_its_excel_row_and_column():
    result = check(xlsx(GOOD, [], ["", "social_welfare", "Lipowiec", "śląskie", "visit"],
                        ["Dom Kultury", "museum", "Lipowiec", "śląskie", "visit, fax"]))
    assert not result.ok and [r.row for r in result.rows] == [2]  # the view writes nothing while any row is wrong
    assert problems(result) == [
        (4, "name", "Empty; this column is required."),
        (5, "category", "Unknown category “museum”; use one of: social_welfare, utility, municipal_services, helpline."),
        (5, "channels", "Unknown channel “fax”; use any of: visit, phone, email, social, website, separated by commas."),
    ]  # row 3 is blank and skipped; row numbers are Excel's, header included


def test_empty_channels_and_too_long_values_are_problems():
    result = check(xlsx(["X" * 301, "utility", "Y", "pomorskie", ""]))
    assert problems(result) == [
        (2, "name", "Too long: at most 300 characters."),
        (2, "channels", "Empty; list the channels the institution offers, e.g. visit, phone, email, social, website."),
    ]


def test_the_same_institution_twice_in_the_file_is_an_error_naming_the_first_row():
    result = check(xlsx(GOOD, ["Other", "utility", "Lipowiec", "śląskie", "phone"],
                        ["mops  w LIPOWCU ", "utility", " lipowiec", "śląskie", "phone"]))
    assert problems(result) == [(4, "name", "The same institution (name and town) as in row 2.")]


def test_institutions_already_stored_are_skipped_not_doubled():
    existing = {(importer.normalise("Mops w lipowcu"), importer.normalise("LIPOWIEC"))}
    result = check(xlsx(GOOD, ["New one", "utility", "Lipowiec", "śląskie", "phone"]), existing)
    assert result.ok
    assert [r.name for r in result.present] == ["MOPS w Lipowcu"]
    assert [r.name for r in result.rows] == ["New one"]


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"x\")", "+48 Centrum", "-Ośrodek-", "@Biuro"])
def test_text_that_looks_like_a_formula_is_kept_as_text(text):
    result = check(xlsx([text, "utility", "Lipowiec", "śląskie", "phone"]))
    assert result.ok and result.rows[0].name == text


def test_the_header_row_must_name_the_columns():
    result = check(xlsx(GOOD, header=["name", "category", "town", "channels"]))
    assert problems(result) == [(1, "region", "The header row has no “region” column. Row 1 must hold the column "
                                             "names: name, category, city, region, channels.")]


def test_polish_headers_and_extra_columns_are_accepted():
    data = xlsx(["notatka", *GOOD], header=["uwagi", "Nazwa", "Kategoria", "Miejscowość", "Województwo", "Kanały"])
    assert [r.name for r in check(data).rows] == ["MOPS w Lipowcu"]


def test_a_file_with_no_rows_says_so():
    assert problems(check(xlsx())) == [(None, None, "The file has no institutions below the header row.")]


def test_a_file_that_is_not_xlsx_is_refused():
    for data in (b"name,category\nA,utility\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500):  # CSV, old .xls
        ((row, column, reason),) = problems(check(data))
        assert (row, column) == (None, None)
        assert reason.startswith("This is not an Excel .xlsx file.")
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("hello.txt", "hello")
    assert problems(check(other_zip.getvalue()))[0][2].startswith("This is not an Excel .xlsx file.")


def test_a_damaged_xlsx_is_refused_with_a_message():
    data = bytearray(xlsx(GOOD))
    data[200:400] = b"\0" * 200
    (problem,) = check(bytes(data)).problems
    assert problem.row is None and problem.reason.startswith("The file could not be read as an Excel workbook")


def test_an_oversized_file_is_refused_before_being_opened():
    (problem,) = check(b"PK" + b"\0" * importer.MAX_FILE_BYTES).problems
    assert problem.reason == "The file is larger than 5 MB."


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_its_declared_sizes():
    huge = _bomb(101 * 1024 * 1024)
    assert len(huge) < importer.MAX_FILE_BYTES
    (problem,) = check(huge).problems
    assert problem.reason == "The file unpacks to more than 100 MB; it cannot be a list of institutions."
    (problem,) = check(_bomb(8 * 1024 * 1024)).problems  # small, but 1000x compressed
    assert "compressed suspiciously well" in problem.reason


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    assert check(xlsx(*[[f"I{n}", "utility", "T", "pomorskie", "phone"] for n in range(3)])).ok
    (problem,) = check(xlsx(*[[f"I{n}", "utility", "T", "pomorskie", "phone"] for n in range(4)])).problems
    assert problem.reason == "The file has more than 3 institutions; split it into smaller files."


def test_pending_rows_belong_to_their_organiser_and_a_safe_token(tmp_path):
    result = check(xlsx(GOOD))
    token = importer.save_pending(tmp_path, 7, "list.xlsx", result)
    assert importer.load_pending(tmp_path, token, 7).rows == result.rows
    assert importer.load_pending(tmp_path, token, 8) is None
    assert importer.load_pending(tmp_path, "../../etc/passwd", 7) is None
    importer.discard_pending(tmp_path, token)
    assert importer.load_pending(tmp_path, token, 7) is None


# --- through the app -----------------------------------------------------------------------


def csrf(page) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def upload(client, data: bytes, name: str = "institutions.xlsx"):
    token = csrf(client.get("/organiser/institutions/import"))
    return client.post("/organiser/institutions/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def stored(app, name):
    with app.app_context():
        return db.session.scalars(sa.select(Institution).where(Institution.name == name)).all()


@pytest.fixture
def organiser(auth):
    """Logged in as the demo organiser, with the UI in English (the source texts these tests read)."""
    auth.client.get("/lang/en")
    auth.as_role("organiser")
    return auth.client


def test_template_round_trip_download_fill_upload_preview_confirm(organiser, demo_app):
    client = organiser
    response = client.get("/organiser/institutions/template.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["institutions", "Instrukcja"]
    sheet = workbook["institutions"]
    english = [importer.HEADERS[name][1] for name in (*importer.COLUMNS, *importer.DETAILS)]
    assert [c.value for c in sheet[1]] == english and sheet.freeze_panes == "A2"  # the organiser's language
    sheet.append(["Nowe Centrum Usług", "Centrum obsługi mieszkańców", "Klonowo", "pomorskie", "visit, telefon"])
    sheet.append(["Infolinia Seniora", "helpline", "Topolin", "łódzkie", "phone,email"])
    with demo_app.app_context():
        old = db.session.scalars(sa.select(Institution).order_by(Institution.id)).first()
        old_name, old_city, count = old.name, old.city, db.session.scalar(sa.select(sa.func.count(Institution.id)))
    sheet.append([old_name.upper(), "social_welfare", old_city, "śląskie", "visit"])
    filled = io.BytesIO()
    workbook.save(filled)

    preview = upload(client, filled.getvalue())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "The file is correct" in page
    assert "Nowe Centrum Usług" in page and "Infolinia Seniora" in page
    assert "Already on the list: will be skipped" in page and old_name.upper() in page
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    assert stored(demo_app, "Nowe Centrum Usług") == []  # nothing written before the confirmation

    confirm = client.post("/organiser/institutions/import/confirm",
                          data={"csrf_token": csrf(preview), "token": token})
    assert confirm.status_code == 302
    (new,) = stored(demo_app, "Nowe Centrum Usług")
    assert (new.category, new.city, new.region, new.channels) == ("municipal_services", "Klonowo", "pomorskie",
                                                                  ["visit", "phone"])
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == count + 2  # the old one not doubled
    again = client.post("/organiser/institutions/import/confirm", data={"csrf_token": csrf(preview), "token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/organiser/institutions/import")
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == count + 2


def test_the_preview_lists_bad_rows_and_offers_no_confirmation(organiser, demo_app):
    response = upload(organiser, xlsx(GOOD, ["Bad", "museum", "X", "r", "visit"]))
    page = response.get_data(as_text=True)
    assert "The file cannot be imported yet" in page and "Unknown category “museum”" in page
    assert 'name="token"' not in page
    assert re.search(r'<td class="num">3</td><td><code>category</code></td>', page)
    assert stored(demo_app, "MOPS w Lipowcu") == []


def test_the_confirmation_never_trusts_the_browser(organiser):
    page = organiser.get("/organiser/institutions/import")
    response = organiser.post("/organiser/institutions/import/confirm",
                                data={"csrf_token": csrf(page), "token": "forged-token-abcdefghijklmnop"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/institutions/import")


def test_a_hostile_upload_gets_a_clear_message(organiser):
    page = upload(organiser, b"name;category\n", "list.csv").get_data(as_text=True)
    assert "This is not an Excel .xlsx file" in page and 'name="token"' not in page


def test_add_edit_and_refuse_the_same_name_and_town(organiser, demo_app):
    client = organiser
    form = client.get("/organiser/institutions/new")
    data = {"csrf_token": csrf(form), "name": "Punkt Informacyjny", "category": "municipal_services",
            "city": "Łódź", "region": "łódzkie", "channels": ["visit", "email"]}
    assert client.post("/organiser/institutions/new", data=data).status_code == 302
    (inst,) = stored(demo_app, "Punkt Informacyjny")
    assert inst.channels == ["visit", "email"]
    twin = client.post("/organiser/institutions/new", data={**data, "name": " punkt  INFORMACYJNY", "city": "ŁÓDŹ"})
    assert twin.status_code == 200 and "Punkt Informacyjny in Łódź is already on the list" in twin.get_data(as_text=True)
    assert len(stored(demo_app, "Punkt Informacyjny")) == 1
    edit = client.post(f"/organiser/institutions/{inst.id}/edit", data={**data, "region": "mazowieckie"})
    assert edit.status_code == 302  # saving itself is not a duplicate
    assert stored(demo_app, "Punkt Informacyjny")[0].region == "mazowieckie"


def test_the_list_searches_and_filters(organiser):
    everything = organiser.get("/organiser/institutions").get_data(as_text=True)
    assert "Miejski Ośrodek Pomocy Społecznej" in everything
    helplines = organiser.get("/organiser/institutions?category=helpline").get_data(as_text=True)
    assert "Telefon Wsparcia" in helplines and "Miejski Ośrodek Pomocy Społecznej" not in helplines
    found = organiser.get("/organiser/institutions?q=BRZOZOW").get_data(as_text=True)
    assert "Brzozow" in found and "Lipowcu" not in found


# Who may open these pages (and the refusals of every other visitor): tests/test_access.py.


# --- contact details and the 16 voivodeships (issue 14) -------------------------------------


def test_region_must_be_one_of_the_16_voivodeships_in_any_case():
    result = check(xlsx(["A", "utility", "X", "  MAZOWIECKIE ", "phone"], ["B", "utility", "X", "woj. Śląskie", "phone"],
                        ["C", "utility", "X", "Mazowsze", "phone"]))
    assert problems(result) == [(4, "region", "Unknown region “Mazowsze”; use one of the 16 voivodeships: "
                                              + ", ".join(importer.VOIVODESHIPS) + ".")]
    assert len(importer.VOIVODESHIPS) == 16
    ok = check(xlsx(["A", "utility", "X", "  MAZOWIECKIE ", "phone"], ["B", "utility", "X", "woj. Śląskie", "phone"]))
    assert [r.region for r in ok.rows] == ["mazowieckie", "śląskie"]  # stored as the list spells it


def test_contact_details_are_read_under_polish_or_english_headers():
    header = ["Nazwa", "Kategoria", "Miejscowość", "Województwo", "Kanały", "Adres", "Telefon", "E-mail",
              "Strona internetowa", "profil społecznościowy", "Opening hours"]
    row = ["MOPS w Lipowcu", "social_welfare", "Lipowiec", "śląskie", "visit", "ul. Lipowa 1, 40-001 Lipowiec",
           "+48 32 000 00 00", "mops@example.pl", "example.pl/mops", "https://example.pl/profil", "pon.–pt. 8–16"]
    (read,) = check(xlsx(row, header=header)).rows
    assert (read.address, read.phone, read.email, read.website, read.social, read.opening_hours) == tuple(row[5:])
    assert problems(check(xlsx([*row[:7], "not-an-address"], header=header[:8]))) == [
        (2, "email", "“not-an-address” is not an e-mail address.")]
    assert check(xlsx(GOOD)).ok  # the details are optional


def test_the_polish_template_has_polish_headers_and_the_details_reach_the_auditor(demo_client, demo_app):
    auth = Auth(demo_client)
    auth.as_role("organiser")
    workbook = load_workbook(io.BytesIO(demo_client.get("/organiser/institutions/template.xlsx").data))
    assert workbook.sheetnames == ["instytucje", "Instrukcja"]
    sheet = workbook["instytucje"]
    assert [c.value for c in sheet[1]][:5] == ["nazwa", "kategoria", "miejscowość", "województwo", "kanały"]
    with demo_app.app_context():
        auditor = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        assignment = db.session.scalar(sa.select(Assignment).filter_by(auditor_id=auditor.id, campaign_id=1))
        inst = db.session.get(Institution, assignment.institution_id)
        inst_id, assignment_id, name, city, category = inst.id, assignment.id, inst.name, inst.city, inst.category
    page = demo_client.get(f"/organiser/institutions/{inst_id}/edit").get_data(as_text=True)
    assert re.search(r'<select[^>]*id="region"', page) and "<option value=\"zachodniopomorskie\">" in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    saved = demo_client.post(f"/organiser/institutions/{inst_id}/edit", data={
        "csrf_token": token, "name": name, "category": category, "city": city, "region": "opolskie",
        "channels": ["visit", "phone"], "address": "ul. Rynek 5, 45-001 Opole", "phone": "+48 77 000 00 00",
        "email": "sekretariat@example.pl", "website": "example.pl", "social": "", "opening_hours": "pon.–pt. 7:30–15:30"})
    assert saved.status_code == 302
    refused = demo_client.post(f"/organiser/institutions/{inst_id}/edit", data={
        "csrf_token": token, "name": name, "category": category, "city": city, "region": "Mazowsze",
        "channels": ["visit"], "email": "nie-adres"})
    assert refused.status_code == 200 and "Wpisz adres e-mail" in refused.get_data(as_text=True)
    demo_client.post("/logout", data={"csrf_token": token})
    auth.as_role("auditor")
    shown = demo_client.get(f"/auditor/assignments/{assignment_id}").get_data(as_text=True)
    assert "Jak dotrzeć do instytucji" in shown and "ul. Rynek 5, 45-001 Opole" in shown
    assert 'href="tel:+48770000000"' in shown and 'href="mailto:sekretariat@example.pl"' in shown
    assert 'href="https://example.pl"' in shown and "7:30–15:30" in shown
