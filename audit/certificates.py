"""Licences in public: a licence's status, the registry of current holders, and the certificate PDF.

The public facts about a licence are few on purpose: the institution, the edition, the points,
the dates, and how many contacts stand behind the result. Never an auditor, a contact's date,
scenario or answers, and never why a licence was revoked (the reason may be private). Where the
organiser chose it for the edition (`Campaign.plans_in_public`), the registry also says that the
holder's director submitted an improvement plan from that edition: that it exists, never what it
says or who wrote it.

The certificate is drawn by a pure function (`certificate_pdf`) from a small dataclass: no
Flask, no database, and the same input always gives the same bytes. It is Polish first with
English subtitles, in the bundled DejaVu fonts so Polish letters print on any machine.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from babel.dates import format_date
from babel.numbers import format_decimal
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from . import paging
from .extensions import db
from .models import Campaign, ImprovementPlan, Institution, Licence, Revision, RevisionStanding

NUMBER_MAX_LENGTH = 40  # Licence.number's column
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")

LicenceStatus = Literal["valid", "expired", "revoked"]


# --- looking a licence up ------------------------------------------------------------------


def normalise_number(text: str | None) -> str | None:
    """A typed certificate number in its stored form, or None if it cannot be one.

    Lower case and surrounding spaces are forgiven; anything longer than the column or with
    other characters is refused before it reaches the database.
    """
    if not text:
        return None
    number = text.strip().upper()
    return number if len(number) <= NUMBER_MAX_LENGTH and _NUMBER.match(number) else None


def licence_by_number(text: str | None) -> Licence | None:
    number = normalise_number(text)
    return None if number is None else db.session.scalar(sa.select(Licence).filter_by(number=number))


def status_of(licence: Licence, today: date) -> LicenceStatus:
    """Revoked beats expired; a licence is still valid on its valid_until day."""
    if licence.revoked_at is not None:
        return "revoked"
    return "expired" if licence.valid_until < today else "valid"


@dataclass(frozen=True)
class Verification:
    """What the public verification page shows about one licence."""

    licence: Licence
    institution: Institution
    campaign: Campaign
    status: LicenceStatus
    contacts: dict[str, int | None]
    """Channel -> accepted contacts behind the published result; None: the institution does not offer it."""


def verification(licence: Licence, today: date) -> Verification:
    institution = db.session.get_one(Institution, licence.institution_id)
    campaign = db.session.get_one(Campaign, licence.campaign_id)
    standing = db.session.scalar(
        sa.select(RevisionStanding).join(Revision)
        .where(Revision.campaign_id == campaign.id, RevisionStanding.institution_id == institution.id)
        .order_by(Revision.number.desc()).limit(1))
    published = standing.channels if standing is not None else {}
    contacts: dict[str, int | None] = {}
    for ch in campaign.channels:  # as frozen in the revision, even if the institution's channels changed since
        row = published.get(ch.channel)
        if row is None or str(row.get("status", "")).startswith("not_offered"):
            contacts[ch.channel] = None
        else:
            contacts[ch.channel] = int(row.get("contacts") or 0)
    return Verification(licence, institution, campaign, status_of(licence, today), contacts)


def may_download(licence: Licence, user: object) -> bool:
    """The organiser, or a director of the licensed institution; and only while it is not revoked."""
    if licence.revoked_at is not None or not getattr(user, "is_authenticated", False):
        return False
    role = getattr(user, "role", None)
    if role == "organiser":
        return True
    return role == "director" and any(i.id == licence.institution_id for i in getattr(user, "institutions", ()))


# --- the registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """One current licence in the public registry."""

    number: str
    points: float
    valid_until: date
    institution: Institution
    campaign: Campaign
    has_plan: bool = False
    """The edition shows plans in public and the institution submitted one from it (never its content)."""


def published_editions() -> list[Campaign]:
    """Editions with at least one published revision, newest first."""
    published = sa.select(Revision.id).where(Revision.campaign_id == Campaign.id).exists()
    return list(db.session.scalars(sa.select(Campaign).where(published)
                                   .order_by(Campaign.year.desc(), Campaign.id.desc())))


def submitted_plan(campaign_id: Any, institution_id: Any) -> sa.Exists:
    """Whether the institution's director submitted an improvement plan from the edition (a draft does not
    count): a correlated EXISTS on the plan's unique (edition, institution) index, for a query's row.

    Public pages ask it only where the edition shows plans in public (`Campaign.plans_in_public`).
    """
    return (sa.select(ImprovementPlan.id)
            .where(ImprovementPlan.campaign_id == campaign_id, ImprovementPlan.institution_id == institution_id,
                   ImprovementPlan.status == "submitted").exists())


def holders_query(today: date, campaign_id: int | None = None, category: str | None = None,
                  region: str | None = None, search: str = "") -> sa.Select[Any]:
    """Licences neither revoked nor expired, of published editions; by edition, then points, then name.

    Rows are (Licence, Institution, Campaign, has_plan): has_plan when the licence's edition shows plans
    in public and the holder submitted one from that edition.
    """
    published = sa.select(Revision.id).where(Revision.campaign_id == Licence.campaign_id).exists()
    has_plan = sa.and_(Campaign.plans_in_public, submitted_plan(Licence.campaign_id, Licence.institution_id))
    query = (sa.select(Licence, Institution, Campaign, has_plan.label("has_plan"))
             .join(Institution, Institution.id == Licence.institution_id)
             .join(Campaign, Campaign.id == Licence.campaign_id)
             .where(Licence.revoked_at.is_(None), Licence.valid_until >= today, published)
             .order_by(Campaign.year.desc(), Campaign.id.desc(), Licence.points.desc(), Institution.name, Licence.id))
    if campaign_id is not None:
        query = query.where(Licence.campaign_id == campaign_id)
    if category:
        query = query.where(Institution.category == category)
    if region:
        query = query.where(Institution.region == region)
    if search.strip():
        query = query.where(paging.institution_matches(search))
    return query


def as_holders(rows: Iterable[Any]) -> list[Holder]:
    return [Holder(lic.number, lic.points, lic.valid_until, inst, campaign, bool(has_plan))
            for lic, inst, campaign, has_plan in rows]


def current_holders(today: date, campaign_id: int | None = None, category: str | None = None,
                    region: str | None = None) -> list[Holder]:
    """Every current holder (the registry shows them a page at a time: holders_query)."""
    return as_holders(db.session.execute(holders_query(today, campaign_id, category, region)))


def holder_regions(today: date) -> list[str]:
    """The regions that have at least one current holder, for the registry's filter."""
    holders = holders_query(today).subquery()
    return sorted(r for r in db.session.scalars(sa.select(holders.c.region).distinct()) if r)


