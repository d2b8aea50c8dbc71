"""Public pages: licence verification, the registry of holders, each edition's method, the certificate PDF."""

from __future__ import annotations

import hashlib
import io
import re
import statistics
from datetime import date, datetime, timedelta

import pypdf
import pytest
import sqlalchemy as sa
from markupsafe import escape

from audit import certificates, publication, services
from audit.extensions import db
from audit.models import Campaign, Contact, Institution, Licence, Revision, RubricVersion, User

POLISH_NAME = "Ośrodek Pomocy Społecznej w Łodzi – Żółć"
NUMBER_LINK = re.compile(r'href="/verify/([A-Z0-9-]+)"')


def publish_demo(app) -> tuple[int, str]:
    """Publish the demo's edition in fieldwork, with a licence for the demo director's first institution.

    Returns the edition's id and that licence's number.
    """
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.status != "published")
                                     .order_by(Campaign.year.desc(), Campaign.id.desc()))
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        campaign.status = "review"
        own = director.institutions[0].id
        publication.set_override(campaign, own, True, "Licencja dla testu.", organiser)
        publication.publish(campaign, organiser, "Wyniki edycji – test")
        db.session.commit()
        number = db.session.scalar(sa.select(Licence.number).filter_by(campaign_id=campaign.id, institution_id=own))
        return campaign.id, number


def licence(number: str) -> Licence:
    return db.session.scalar(sa.select(Licence).filter_by(number=number))


def current_numbers(today: date | None = None) -> set[str]:
    """Every licence of a published edition that is neither revoked nor expired, straight from the tables."""
    today = today or date.today()
    published = {c for (c,) in db.session.execute(sa.select(Revision.campaign_id).distinct())}
    return {lic.number for lic in db.session.scalars(sa.select(Licence))
            if lic.campaign_id in published and lic.revoked_at is None and lic.valid_until >= today}


def registry_numbers(client, query: str = "") -> set[str]:
    response = client.get(f"/registry{query}")
    assert response.status_code == 200
    return set(NUMBER_LINK.findall(response.get_data(as_text=True)))


# --- verification ---------------------------------------------------------------------------


