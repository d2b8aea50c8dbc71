"""Excel exports: the edition workbook against the revision and the engine, text safety, access."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from audit import exports, publication, services
from audit.exports import Column, Table
from audit.extensions import db
from audit.models import Answer, Campaign, Contact, Institution, Licence, Revision, RevisionStanding, User
from bench.export import synthetic_edition

from .conftest import Auth

CAMPAIGN = 1
EXPORT = f"/organiser/campaigns/{CAMPAIGN}/export.xlsx"
ANSWERS = f"/organiser/campaigns/{CAMPAIGN}/answers.xlsx"
RISKY_NAMES = ('=HYPERLINK("http://x")', "@SUM(A1)", "-2+3", "+48 123 456", "\tTabbed", "#N/A")


def publish(app, note: str = "note") -> int:
    with app.app_context():
        campaign = db.session.get(Campaign, CAMPAIGN)
        if campaign.status == "fieldwork":
            campaign.status = "review"
        organiser = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        number = publication.publish(campaign, organiser, note).number
        db.session.commit()
        return number


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return response, load_workbook(io.BytesIO(response.data))


def records(ws, header_row: int) -> list[dict[str, object]]:
    headers = [c.value for c in ws[header_row]]
    return [dict(zip(headers, row, strict=False)) for row in ws.iter_rows(min_row=header_row + 1, values_only=True)]


@pytest.fixture
def organiser(auth, demo_client):
    auth.as_role("organiser")
    demo_client.get("/lang/en")  # headers checked by their English source text
    return demo_client


def revision_rows(app, number: int | None = None):
    """(standing, institution) of a revision in ranking order."""
    with app.app_context():
        revision = publication.latest_revision(CAMPAIGN) if number is None else publication.revision_of(CAMPAIGN, number)
        rows = db.session.execute(
            sa.select(RevisionStanding, Institution).join(Institution)
            .where(RevisionStanding.revision_id == revision.id).order_by(RevisionStanding.position)).all()
        db.session.expunge_all()
        return [(s, i) for s, i in rows]


def test_published_workbook_matches_the_revision_and_the_engine(demo_app, organiser):
    number = publish(demo_app)
    response, wb = download(organiser, EXPORT)
    assert response.headers["Content-Disposition"] == f"attachment; filename=ranking-2026-rev{number}.xlsx"
    assert wb.sheetnames == ["Ranking", "Visit", "Phone", "E-mail", "Social media", "Website", "Criteria",
                             "Criteria summary", "Licences"]
    assert "revision 1" in wb["Ranking"]["A1"].value and "PREVIEW" not in wb["Ranking"]["A1"].value
    rows = revision_rows(demo_app)
    with demo_app.app_context():
        engine = {s.institution_id: s for s in services.compute_standings(CAMPAIGN)}

    ranking = records(wb["Ranking"], 2)
    assert len(ranking) == len(rows) == len(engine) >= 40
    channels = {"visit": "In-person visit", "phone": "Phone", "email": "E-mail", "social": "Social media",
                "website": "Website"}
    for got, (standing, inst) in zip(ranking, rows, strict=True):
        assert got["Institution"] == inst.name
        assert (got["Rank"], got["Ranking points"], got["Rank in category"]) == (
            standing.rank, standing.points, standing.category_rank)
        assert got["Ranking points"] == engine[inst.id].points and got["Rank"] == engine[inst.id].rank
        assert got["Licence"] == ("Yes" if standing.licensed else "No")
        assert (got["Licence"] == "Yes") == engine[inst.id].licence.granted  # no override in the demo
        assert (got["City"], got["Region"]) == (inst.city, inst.region)
        for code, header in channels.items():
            assert got[header] == pytest.approx(standing.channels[code]["score"])
            assert got[header] == pytest.approx(engine[inst.id].channel(code).score)
        if not standing.licensed:
            assert got["Failed licence checks"]

    phone = records(wb["Phone"], 3)
    for got, (standing, inst) in zip(phone, rows, strict=True):
        frozen = standing.channels["phone"]
        contacts = [got[f"Contact {n}"] for n in range(1, 4) if got.get(f"Contact {n}") is not None]
        assert contacts == pytest.approx(frozen["contact_scores"])
        assert (got["Institution"], got["Contacts"]) == (inst.name, frozen["contacts"])
        assert got["Channel mean"] == pytest.approx(frozen["score"])

    with demo_app.app_context():
        licences = db.session.execute(sa.select(Licence, Institution).join(
            Institution, Institution.id == Licence.institution_id).where(Licence.campaign_id == CAMPAIGN)
            .order_by(Licence.number)).all()
        expected = [(lic.number, inst.name, inst.city, lic.points, lic.granted_at, lic.valid_until, "valid")
                    for lic, inst in licences]
    got = [(r["Certificate number"], r["Institution"], r["City"], r["Points"], r["Granted"].date(),
            r["Valid until"].date(), r["Status"]) for r in records(wb["Licences"], 3)]
    assert got == expected and len(got) == sum(1 for s, _ in rows if s.licensed)


def test_criteria_share_is_recomputed_from_the_answers(demo_app, organiser):
    publish(demo_app)
    _, wb = download(organiser, EXPORT)
    ws = wb["Criteria"]
    groups = [c.value for c in ws[3]]
    ids = [c.value for c in ws[5]]
    assert ws["A4"].value == "Field average" and ids[:3] == ["Institution", "City", "Category"]
    column = {(groups[j], ids[j]): j for j in range(3, len(ids))}
    assert len(column) == len(ids) - 3  # channel + criterion names each column once
    with demo_app.app_context():
        inst = db.session.get(Institution, 1)
        sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for contact in db.session.scalars(sa.select(Contact).filter_by(campaign_id=CAMPAIGN, institution_id=1,
                                                                   status="accepted")):
            for answer in db.session.scalars(sa.select(Answer).filter_by(contact_id=contact.id)):
                sums[contact.channel, answer.criterion_id][0] += answer.earned
                sums[contact.channel, answer.criterion_id][1] += answer.possible
    labels = {"visit": "In-person visit", "phone": "Phone", "email": "E-mail", "social": "Social media",
              "website": "Website"}
    row = next(r for r in ws.iter_rows(min_row=6) if r[0].value == inst.name)
    checked = 0
    for (channel, criterion), (earned, possible) in sums.items():
        cell = row[column[labels[channel], criterion]]
        if possible:
            assert cell.value == pytest.approx(earned / possible)
            assert cell.number_format == "0.0%"
            checked += 1
        else:
            assert cell.value is None  # never applicable: left empty
    assert checked > 30
    assert ws.freeze_panes == "B6" and ws.auto_filter.ref.startswith("A5:")
    question = ws.cell(5, column["In-person visit", "signage"] + 1).comment
    assert question is not None and "signage" not in question.text and len(question.text) > 20
    summary = records(wb["Criteria summary"], 3)
    assert {r["Criterion"] for r in summary} >= {"signage", "answered"}
    assert all(0 <= r["Field average"] <= 1 for r in summary if r["Field average"] is not None)


def test_criteria_sheets_say_when_contacts_changed_since_the_revision(demo_app, organiser):
    publish(demo_app)
    _, wb = download(organiser, EXPORT)
    assert not any("changed status" in (c.value or "") for c in wb["Criteria"]["A"][:4])
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=CAMPAIGN, status="accepted").limit(1))
        contact.status = "returned"
        db.session.commit()
    _, wb = download(organiser, EXPORT)
    assert wb["Criteria"]["A2"].value.startswith("1 contact changed status since this revision")
    assert wb["Criteria summary"]["A2"].value == wb["Criteria"]["A2"].value


def test_workbook_looks_finished(demo_app, organiser):
    publish(demo_app)
    _, wb = download(organiser, EXPORT)
    assert wb.properties.creator == exports.CREATOR
    assert wb.properties.title and "revision 1" in wb.properties.title
    ws = wb["Ranking"]
    last = get_column_letter(ws.max_column)
    assert ws.freeze_panes == "C3"
    assert ws.auto_filter.ref == f"A2:{last}{ws.max_row}"
    header = ws[2]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDE7F0") for c in header)
    headers = [c.value for c in header]
    points, phone = headers.index("Ranking points") + 1, headers.index("Phone") + 1
    assert ws.cell(3, points).number_format == "0.0"
    assert ws.cell(3, phone).number_format == "0.0%"
    assert ws.cell(3, 1).number_format == "0"
    scales = {str(rng.sqref): [r for r in rules] for rng, rules in ws.conditional_formatting._cf_rules.items()}
    assert scales and all(r.type == "colorScale" and len(r.colorScale.color) == 3
                          for rules in scales.values() for r in rules)
    assert f"{get_column_letter(points)}3:{get_column_letter(points)}{ws.max_row}" in scales
    assert 20 < ws.column_dimensions["B"].width <= exports.TEXT_WIDTH_CAP  # fitted to the names, capped
    assert ws.column_dimensions["A"].width < 12
    licences = wb["Licences"]
    assert licences.cell(4, 5).number_format == "yyyy-mm-dd"
    assert licences.cell(4, 4).number_format == "0.0"


def test_text_that_looks_like_a_formula_stays_text(demo_app, organiser):
    with demo_app.app_context():
        institutions = db.session.scalars(sa.select(Institution).order_by(Institution.id).limit(len(RISKY_NAMES) + 1))
        for inst, name in zip(institutions, (*RISKY_NAMES, "Łódź Żółć"), strict=True):
            inst.name = name
        db.session.commit()
    publish(demo_app)
    response, wb = download(organiser, EXPORT)
    names = {c.value: c for c in wb["Ranking"]["B"] if c.row > 2}
    for name in (*RISKY_NAMES, "Łódź Żółć"):
        assert name in names, name
        assert names[name].data_type == "s"
    assert all(names[name].quotePrefix for name in RISKY_NAMES if name[0] in "=+-@\t")
    for ws in wb.worksheets:
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row), ws.title
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in xml or "<f " in xml for xml in sheets)
    _, answers = download(organiser, ANSWERS)
    assert any(c.value == '=HYPERLINK("http://x")' and c.data_type == "s" for c in answers["Answers"]["B"])


def test_preview_before_publication_is_labelled_and_follows_the_engine(demo_app, organiser):
    response, wb = download(organiser, EXPORT)
    assert "preview" in response.headers["Content-Disposition"]
    assert "UNPUBLISHED PREVIEW" in wb["Ranking"]["A1"].value
    assert "preview" in wb.properties.title
    with demo_app.app_context():
        engine = services.compute_standings(CAMPAIGN)
        names = {i.id: i.name for i in db.session.scalars(sa.select(Institution))}
    got = [(r["Institution"], r["Rank"], r["Ranking points"], r["Licence"]) for r in records(wb["Ranking"], 2)]
    assert got == [(names[s.institution_id], s.rank, s.points, "Yes" if s.licence.granted else "No") for s in engine]
    assert records(wb["Licences"], 3) == []


def test_an_earlier_revision_can_be_exported(demo_app, organiser):
    publish(demo_app, "first")
    with demo_app.app_context():
        db.session.get(Campaign, CAMPAIGN).threshold = 600.0
        db.session.commit()
    publish(demo_app, "second")
    response, wb = download(organiser, EXPORT + "?revision=1")
    assert "rev1" in response.headers["Content-Disposition"] and "threshold 750" in wb["Ranking"]["A1"].value
    first = [r["Licence"] for r in records(wb["Ranking"], 2)]
    _, wb = download(organiser, EXPORT)
    assert "revision 2" in wb["Ranking"]["A1"].value
    assert first.count("Yes") < [r["Licence"] for r in records(wb["Ranking"], 2)].count("Yes")
    assert organiser.get(EXPORT + "?revision=9").status_code == 404
    assert organiser.get(EXPORT + "?revision=x").status_code == 404
    assert organiser.get("/organiser/campaigns/99/export.xlsx").status_code == 404


def test_category_labels_follow_the_ui_language(demo_app, auth, demo_client):
    publish(demo_app)
    auth.as_role("organiser")
    _, wb = download(demo_client, EXPORT)  # Polish by default
    assert "Ośrodek pomocy społecznej" in {r[2] for r in wb["Ranking"].iter_rows(min_row=3, values_only=True)}
    assert wb.sheetnames == ["Ranking", "Wizyta", "Telefon", "E-mail", "Media społecznościowe", "Strona internetowa",
                             "Kryteria", "Podsumowanie kryteriów", "Licencje"]  # sheet names too (issue 14)
    demo_client.get("/lang/en")
    _, wb = download(demo_client, EXPORT)
    assert "Social welfare centre" in {r[2] for r in wb["Ranking"].iter_rows(min_row=3, values_only=True)}
    assert wb.sheetnames[:2] == ["Ranking", "Visit"]


def client_as(app, role: str):
    client = app.test_client()
    Auth(client).as_role(role)
    return client


@pytest.mark.parametrize("url", [EXPORT, ANSWERS])
def test_organiser_exports_are_for_organisers_only(demo_app, demo_client, url):
    anonymous = demo_client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for role in ("auditor", "director"):
        assert client_as(demo_app, role).get(url).status_code == 403


def test_raw_answers_name_auditors_by_pseudonym_only(demo_app, organiser):
    response, wb = download(organiser, ANSWERS)
    assert response.headers["Content-Disposition"] == "attachment; filename=answers-2026.xlsx"
    ws = wb["Answers"]
    rows = records(ws, 1)
    with demo_app.app_context():
        expected = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).join(Contact).where(
            Contact.campaign_id == CAMPAIGN, Contact.status == "accepted", Contact.calibration_group_id.is_(None)))
        people = db.session.execute(sa.select(User.name, User.email, User.pseudonym).where(User.role == "auditor")).all()
    assert len(rows) == expected > 1000
    assert {r["Auditor (pseudonym)"] for r in rows} <= {p for _, _, p in people if p}
    texts = {str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None}
    for name, email, _ in people:
        assert name not in texts and email not in texts
    assert not any("@" in t for t in texts)
    first = rows[0]
    assert isinstance(first["Contacted"], datetime) and first["Rubric"] and first["Rubric version"]
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == f"A1:K{ws.max_row}"


@pytest.mark.parametrize(("count", "sheets"), [(0, 1), (3, 1), (6, 2), (7, 3)])
def test_a_long_table_continues_on_another_sheet(monkeypatch, count, sheets):
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 4)  # the header and three rows per sheet
    rows = [(n, f"Instytucja {n}", "phone", "phone", "1", "answered", "yes", 2.0, 2.0, None, "A-01")
            for n in range(1, count + 1)]
    out = io.BytesIO()
    exports.write_answers("Test", iter(rows), out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Answers", "Answers (2)", "Answers (3)"][:sheets]
    got = [r for ws in wb.worksheets for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in got] == list(range(1, count + 1))
    assert all(ws["A1"].value == "Contact" for ws in wb.worksheets)


def test_characters_an_xlsx_cannot_hold_are_dropped_not_fatal():
    out = io.BytesIO()
    exports.write_answers("Test", [(1, "Ośrodek\x01 Łódź", "phone", "phone", "1", "x", "\x02=1+1", 1.0, 1.0, None,
                                    "A-01")], out)
    row = next(load_workbook(out)["Answers"].iter_rows(min_row=2))
    assert row[1].value == "Ośrodek Łódź"
    assert (row[6].value, row[6].data_type, row[6].quotePrefix) == ("=1+1", "s", True)


def director_institutions(app) -> tuple[list[int], int]:
    with app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        own = [i.id for i in director.institutions]
        other = db.session.scalar(sa.select(Institution.id).where(Institution.id.not_in(own)))
        return own, other


def scorecard_url(institution_id: int) -> str:
    return f"/director/campaigns/{CAMPAIGN}/institutions/{institution_id}/scorecard.xlsx"


def test_director_gets_the_scorecard_of_their_own_institutions_only(demo_app, auth, demo_client):
    own, other = director_institutions(demo_app)
    assert len(own) == 2
    auth.as_role("director")
    assert demo_client.get(scorecard_url(own[0])).status_code == 404  # nothing published yet
    publish(demo_app)
    demo_client.get("/lang/en")
    assert demo_client.get(scorecard_url(other)).status_code == 404
    assert demo_client.get(f"/director/campaigns/99/institutions/{own[0]}/scorecard.xlsx").status_code == 404
    rows = {s.institution_id: (s, i) for s, i in revision_rows(demo_app)}
    for institution_id in own:
        response, wb = download(demo_client, scorecard_url(institution_id))
        assert f"institution-{institution_id}" in response.headers["Content-Disposition"]
        standing, inst = rows[institution_id]
        summary = {r["Item"]: r["Value"] for r in records(wb["Summary"], 2)}
        assert summary["Institution"] == inst.name and summary["Ranking points"] == standing.points
        assert summary["Licence"] == ("Yes" if standing.licensed else "No")
        assert summary["Rank"].startswith(f"{standing.rank} / ")
        channels = {r["Channel"]: r["Score"] for r in records(wb["Channels"], 2)}
        assert channels["Phone"] == pytest.approx(standing.channels["phone"]["score"])
        criteria = records(wb["Criteria"], 3)
        assert any(r["Your share"] is not None and r["Category average"] is not None for r in criteria)
        texts = {str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
        assert not any("A-0" in t or "Audytor" in t or "@demo.test" in t for t in texts)
    assert client_as(demo_app, "organiser").get(scorecard_url(own[0])).status_code == 403


def test_scorecard_category_average_is_the_mean_of_the_category_shares(demo_app):
    publish(demo_app)
    own, _ = director_institutions(demo_app)
    with demo_app.test_request_context():
        campaign = db.session.get(Campaign, CAMPAIGN)
        revision = db.session.scalar(sa.select(Revision).filter_by(campaign_id=CAMPAIGN))
        card = exports.load_scorecard(campaign, revision, own[0])
        category = db.session.get(Institution, own[0]).category
        peers = [i for (i,) in db.session.execute(sa.select(RevisionStanding.institution_id).filter_by(
            revision_id=revision.id, category=category))]
        totals = exports.criterion_totals(CAMPAIGN)
    signage = next(c for c in card.criteria if c.criterion_id == "signage")
    with demo_app.app_context():
        counted = db.session.get(RevisionStanding, (revision.id, own[0])).channels["visit"]["contact_ids"]
        answers = db.session.scalars(sa.select(Answer).where(Answer.contact_id.in_(counted),
                                                             Answer.criterion_id == "signage")).all()
    assert signage.share == pytest.approx(sum(a.earned for a in answers) / sum(a.possible for a in answers))
    shares = [totals[i, "visit", "signage"][0] / totals[i, "visit", "signage"][1] for i in peers
              if totals.get((i, "visit", "signage"), (0, 0))[1] > 0]
    assert signage.category_average == pytest.approx(sum(shares) / len(shares))


def test_the_directors_workbook_names_no_auditor_in_any_part_of_the_file(demo_app, auth, demo_client):
    """Cells, comments, document properties (creator, last modified by) and every other part of the zip."""
    own, _other = director_institutions(demo_app)
    publish(demo_app)
    with demo_app.app_context():
        auditors = db.session.scalars(sa.select(User).where(User.id.in_(
            sa.select(Contact.auditor_id).where(Contact.institution_id.in_(own))))).all()
        for n, auditor in enumerate(auditors):
            auditor.name = f"Jan Kowalski{n}"
        secrets = [s for a in auditors for s in (a.name, a.email, a.pseudonym) if s]
        db.session.commit()
    assert secrets
    auth.as_role("director")
    for institution_id in own:
        response, wb = download(demo_client, scorecard_url(institution_id))
        assert wb.properties.creator == wb.properties.lastModifiedBy == exports.CREATOR
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            parts = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
        for name, text in parts.items():
            for secret in secrets:
                assert secret not in text, (name, secret)


def xlsx_parts(data: bytes) -> dict[str, bytes]:
    """Every part of a workbook but its properties (which hold the time of writing)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def written(monkeypatch, fast: bool, tables, properties) -> bytes:
    monkeypatch.setattr(exports, "FAST_ROWS", fast)
    out = io.BytesIO()
    exports.write_tables(tables, properties, out)
    return out.getvalue()