# --- the certificate -----------------------------------------------------------------------

FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"

BRAND = HexColor("#0b5cad")
INK = HexColor("#1c2430")
MUTED = HexColor("#5a6473")
GOLD = HexColor("#b8892b")
PAPER = HexColor("#fbfaf6")
TINT = HexColor("#e8f0fb")


@dataclass(frozen=True)
class CertificateData:
    institution: str
    city: str
    edition: str
    year: int
    points: float
    granted_at: date
    valid_until: date
    number: str
    verify_url: str


def certificate_data(licence: Licence, verify_url: str) -> CertificateData:
    institution = db.session.get_one(Institution, licence.institution_id)
    campaign = db.session.get_one(Campaign, licence.campaign_id)
    return CertificateData(institution.name, institution.city, campaign.name, campaign.year, licence.points,
                           licence.granted_at, licence.valid_until, licence.number, verify_url)


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONTS / file)))


def _pl_date(day: date) -> str:
    return format_date(day, "d MMMM y", locale="pl")


def _fit(text: str, font: str, size: float, width: float, max_lines: int, smallest: float) -> tuple[list[str], float]:
    """The text wrapped to `width`, its font shrunk (down to `smallest`) until it takes at most max_lines."""
    while True:
        lines = simpleSplit(text, font, size, width)
        if len(lines) <= max_lines or size <= smallest:
            return lines, size
        size -= 1


def _centred(c: Canvas, x: float, y: float, text: str, font: str, size: float, color: Color,
             spacing: float = 0) -> None:
    c.setFont(font, size)
    c.setFillColor(color)
    if spacing:
        width = pdfmetrics.stringWidth(text, font, size) + spacing * (len(text) - 1)
        t = c.beginText(x - width / 2, y)
        t.setFont(font, size)
        t.setCharSpace(spacing)
        t.textOut(text)
        t.setCharSpace(0)  # the text state outlives the text object: reset it for what follows
        c.drawText(t)
    else:
        c.drawCentredString(x, y, text)


def _label(c: Canvas, x: float, y: float, pl: str, en: str, value: str, value_size: float = 13) -> None:
    """A fact at the foot of the certificate: Polish label, English label, the value."""
    c.setFillColor(MUTED)
    c.setFont(BOLD, 7.5)
    c.drawString(x, y, pl.upper())
    c.setFont(REGULAR, 7.5)
    c.drawString(x, y - 10, en)
    c.setFillColor(INK)
    c.setFont(BOLD, value_size)
    c.drawString(x, y - 28, value)


