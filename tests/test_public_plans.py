"""Improvement plans in public (issue 16): the registry and the method page may say that a licence holder
submitted a plan, when the organiser chose it for the edition; never the plan's content or its author."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from audit.extensions import db
from audit.models import AuditEvent, Campaign, ImprovementPlan, Licence, PlanAction, User

from .conftest import Auth
from .test_scorecard import token_of

FIELDWORK, OLDER, PAST = 1, 2, 3  # the demo's 2026 (in fieldwork), 2024 and 2025 editions
MARK = "ma plan naprawczy"
ROW = re.compile(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", re.S)
NUMBER = re.compile(r'href="/verify/([A-Z0-9-]+)"')


def marked_rows(client, query: str = "") -> dict[str, bool]:
    """Licence number -> whether its registry row carries the mark, over the registry's first page."""
    page = client.get(f"/registry{query}")
    assert page.status_code == 200
    return {NUMBER.search(row).group(1): MARK in row for row in ROW.findall(page.get_data(as_text=True))}


def numbers(campaign_id: int) -> dict[int, str]:
    """Institution -> licence number, for the edition's current licences."""
    return dict(db.session.execute(sa.select(Licence.institution_id, Licence.number)
                                   .filter_by(campaign_id=campaign_id, revoked_at=None)
                                   .where(Licence.valid_until >= date.today())).all())


def plan(campaign_id: int, institution_id: int, status: str, words: str = "Tajny plan") -> None:
    author = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
    db.session.add(ImprovementPlan(campaign_id=campaign_id, institution_id=institution_id, author_id=author.id,
                                   status=status, actions=[PlanAction(channel="phone", criterion_id="x",
                                                                      what=words, who=f"{words} (kto)")]))


def show_plans(campaign_id: int, on: bool) -> None:
    db.session.get_one(Campaign, campaign_id).plans_in_public = on


def keep_2024_current() -> None:
    """The demo's 2024 licences have expired: made valid again, the registry lists two editions' holders."""
    db.session.execute(sa.update(Licence).where(Licence.campaign_id == OLDER).values(valid_until=date(2099, 1, 1)))


def test_the_registry_marks_exactly_the_holders_with_a_submitted_plan_from_that_edition(demo_app, demo_client):
    with demo_app.app_context():
        keep_2024_current()
        past, older = numbers(PAST), numbers(OLDER)
        planned = set(db.session.scalars(sa.select(ImprovementPlan.institution_id).filter_by(
            campaign_id=PAST, status="submitted")))
        demo_holder = next(iter(planned & set(past)))  # the demo: a 2025 holder with a submitted plan
        both = sorted((set(past) & set(older)) - planned)
        drafted, submitted_2025 = both[0], both[1]
        plan(PAST, drafted, "draft")  # a draft is not a plan in public
        plan(PAST, submitted_2025, "submitted")  # ... a submitted one is, for its edition's licence only
        show_plans(OLDER, True)
        db.session.commit()
    rows = marked_rows(demo_client, f"?edition={PAST}")
    assert {n for n, marked in rows.items() if marked} == {past[demo_holder], past[submitted_2025]}
    assert not rows[past[drafted]]
    older_rows = marked_rows(demo_client, f"?edition={OLDER}")
    assert older_rows[older[submitted_2025]] is False  # its plan is from 2025, not from the 2024 result
    assert not any(older_rows.values())
    page = demo_client.get(f"/registry?edition={PAST}").get_data(as_text=True)
    assert "Sam plan nie jest publikowany." in page

    with demo_app.app_context():
        show_plans(PAST, False)  # the organiser's choice, per edition: off
        db.session.commit()
    assert not any(marked_rows(demo_client, f"?edition={PAST}").values())
    assert MARK not in demo_client.get("/registry").get_data(as_text=True)


def test_an_unpublished_edition_shows_no_plan_and_no_holder(demo_app, demo_client):
    """Even a licence row and a submitted plan of an edition in fieldwork (which the use cases never make)
    stay out of the registry, and its method page answers 404."""
    with demo_app.app_context():
        institution = next(iter(numbers(PAST)))
        show_plans(FIELDWORK, True)
        plan(FIELDWORK, institution, "submitted")
        db.session.add(Licence(number="LZ-2026-TEST-1", institution_id=institution, campaign_id=FIELDWORK,
                               points=990.0, granted_at=date.today(), valid_until=date(2099, 1, 1)))
        db.session.commit()
    assert "LZ-2026-TEST-1" not in marked_rows(demo_client)
    assert marked_rows(demo_client, f"?edition={FIELDWORK}") == marked_rows(demo_client)  # an unknown edition: ignored
    assert demo_client.get(f"/editions/{FIELDWORK}/method").status_code == 404