EDGE_TEXTS = ("Łódź & <Żółć>", " leading", "trailing ", "   ", "a\nb", "\x01\x02", "x\x0by", "=1+1", "-2", "#N/A",
              "@A1", "\tTab", "\rCR", "ok" * 20_000, "=" + "\x01" * 3, "]]>", "\u2028 \U0001F600")
EDGE_NUMBERS = (0, -0.0, 1, -7, 2**53 + 1, 10**20, 0.1 + 0.2, 1 / 3, 1e-300, 123456.789, float("nan"), float("inf"),
                True, False)


def test_fast_rows_write_the_very_xml_openpyxl_writes(monkeypatch):
    """The fast row writer (one string per row) against openpyxl's own path, byte for byte, over every
    kind of column and awkward values: texts to escape, to keep spaces of, to quote or to clean, numbers
    openpyxl rounds to 16 digits or cannot write, dates in date columns and in others, notes on headers."""
    kinds = ("text", "int", "points", "percent", "delta", "date", "datetime", "general")
    columns = [Column(f"{kind} column", kind, comment="a note" if n % 3 == 0 else None, scale=n % 2 == 0)
               for n, kind in enumerate(kinds)]
    values = [*EDGE_TEXTS, *EDGE_NUMBERS, datetime(2026, 5, 1, 9, 30, 15, 500), datetime(1900, 1, 1),
              date(2026, 12, 31), None, ""]
    rows = [tuple(values[(i * 7 + j) % len(values)] for j in range(len(kinds))) for i in range(len(values) * 2)]
    tables = [Table("Wszystko", columns, rows, caption=["Caption & <more>", "second line"],
                    groups=["g"] * len(kinds), summary=["Field average", *[0.5] * (len(kinds) - 1)]),
              Table("Plain", columns[:3], [(v, 1, 0.25) for v in EDGE_TEXTS])]
    properties = exports.Properties(title="Test")
    fast, reference = written(monkeypatch, True, tables, properties), written(monkeypatch, False, tables, properties)
    assert xlsx_parts(fast) == xlsx_parts(reference)
    assert len(xlsx_parts(fast)["xl/worksheets/sheet1.xml"]) > 10_000


