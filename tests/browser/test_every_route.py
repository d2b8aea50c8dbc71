"""Every page of the URL map, for every role that may open it, on a phone and a desktop, in Polish and English.

Issue 14's check that the product fits and reads as written in the page's language: one server
on a copy of the demo, one browser, one page per (role, size) reused for every route. A page
fails when it scrolls sideways, when an element reaches past the viewport outside a labelled
scroll container (role=region, aria-label, tabindex=0), when a scroll container that does
scroll is not labelled, on serious or critical axe-core violations (Polish pass), and when the
Polish page shows a text that is exactly an English msgid of the catalogue (a text left untranslated).

Which role may open which route comes from the access matrix (tests/test_access.py), so a new
route is visited as soon as it has a rule there; the ids are the demo's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import url_for

from audit import publication
from audit.extensions import db
from audit.models import (
    Assignment,
    CampaignChannel,
    Contact,
    ImprovementPlan,
    JobRecord,
    Licence,
    MailMessage,
    Revision,
    Scenario,
    User,
)

from ..conftest import ROOT
from ..test_access import ORGANISER_ROUTES, ROUTES
from .conftest import DESKTOP, PHONE, LiveServer, login, serious_violations, serve_demo

pytestmark = pytest.mark.browser

ROLES = {"organiser": "organiser", "auditor": "A1", "director": "D1", "anonymous": "anonymous"}

# Routes not visited, and why: files rather than pages, redirects, and pages that need an id the demo lacks.
NOT_PAGES = {
    "static": "a file of the stylesheet or scripts",
    "auditor.service_worker": "a script",
    "auth.set_language": "a redirect (used by the test to switch the language)",
    "auth.index": "a redirect to the role's home",
    "director.scorecard_workbook": "an Excel download",
    "organiser.edition_workbook": "an Excel download",
    "organiser.answers_workbook": "an Excel download",
    "organiser.institutions_template": "an Excel download",
    "public.certificate": "a PDF download",
    "public.rubric_source": "a YAML file",
    "evidence.show": "an uploaded file shown as it is; the demo has none",
    "organiser.institutions_import_confirm": "answers a POST; its GET redirects to the import page",
    "organiser.job_status": "JSON for the progress bar of the job's page",
    "organiser.job_download": "an Excel download",
    "organiser.appeal_document": "a file download",
    "director.appeal_document": "a file download",
}

# What the page may show whatever its language: names and words that are the same in both.
SAME_IN_BOTH = {"PL", "EN", "Role"}  # "Role" is also Polish (the plural of "rola")


def demo_ids(server: LiveServer) -> dict[str, str]:
    """The demo's own objects to fill the routes' ids: the current edition, the director's institution, ..."""
    with server.app.app_context():
        a1 = db.session.scalar(sa.select(User).filter_by(email="auditor@demo.test"))
        a2 = db.session.scalar(sa.select(User).filter_by(email="auditor2@demo.test"))
        d1 = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        institution = d1.institutions[-1]
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=1, auditor_id=a1.id, status="returned"))
        revision = db.session.scalars(sa.select(Revision).order_by(Revision.campaign_id.desc())).first()
        message = MailMessage(key="every-route", kind="contact_returned", user_id=a1.id, to_address=a1.email,
                              language="pl", subject="Kontakt zwrócony", text="t", html="<p>t</p>", status="sent")
        job = JobRecord(key="every-route", kind="answers", campaign_id=1, requested_by=db.session.scalar(
            sa.select(User.id).filter_by(role="organiser")), state="running", done=120, total=300,
            params={"download_name": "odpowiedzi-2026.xlsx", "language": "pl"})
        db.session.add_all([message, job])
        db.session.commit()
        ids = {
            "assignment": contact.assignment_id, "contact": contact.id, "institution": institution.id,
            "published": revision.campaign_id, "a2": a2.id, "mail": message.id,
            "licence": db.session.scalar(sa.select(Licence.number).filter_by(campaign_id=revision.campaign_id,
                                                                             institution_id=institution.id)),
            "scenario": db.session.scalar(sa.select(Scenario.id)),
            "rubric": db.session.scalar(sa.select(CampaignChannel.rubric_hash).filter_by(campaign_id=1)),
            "job": job.id, "plan": db.session.scalar(sa.select(ImprovementPlan.id).order_by(ImprovementPlan.id)),
            "counted_contact": min(publication.counted_contacts(revision.campaign_id, institution.id)),
            "evidence": 0, "copy": 0, "appeal": 0, "conflict": 0,
        }
        assert db.session.get(Assignment, ids["assignment"]).auditor_id == a1.id
    return {k: str(v) for k, v in ids.items()}