def test_the_method_page_counts_the_holders_with_a_plan_when_the_edition_shows_them(demo_app, demo_client):
    with demo_app.app_context():
        licensed = len(numbers(PAST))
        holders = set(numbers(PAST))
        planned = len(holders & set(db.session.scalars(sa.select(ImprovementPlan.institution_id).filter_by(
            campaign_id=PAST, status="submitted"))))
    page = demo_client.get(f"/editions/{PAST}/method").get_data(as_text=True)
    assert "Posiadacze licencji z planem naprawczym" in page
    assert f"Plan naprawczy złożył {planned} z {licensed} posiadaczy licencji tej edycji." in page
    assert f'href="/registry?edition={PAST}">Oznaczenia zobaczysz w rejestrze.</a>' in page
    assert "Treść planów nie jest publikowana." in page
    with demo_app.app_context():
        second = sorted(holders - set(db.session.scalars(sa.select(ImprovementPlan.institution_id))))[0]
        plan(PAST, second, "submitted")
        plan(PAST, sorted(holders - {second})[-1], "draft")
        db.session.commit()
    page = demo_client.get(f"/editions/{PAST}/method").get_data(as_text=True)
    assert f"Plan naprawczy złożyło {planned + 1} z {licensed} posiadaczy licencji tej edycji." in page
    demo_client.get("/lang/en")
    page = demo_client.get(f"/editions/{PAST}/method").get_data(as_text=True)
    assert f"{planned + 1} of the {licensed} licence holders of this edition submitted an improvement plan." in page
    assert "Licence holders with an improvement plan" in page

    older = demo_client.get(f"/editions/{OLDER}/method").get_data(as_text=True)  # 2024 keeps plans out of public
    assert "improvement plan" not in older.replace("What the auditor looks for", "")
    with demo_app.app_context():
        show_plans(PAST, False)
        db.session.commit()
    assert "Licence holders with an improvement plan" not in demo_client.get(f"/editions/{PAST}/method").get_data(
        as_text=True)


def test_no_public_page_shows_a_plans_content_its_comment_or_its_author(demo_app, demo_client):
    secret = "Poufne działanie 7Q"
    with demo_app.app_context():
        keep_2024_current()
        show_plans(OLDER, True)
        for campaign_id in (PAST, OLDER):
            holders = sorted(set(numbers(campaign_id)) - set(db.session.scalars(
                sa.select(ImprovementPlan.institution_id).filter_by(campaign_id=campaign_id))))
            plan(campaign_id, holders[0], "submitted", words=secret)
        plans = db.session.scalars(sa.select(ImprovementPlan).filter_by(status="submitted")).all()
        for p in plans:
            p.organiser_comment = f"{secret}: komentarz"
        said = {secret} | {a.what for p in plans for a in p.actions} | {a.who for p in plans for a in p.actions}
        authors = {db.session.get_one(User, p.author_id) for p in plans}
        said |= {u.name for u in authors} | {u.email for u in authors}
        urls = ["/registry", f"/registry?edition={PAST}", f"/registry?edition={OLDER}", f"/editions/{PAST}/method",
                f"/editions/{OLDER}/method"]
        urls += [f"/verify/{n}" for p in plans for i, n in numbers(p.campaign_id).items() if i == p.institution_id]
        db.session.commit()
    marks = 0
    for lang in ("pl", "en"):
        demo_client.get(f"/lang/{lang}")
        for url in urls:
            page = demo_client.get(url).get_data(as_text=True)
            assert [s for s in said if s in page] == [], url
            marks += page.count(MARK) + page.count("has an improvement plan")
    assert marks > 0  # the pages did show the marks: the content was what stayed out


def test_the_organiser_sets_it_per_edition_with_a_sentence_saying_what_it_shows(demo_app):
    organiser = Auth(demo_app.test_client())
    organiser.as_role("organiser")
    page = organiser.client.get(f"/organiser/campaigns/{OLDER}").get_data(as_text=True)
    assert "Rejestr i strona metody pokazują, którzy posiadacze licencji złożyli plan naprawczy" in page
    assert "Treść planu i jego autor nigdy nie są pokazywane." in page
    assert 'name="plans_in_public"' in page and 'aria-describedby="plans-in-public-hint"' in page
    with demo_app.app_context():
        campaign = db.session.get_one(Campaign, OLDER)
        kept = {"appeal_until": "", "evidence_to_directors": "y" if campaign.evidence_to_directors else "",
                "comments_to_directors": "y" if campaign.comments_to_directors else ""}
    data = {"csrf_token": token_of(page), **{k: v for k, v in kept.items() if v}}
    assert organiser.client.post(f"/organiser/campaigns/{OLDER}/director-access",
                                 data={**data, "plans_in_public": "y"}).status_code == 302
    with demo_app.app_context():
        assert db.session.get_one(Campaign, OLDER).plans_in_public is True
        assert db.session.get_one(Campaign, PAST).plans_in_public is True  # another edition: its own choice
        entry = db.session.scalar(sa.select(AuditEvent).filter_by(action="director_access", campaign_id=OLDER)
                                  .order_by(AuditEvent.id.desc()))
        assert entry.details["after"][3] is True
    log = organiser.client.get(f"/organiser/campaigns/{OLDER}/log").get_data(as_text=True)
    assert "plany naprawcze oznaczane publicznie" in log
    organiser.client.post(f"/organiser/campaigns/{OLDER}/director-access", data=data)  # unticked: off again
    with demo_app.app_context():
        assert db.session.get_one(Campaign, OLDER).plans_in_public is False