def test_fast_rows_write_the_edition_workbook_as_openpyxl_does(monkeypatch):
    edition = synthetic_edition(institutions=40)
    properties = exports.edition_properties(edition)  # the tables stream their rows: made for each writing
    fast = written(monkeypatch, True, exports.edition_tables(edition), properties)
    reference = written(monkeypatch, False, exports.edition_tables(edition), properties)
    assert xlsx_parts(fast) == xlsx_parts(reference)


SNAPSHOT = Path(__file__).parent / "data" / "edition_workbook_demo.json"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?")


def workbook_values(data: bytes) -> dict[str, list[list[object]]]:
    """Every sheet's values as openpyxl reads them, with the days of publication and of writing named, not given."""
    def plain(value: object) -> object:
        if isinstance(value, datetime | date):
            return "<day>"
        return _DAY.sub("<day>", value) if isinstance(value, str) else value
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [[plain(v) for v in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_the_edition_workbook_holds_the_values_it_always_held(demo_app, organiser):
    """The preview and the published workbook of the demo edition, every sheet's values, against the values the
    writer gave before it streamed its rows (tests/data/edition_workbook_demo.json, written by that writer)."""
    preview = workbook_values(organiser.get(EXPORT).data)
    publish(demo_app)
    published = workbook_values(organiser.get(EXPORT).data)
    got = json.loads(json.dumps({"preview": preview, "published": published}))  # tuples as lists, as stored
    if os.environ.get("WRITE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(got, ensure_ascii=False, separators=(",", ":")).replace("],[", "],\n[") + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for kind in ("preview", "published"):
        assert list(got[kind]) == list(expected[kind])
        for sheet, rows in expected[kind].items():
            assert got[kind][sheet] == rows, (kind, sheet)


def test_the_published_workbook_reads_the_intervals_the_revision_keeps(demo_app, organiser, monkeypatch):
    """A published revision's uncertainty cells are the intervals its rows keep, those the director's page shows
    (altered in the database, both follow), and the bootstrap is not run again; a preview still runs it."""
    from audit import fairness

    publish(demo_app)
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        revision = publication.latest_revision(CAMPAIGN)
        row = db.session.scalar(sa.select(RevisionStanding).where(
            RevisionStanding.revision_id == revision.id, RevisionStanding.points.is_not(None),
            RevisionStanding.institution_id.in_([i.id for i in director.institutions])))
        institution = db.session.get_one(Institution, row.institution_id)
        name, institution_id, kept = institution.name, institution.id, fairness.RankInterval(*row.certainty)
        altered = kept._replace(points_low=111.1, points_high=999.9, rank_best=2, rank_worst=37, indistinct=True,
                                licence_could_flip=True)
        row.certainty = list(altered)
        db.session.commit()

    def no_bootstrap(*args, **kwargs):
        raise AssertionError("the bootstrap ran for a published revision")

    monkeypatch.setattr(fairness, "published_uncertainty", no_bootstrap)
    _response, wb = download(organiser, EXPORT)
    got = next(r for r in records(wb["Ranking"], 2) if r["Institution"] == name)
    assert (got["Points: low"], got["Points: high"], got["Rank: best"], got["Rank: worst"]) == (111.1, 999.9, 2, 37)
    assert got["Uncertainty"] == "not distinguishable from its neighbours; licence could flip"

    director_client = demo_app.test_client()
    Auth(director_client).as_role("director")
    director_client.get("/lang/en")
    page = director_client.get(f"/director/campaigns/{CAMPAIGN}/institutions/{institution_id}")
    assert page.status_code == 200
    text = " ".join(page.get_data(as_text=True).split())
    assert "fall between 111.1 and 999.9, and your rank between 2 and 37 of" in text

    # the spy is live: a preview still bootstraps
    with demo_app.app_context(), pytest.raises(AssertionError, match="the bootstrap ran"):
        exports.load_edition(db.session.get_one(Campaign, CAMPAIGN), None)