def test_a_valid_licence_shows_its_public_facts_and_nothing_about_the_fieldwork(demo_app, demo_client):
    campaign_id, number = publish_demo(demo_app)
    response = demo_client.get(f"/verify/{number}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-status="valid"' in page
    with demo_app.app_context():
        lic = licence(number)
        inst = db.session.get(Institution, lic.institution_id)
        campaign = db.session.get(Campaign, campaign_id)
        assert str(escape(inst.name)) in page and inst.city in page and str(escape(campaign.name)) in page
        assert f'href="/editions/{campaign_id}/method"' in page
        assert f"{lic.points:.1f}".replace(".", ",") in page  # Polish notation
        standing = publication.latest_revision(campaign_id).standings
        row = next(r for r in standing if r.institution_id == inst.id)
        shown = re.findall(r'<td class="num">(\d+)</td>', page)
        offered = [row.channels[ch.channel]["contacts"] for ch in campaign.channels if ch.channel in inst.channels]
        assert [int(n) for n in shown] == offered
        auditors = db.session.scalars(sa.select(User).filter_by(role="auditor")).all()
        scenarios = {c.scenario for c in db.session.scalars(sa.select(Contact).filter_by(institution_id=inst.id))}
        contact_ids = [i for ch in row.channels.values() for i in ch.get("contact_ids", [])]
    for auditor in auditors:
        assert auditor.pseudonym not in page and auditor.name not in page and auditor.email not in page
    assert scenarios and not any(str(escape(s)) in page for s in scenarios if s)
    assert not any(f"/contacts/{i}" in page for i in contact_ids)
    assert "certificate.pdf" not in page  # anonymous: no download link


def test_a_typed_number_finds_its_page_whatever_the_case(demo_app, demo_client):
    _, number = publish_demo(demo_app)
    response = demo_client.get(f"/verify?number=%20{number.lower()}%20")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verify/{number}")
    assert demo_client.get(f"/verify/{number.lower()}").headers["Location"].endswith(f"/verify/{number}")
    form = demo_client.get("/verify")
    assert form.status_code == 200 and 'name="number"' in form.get_data(as_text=True)


def test_an_expired_licence_says_so(demo_app, demo_client):
    _, number = publish_demo(demo_app)
    with demo_app.app_context():
        licence(number).valid_until = date.today() - timedelta(days=1)
        db.session.commit()
    page = demo_client.get(f"/verify/{number}").get_data(as_text=True)
    assert 'data-status="expired"' in page


def test_a_revoked_licence_shows_the_date_but_never_the_reason(demo_app, demo_client):
    _, number = publish_demo(demo_app)
    with demo_app.app_context():
        lic = licence(number)
        lic.revoked_at, lic.revoked_reason = datetime(2026, 3, 4, 10, 0), "Poufny powód: skarga pracownika"
        db.session.commit()
    response = demo_client.get(f"/verify/{number}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-status="revoked"' in page
    assert "4 marca 2026" in page and "Poufny powód" not in page and "skarga" not in page


@pytest.mark.parametrize("path", [
    "/verify/AZ-2099-999-9999",
    "/verify/" + "<script>alert(1)</script>" * 40,
    "/verify/AZ-2026-001-0001%27%20OR%201=1",
    "/verify?number=" + "<script>alert(1)</script>" * 40,
    "/verify?number=" + "A" * 41,
])
def test_an_unknown_or_malformed_number_says_no_licence_and_nothing_else(demo_app, demo_client, path):
    publish_demo(demo_app)
    demo_client.get("/lang/en")
    response = demo_client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'data-status="unknown"' in page and "No licence with this number" in page
    assert "<script>" not in page  # the header's language links carry the path only percent-encoded
    main = page.split("<main", 1)[1]
    assert "alert(1)" not in main and "A" * 41 not in main
    assert "licence-holder" not in main and "/editions/" not in main


# --- the registry ---------------------------------------------------------------------------


def test_the_registry_lists_exactly_the_current_holders(demo_app, demo_client):
    with demo_app.app_context():
        unpublished = db.session.scalar(sa.select(Campaign.id).where(Campaign.status != "published"))
    page = demo_client.get("/registry").get_data(as_text=True)
    assert f'<option value="{unpublished}"' not in page  # not published yet: not listed
    campaign_id, number = publish_demo(demo_app)
    with demo_app.app_context():
        expected = current_numbers()
        assert number in expected
        others = sorted(expected - {number})
        licence(others[0]).valid_until = date.today() - timedelta(days=1)
        licence(others[1]).revoked_at = datetime(2026, 3, 4, 10, 0)
        db.session.commit()
        still = current_numbers()
    assert still == expected - set(others[:2])
    assert registry_numbers(demo_client) == still
    page = demo_client.get("/registry").get_data(as_text=True)
    assert f'<option value="{campaign_id}"' in page and f'href="/editions/{campaign_id}/method"' in page


def test_the_registry_filters_by_edition_category_and_region(demo_app, demo_client):
    campaign_id, _ = publish_demo(demo_app)
    with demo_app.app_context():
        holders = certificates.current_holders(date.today())
        by = {(h.number, h.campaign.id, h.institution.category, h.institution.region) for h in holders}
        region = holders[0].institution.region
    assert registry_numbers(demo_client, f"?edition={campaign_id}") == {n for n, c, _, _ in by if c == campaign_id}
    assert registry_numbers(demo_client, "?category=helpline") == {n for n, _, cat, _ in by if cat == "helpline"}
    assert registry_numbers(demo_client, f"?region={region}") == {n for n, _, _, r in by if r == region}
    both = {n for n, c, cat, _ in by if c == campaign_id and cat == "social_welfare"}
    assert registry_numbers(demo_client, f"?edition={campaign_id}&category=social_welfare") == both
    # an unknown value is ignored rather than an error
    assert registry_numbers(demo_client, "?category=nope&edition=999&region=x") == {n for n, *_ in by}


def test_the_registry_finds_a_holder_by_name_or_town_whatever_the_letters_case(demo_app, demo_client):
    publish_demo(demo_app)
    with demo_app.app_context():
        holders = certificates.current_holders(date.today())
        one = holders[len(holders) // 2]
        name, town = one.institution.name, one.institution.city
        needle = name.casefold()
        matching = {h.number for h in holders
                    if needle in h.institution.name.casefold() or needle in h.institution.city.casefold()}
    found = registry_numbers(demo_client, f"?q={name.upper()}")
    assert one.number in found and found == matching
    assert one.number in registry_numbers(demo_client, f"?q={town.lower()}")
    assert registry_numbers(demo_client, "?q=nie-ma-takiej-instytucji") == set()
    assert registry_numbers(demo_client, "?page=999") == registry_numbers(demo_client)  # past the end: the last page


# --- an edition's method --------------------------------------------------------------------


def test_the_method_page_renders_every_pinned_rubric_and_the_weights(demo_app, demo_client):
    campaign_id, _ = publish_demo(demo_app)
    response = demo_client.get(f"/editions/{campaign_id}/method")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    with demo_app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        rubrics = [services.rubric_by_hash(ch.rubric_hash) for ch in campaign.channels]
        revisions = publication.revisions_of(campaign_id)
    assert rubrics
    for rubric in rubrics:
        assert rubric.hash in page and f'href="/editions/{campaign_id}/rubrics/{rubric.channel}.yaml"' in page
        for criterion in rubric.criteria:
            assert str(escape(criterion.question.pl)) in page, criterion.id
            # the standard in words, its code kept as the reference (a contest criterion is named by its topic)
            assert str(escape(criterion.standard.removeprefix("LZM:").strip())) in page
    weights = [float(w.replace(",", ".")) for w in re.findall(r'class="num weight[^"]*"[^>]*>([\d,.]+)%<', page)]
    assert len(weights) == len(rubrics) and sum(weights) == pytest.approx(100, abs=0.05)
    assert all(str(escape(r.note)) in page for r in revisions)
    assert "750,0" in page  # the threshold


def test_the_method_pages_contact_spread_is_the_revisions_rows_summarised(demo_app):
    """The spread publication stored equals one computed from the revision's rows, and one computed for
    a revision published before figures were stored."""
    from audit import result_cache, standings
    from audit.views.public import Spread, edition_method

    campaign_id, _ = publish_demo(demo_app)
    with demo_app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        latest = publication.latest_revision(campaign_id)
        expected = {}
        for ch in campaign.channels:  # the rule, row by row
            counts = [int(r.channels[ch.channel].get("contacts") or 0) for r in latest.standings
                      if ch.channel in r.channels and not r.channels[ch.channel]["status"].startswith("not_offered")]
            expected[ch.channel] = Spread(len(counts), min(counts), statistics.median(counts), max(counts))
        assert {c.channel: c.spread for c in edition_method(campaign).channels} == expected
        assert latest.figures is not None
        latest.figures = None
        db.session.commit()
        result_cache.forget()
        assert standings.figures_of(latest)["contacts"]
        assert {c.channel: c.spread for c in edition_method(campaign).channels} == expected


def test_the_method_page_in_english(demo_app, demo_client):
    campaign_id, _ = publish_demo(demo_app)
    demo_client.get("/lang/en")
    page = demo_client.get(f"/editions/{campaign_id}/method").get_data(as_text=True)
    with demo_app.app_context():
        rubric = services.rubric_by_hash(db.session.get(Campaign, campaign_id).channels[0].rubric_hash)
    assert all(str(escape(c.question.en)) in page for c in rubric.criteria)
    assert "Appeals" in page and "A channel an institution does not offer is left out" in page


def test_an_unpublished_edition_has_no_method_page_and_no_rubric_download(demo_app, demo_client):
    with demo_app.app_context():
        unpublished = db.session.scalar(sa.select(Campaign.id).where(Campaign.status != "published"))
    assert demo_client.get(f"/editions/{unpublished}/method").status_code == 404
    assert demo_client.get(f"/editions/{unpublished}/rubrics/phone.yaml").status_code == 404
    assert demo_client.get("/editions/9999/method").status_code == 404


def test_a_rubric_downloads_as_its_stored_source(demo_app, demo_client):
    campaign_id, _ = publish_demo(demo_app)
    with demo_app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        stored = {ch.channel: db.session.get(RubricVersion, ch.rubric_hash) for ch in campaign.channels}
    for channel, row in stored.items():
        response = demo_client.get(f"/editions/{campaign_id}/rubrics/{channel}.yaml")
        assert response.status_code == 200 and response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.get_data(as_text=True) == row.source
        assert hashlib.sha256(response.get_data()).hexdigest() == row.hash  # anyone can check the hash
    assert demo_client.get(f"/editions/{campaign_id}/rubrics/fax.yaml").status_code == 404


# --- the certificate ------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_certificate_is_a_pdf_with_polish_letters_the_number_and_the_verification_link(demo_app, auth):
    _, number = publish_demo(demo_app)
    with demo_app.app_context():
        inst = db.session.get(Institution, licence(number).institution_id)
        inst.name, inst.city = POLISH_NAME, "Łódź"
        db.session.commit()
    auth.as_role("organiser")
    response = auth.client.get(f"/licences/{number}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF") and b"ReportLab" in data and b"DejaVuSans" in data  # fonts embedded
    text = pdf_text(data)
    assert POLISH_NAME in text and "Łódź" in text and number in text and "Licencja Jakości" in text
    assert f"http://localhost/verify/{number}" in text
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 1
    verify = auth.client.get(f"/verify/{number}").get_data(as_text=True)
    assert f"/licences/{number}/certificate.pdf" in verify  # the organiser sees the download link


@pytest.mark.parametrize(("email", "allowed"), [
    ("organiser@demo.test", True),
    ("director@demo.test", True),
    ("director2@demo.test", False),
    ("auditor@demo.test", False),
    (None, False),
])
def test_only_the_organiser_and_the_institutions_own_director_get_the_certificate(demo_app, auth, email, allowed):
    _, number = publish_demo(demo_app)
    if email:
        assert auth.login(email).status_code == 302
    response = auth.client.get(f"/licences/{number}/certificate.pdf")
    if allowed:
        assert response.status_code == 200 and response.get_data().startswith(b"%PDF")
    else:
        assert response.status_code == 404 and not response.get_data().startswith(b"%PDF")


def test_a_revoked_licence_has_no_certificate(demo_app, auth):
    _, number = publish_demo(demo_app)
    with demo_app.app_context():
        licence(number).revoked_at = datetime(2026, 3, 4, 10, 0)
        db.session.commit()
    auth.as_role("organiser")
    assert auth.client.get(f"/licences/{number}/certificate.pdf").status_code == 404
    assert "certificate.pdf" not in auth.client.get(f"/verify/{number}").get_data(as_text=True)
    assert auth.client.get("/licences/AZ-0000-000-0000/certificate.pdf").status_code == 404


def test_the_certificate_pdf_is_a_pure_function_of_its_data():
    data = certificates.CertificateData(
        institution=POLISH_NAME, city="Łódź", edition="Lider Zaufania Mieszkańców 2026", year=2026, points=812.4,
        granted_at=date(2027, 1, 12), valid_until=date(2028, 1, 12), number="AZ-2026-001-0042",
        verify_url="https://example.org/verify/AZ-2026-001-0042")
    first = certificates.certificate_pdf(data)
    assert first == certificates.certificate_pdf(data)  # deterministic
    text = pdf_text(first)
    for expected in (POLISH_NAME, "812,4", "12 stycznia 2027", "12 stycznia 2028", "AZ-2026-001-0042",
                     "https://example.org/verify/AZ-2026-001-0042", "Quality licence".upper()):
        assert expected in text


@pytest.mark.parametrize(("typed", "expected"), [
    ("AZ-2026-001-0001", "AZ-2026-001-0001"), (" az-2026-001-0001 ", "AZ-2026-001-0001"),
    ("", None), ("A" * 41, None), ("AZ 2026", None), ("-AZ", None), ("<script>", None), ("ĄZ-1", None),
])
def test_certificate_numbers_are_checked_before_any_query(typed, expected):
    assert certificates.normalise_number(typed) == expected


def test_the_certificate_names_no_auditor_in_its_text_or_its_metadata(demo_app, auth):
    _, number = publish_demo(demo_app)
    with demo_app.app_context():
        institution_id = licence(number).institution_id
        auditors = db.session.scalars(sa.select(User).where(User.id.in_(
            sa.select(Contact.auditor_id).filter_by(institution_id=institution_id)))).all()
        for n, auditor in enumerate(auditors):
            auditor.name = f"Jan Kowalski{n}"
        identities = [(a.name, a.email, a.pseudonym) for a in auditors]
        db.session.commit()
    assert identities
    auth.as_role("director")
    data = auth.client.get(f"/licences/{number}/certificate.pdf").get_data()
    reader = pypdf.PdfReader(io.BytesIO(data))
    metadata = {key: str(value) for key, value in (reader.metadata or {}).items()}
    assert metadata["/Author"] == metadata["/Creator"] == "Audyt Zaufania"
    assert reader.xmp_metadata is None
    seen = "\n".join([*metadata.values(), pdf_text(data)])
    for secret in (s for identity in identities for s in identity if s):
        assert secret not in seen and secret.encode() not in data