def pages_for(server: LiveServer, principal: str, ids: dict[str, str]) -> list[tuple[str, str]]:
    """(endpoint, path) of every HTML page the principal may open, from the access matrix."""
    app = server.app
    get_endpoints = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    entries = [(endpoint, rule.expected(principal), values) for endpoint, listed in ROUTES.items()
               for rule, method, values in listed if method == "GET"]
    if principal == "organiser":
        entries += [(endpoint, "ok", values) for endpoint, values in ORGANISER_ROUTES.items()]
    entries += [("organiser.edit_edition", "ok" if principal == "organiser" else 0, {}),  # the new edition's form
                ("organiser.institution_form", "ok" if principal == "organiser" else 0, {}),
                ("invitations.accept", "ok", {"token": "not-a-real-token"})]  # the "link not valid" page (a 404)
    out = []
    with app.test_request_context():
        for endpoint, expected, values in entries:
            if expected != "ok" or endpoint not in get_endpoints or endpoint in NOT_PAGES:
                continue
            path = url_for(endpoint, **{k: v.format(**ids) for k, v in values.items()})
            if (endpoint, path) not in out:
                out.append((endpoint, path))
    return out


def english_msgids() -> set[str]:
    """The catalogue's English texts whose Polish translation differs: seen on a Polish page, they are leftovers."""
    with open(ROOT / "audit/translations/pl/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    out = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid and msgid not in strings and "%" not in msgid and "{" not in msgid and any(c.isalpha() for c in msgid):
                out.add(msgid.strip())
    return out - SAME_IN_BOTH


# What the page shows past the viewport's right edge outside a labelled scroll container, what scrolls
# unlabelled, and the visible texts (for the language check). The width is the device's: on a phone
# the layout viewport (innerWidth) grows with content that is too wide.
MEASURE = """(width) => {
  const out = {wide: [], unlabelled: [], texts: []};
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const labelled = e => e.getAttribute('role') === 'region' && e.getAttribute('tabindex') === '0' &&
      (e.hasAttribute('aria-label') || e.hasAttribute('aria-labelledby'));
  const clipped = e => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o !== 'visible') return true;
    }
    return false;
  };
  for (const e of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(e);
    if (style.display === 'none' || style.visibility === 'hidden' || !e.getClientRects().length) continue;
    if (style.position === 'absolute' && e.clientWidth <= 1) continue;  // visually hidden (sr-only)
    const r = e.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 1 && !clipped(e))  // skip links wait off the left edge
      out.wide.push(name(e) + ' ' + Math.round(r.left) + '..' + Math.round(r.right) + 'px');
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && e.scrollWidth > e.clientWidth + 1 && !labelled(e))
      out.unlabelled.push(name(e) + ' scrolls ' + e.scrollWidth + 'px in ' + e.clientWidth + 'px');
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent.replace(/\\s+/g, ' ').trim();
    const p = n.parentElement;
    if (t && p && !['SCRIPT', 'STYLE'].includes(p.tagName) && p.getClientRects().length) out.texts.push(t);
  }
  for (const e of document.querySelectorAll('input[placeholder], [aria-label], input[type=submit][value]'))
    out.texts.push((e.getAttribute('placeholder') || e.getAttribute('aria-label') || e.value || '').trim());
  out.scroll = document.scrollingElement.scrollWidth;
  return out;
}"""


@pytest.fixture(scope="module")
def site(demo_db, tmp_path_factory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    with serve_demo(demo_db, Path(tmp_path_factory.mktemp("every-route"))) as server:
        yield server, demo_ids(server)


def check_page(page, path: str, language: str, leftovers: set[str], axe: bool) -> list[str]:
    """What is wrong with the page at `path`: sideways scrolling, content off-screen, axe, English on a Polish page."""
    response = page.goto(path)
    page.wait_for_load_state("load")
    problems = []
    if response is None or (response.status >= 400 and not path.startswith("/invite/")):
        return [f"answered {response.status if response else 'nothing'}"]
    width = page.viewport_size["width"]
    measured = page.evaluate(MEASURE, width)
    if measured["scroll"] > width + 1:
        problems.append(f"scrolls sideways: {measured['scroll']}px in {width}px")
    problems += [f"wider than the screen: {w}" for w in measured["wide"][:5]]
    problems += [f"unlabelled scroll box: {w}" for w in measured["unlabelled"][:5]]
    if language == "pl":
        english = sorted({t for t in measured["texts"] if t in leftovers})
        if english:
            problems.append(f"English on the Polish page: {english[:8]}")
    if axe:
        problems += [f"axe: {v}" for v in serious_violations(page)]
    return problems


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_and_speaks_its_language(site, browser, role, size):
    server, ids = site
    context = browser.new_context(base_url=server.url, **(PHONE if size == "phone" else DESKTOP))
    page = context.new_page()
    try:
        if role != "anonymous":
            login(page, server.url, role)
        leftovers = english_msgids()
        paths = pages_for(server, ROLES[role], ids)
        assert paths, f"no page for {role}"
        failures = []
        for language in ("pl", "en"):
            page.goto(f"/lang/{language}")
            for endpoint, path in paths:
                for problem in check_page(page, path, language, leftovers, axe=language == "pl"):
                    failures.append(f"[{language}] {path} ({endpoint}): {problem}")
        assert failures == [], "\n".join(failures)
    finally:
        context.close()