def _qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The URL as a QR code (reportlab's encoder, medium error correction), drawn as filled runs."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(url)
    qr.make()
    count = qr.getModuleCount()
    module = size / count
    c.setFillColor(INK)
    for row in range(count):
        col = 0
        while col < count:
            start = col
            while col < count and qr.isDark(row, col):
                col += 1
            if col > start:
                c.rect(x + start * module, y + size - (row + 1) * module, (col - start) * module, module,
                       stroke=0, fill=1)
            col += 1


def certificate_pdf(data: CertificateData) -> bytes:
    """The licence certificate: one A4 landscape page, Polish with English subtitles.

    Deterministic (reportlab's invariant mode): the same data always gives the same bytes.
    """
    _register_fonts()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    c = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1, initialFontName=REGULAR)
    c.setTitle(f"Licencja Jakości {data.number} – {data.institution}")
    c.setAuthor("Audyt Zaufania")
    c.setSubject(data.edition)
    c.setCreator("Audyt Zaufania")

    # paper and frame: a brand band on the left, a double rule around the page
    c.setFillColor(PAPER)
    c.rect(0, 0, width, height, stroke=0, fill=1)
    c.setFillColor(BRAND)
    c.rect(0, 0, 14, height, stroke=0, fill=1)
    c.setStrokeColor(BRAND)
    c.setLineWidth(2.2)
    c.rect(30, 24, width - 54, height - 48, stroke=1, fill=0)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.6)
    c.rect(37, 31, width - 68, height - 62, stroke=1, fill=0)

    mid = (37 + width - 31) / 2
    _centred(c, mid, height - 78, "AUDYT ZAUFANIA", BOLD, 10, BRAND, spacing=3)
    _centred(c, mid, height - 92, "badanie jakości obsługi metodą tajemniczego klienta · mystery-shopper audit",
             REGULAR, 8, MUTED)
    _centred(c, mid, height - 146, "Licencja Jakości", BOLD, 42, INK)
    _centred(c, mid, height - 170, "QUALITY LICENCE", REGULAR, 11, MUTED, spacing=2.5)
    c.setStrokeColor(GOLD)
    c.setLineWidth(1.2)
    c.line(mid - 60, height - 186, mid + 60, height - 186)
    c.setFillColor(GOLD)
    c.circle(mid, height - 186, 2.6, stroke=0, fill=1)

    _centred(c, mid, height - 214, "przyznana instytucji · granted to", REGULAR, 10, MUTED)
    lines, size = _fit(data.institution, BOLD, 24, width - 220, 2, 15)
    y = height - 244
    for line in lines:
        _centred(c, mid, y, line, BOLD, size, INK)
        y -= size * 1.25
    _centred(c, mid, y - 4, data.city, REGULAR, 13, INK)
    y -= 30
    _centred(c, mid, y, "za wynik w edycji konkursu · for its result in the edition", REGULAR, 10, MUTED)
    edition_lines, edition_size = _fit(data.edition, BOLD, 14, width - 260, 2, 10)
    y -= 20
    for line in edition_lines:
        _centred(c, mid, y, line, BOLD, edition_size, BRAND)
        y -= edition_size * 1.3

    # the foot: points in a seal, the dates and number, the QR code that verifies it all
    seal_x, seal_y, radius = 128, 118, 52
    c.setFillColor(TINT)
    c.setStrokeColor(BRAND)
    c.setLineWidth(2)
    c.circle(seal_x, seal_y, radius, stroke=1, fill=1)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.6)
    c.circle(seal_x, seal_y, radius - 5, stroke=1, fill=0)
    points = format_decimal(data.points, format="#,##0.0", locale="pl")
    _centred(c, seal_x, seal_y + 16, "PUNKTY · POINTS", BOLD, 6.5, MUTED, spacing=0.8)
    points_size = 22 if len(points) <= 5 else 19
    _centred(c, seal_x, seal_y - 6, points, BOLD, points_size, BRAND)
    _centred(c, seal_x, seal_y - 22, "na 1000 · of 1000", REGULAR, 7.5, MUTED)

    facts_x, facts_y = 212, 150
    _label(c, facts_x, facts_y, "Data przyznania", "Granted on", _pl_date(data.granted_at))
    _label(c, facts_x + 190, facts_y, "Ważna do", "Valid until", _pl_date(data.valid_until))
    _label(c, facts_x, facts_y - 58, "Numer licencji", "Licence number", data.number, value_size=14)
    _label(c, facts_x + 190, facts_y - 58, "Edycja", "Edition year", str(data.year))

    qr_size = 92
    qr_x, qr_y = width - 70 - qr_size - 60, 104
    c.setFillColor(HexColor("#ffffff"))
    c.setStrokeColor(HexColor("#d9dee5"))
    c.setLineWidth(0.8)
    c.roundRect(qr_x - 70, qr_y - 44, qr_size + 140, qr_size + 80, 6, stroke=1, fill=1)
    _centred(c, qr_x + qr_size / 2, qr_y + qr_size + 16, "SPRAWDŹ WAŻNOŚĆ · VERIFY", BOLD, 7.5, BRAND, spacing=0.6)
    _qr(c, data.verify_url, qr_x, qr_y + 8, qr_size)
    url_lines, url_size = _fit(data.verify_url, REGULAR, 7.5, qr_size + 124, 3, 5.5)
    y = qr_y - 6
    for line in url_lines:
        _centred(c, qr_x + qr_size / 2, y, line, REGULAR, url_size, INK)
        y -= url_size * 1.35

    _centred(c, mid, 44, "Ważność licencji potwierdza strona weryfikacji pod adresem z kodu QR. "
             "· Only the verification page behind the QR code confirms that this licence is valid.",
             REGULAR, 7, MUTED)
    c.showPage()
    c.save()
    return buffer.getvalue()
