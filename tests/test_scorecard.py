"""The director's scorecard, appeals and evidence: the arithmetic, the page, and who may see what."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from audit import appeals, publication, scorecard
from audit.extensions import db
from audit.models import Appeal, AuditEvent, Campaign, Contact, Evidence, Institution, RevisionStanding, User
from audit.rubrics import load_rubric

from .conftest import ROOT, Auth

PHONE = load_rubric(ROOT / "rubrics" / "phone.yaml")
VISIT = load_rubric(ROOT / "rubrics" / "visit.yaml")
PAST = 3  # the demo's newest published edition (2025), with an open appeal window


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


# --- arithmetic ---------------------------------------------------------------------------------


def test_lost_points_puts_knockouts_first_then_the_biggest_losses():
    critical = next(c for c in PHONE.criteria if c.critical)
    plain = [c for c in PHONE.criteria if not c.critical and c.max_points >= 2][:2]
    rows = [
        (1, "phone", plain[0].id, 0.0, plain[0].max_points), (2, "phone", plain[0].id, 0.0, plain[0].max_points),
        (1, "phone", plain[1].id, plain[1].max_points - 1, plain[1].max_points),
        (2, "phone", plain[1].id, plain[1].max_points, plain[1].max_points),
        (1, "phone", critical.id, 0.0, critical.max_points), (2, "phone", critical.id, critical.max_points, critical.max_points),
        (1, "phone", "gone_from_rubric", 0.0, 5.0), (2, "phone", plain[0].id + "x", 0.0, 0.0),
    ]
    lost = scorecard.lost_points(rows, {"phone": PHONE})
    assert [i.criterion.id for i in lost] == [critical.id, plain[0].id, plain[1].id]
    assert lost[0].critical_failed and (lost[0].failed, lost[0].asked) == (1, 2)
    assert lost[1].points_lost == 2 * plain[0].max_points and (lost[1].failed, lost[1].asked) == (2, 2)
    assert lost[2].points_lost == 1 and lost[2].failed == 1


def test_section_scores_total_each_sections_points_and_skip_what_was_not_asked():
    section = VISIT.sections[0]
    a, b = section.criteria[0], section.criteria[1]
    rows = [(1, "visit", a.id, 1.0, 2.0), (1, "visit", b.id, 3.0, 3.0), (1, "visit", VISIT.sections[1].criteria[0].id, 0.0, 0.0)]
    assert scorecard.section_scores(rows, {"visit": VISIT}) == [("visit", section.title, 4.0 / 5.0)]


@pytest.mark.parametrize(("points", "peers", "expected"), [
    (500.0, [100.0, 500.0, 900.0], 50.0), (900.0, [100.0, 500.0, 900.0], 100 * 2.5 / 3),
    (100.0, [100.0], 50.0), (None, [1.0], None), (5.0, [], None)])
def test_percentile_counts_ties_as_half(points, peers, expected):
    assert scorecard.percentile(points, peers) == pytest.approx(expected) if expected is not None else \
        scorecard.percentile(points, peers) is None


# --- the page -------------------------------------------------------------------------------------


def director_and_institutions(app) -> tuple[list[int], int]:
    with app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        own = [i.id for i in director.institutions]
        other = db.session.scalar(sa.select(Institution.id).where(Institution.id.not_in(own)))
        return own, other


def test_the_director_reads_their_scorecard_against_the_published_revision(demo_app, auth):
    own, _other = director_and_institutions(demo_app)
    auth.as_role("director")
    home = auth.client.get("/director/").get_data(as_text=True)
    assert f"/director/campaigns/{PAST}/institutions/{own[0]}" in home
    page = auth.client.get(f"/director/campaigns/{PAST}/institutions/{own[0]}").get_data(as_text=True)
    with demo_app.app_context():
        revision = publication.latest_revision(PAST)
        row = db.session.get(RevisionStanding, (revision.id, own[0]))
        points = f"{row.points:.1f}".replace(".", ",")
        counted = [i for ch in row.channels.values() for i in ch["contact_ids"]]
        auditors = db.session.scalars(sa.select(User).join(Contact, Contact.auditor_id == User.id)
                                      .where(Contact.id.in_(counted))).all()
    assert points in page
    for contact_id in counted:
        assert f'id="contact-{contact_id}"' in page
    for auditor in auditors:  # a pseudonym, never a name or an e-mail
        assert auditor.pseudonym in page and auditor.name not in page and auditor.email not in page
    charts = dict(re.findall(r'<script type="application/json" id="chart-(\w+)">(.*?)</script>', page, re.S))
    assert {"channels", "distribution", "sections", "trend"} <= set(charts)
    distribution = json.loads(charts["distribution"])
    with demo_app.app_context():
        peers = [r.points for r in publication.latest_revision(PAST).standings
                 if r.category == row.category and r.points is not None]
    assert sum(distribution["data"][0]["y"]) == len(peers)
    assert distribution["data"][1]["name"] == "Próg licencji"  # the dashed threshold is named in the legend
    assert "plotly-basic" in page and "cdn" not in page.lower()


def test_the_figures_a_revision_keeps_equal_those_computed_from_its_rows(demo_app):
    """A scorecard reads its peers' figures and its interval from what publication stored; a revision
    published before they were stored gets the same numbers computed from its rows."""
    from audit import result_cache

    with demo_app.app_context():
        campaign = db.session.get(Campaign, PAST)
        revision = publication.latest_revision(campaign.id)
        institutions = [db.session.get(Institution, iid) for iid in db.session.scalars(
            sa.select(RevisionStanding.institution_id).filter_by(revision_id=revision.id))]

        def figures() -> list[tuple]:
            db.session.expire_all()
            cards = [scorecard.build(campaign, i) for i in institutions]
            return [(c.category_points, [(ch.channel, ch.score, ch.category_median) for ch in c.channels], c.certainty)
                    for c in cards]

        stored = figures()
        for (points, channels, _), institution in zip(stored, institutions, strict=True):  # the rule, row by row
            category = db.session.get(RevisionStanding, (revision.id, institution.id)).category
            peers = [r for r in revision.standings if r.category == category]
            assert sorted(points) == sorted(r.points for r in peers if r.points is not None)
            for channel, _score, median in channels:
                scores = [r.channels[channel]["score"] for r in peers
                          if r.channels.get(channel, {}).get("score") is not None]
                assert median == (scorecard.median_or_none(scores))
        assert revision.figures and all(r.certainty for r in revision.standings if r.points is not None)
        revision.figures = None
        for row in revision.standings:
            row.certainty = None
        db.session.commit()
        result_cache.forget()
        assert figures() == stored
        assert any(card[2] is not None and card[2].rank_best != card[2].rank_worst for card in stored)


def test_a_director_gets_nothing_of_another_institution(demo_app, auth):
    own, other = director_and_institutions(demo_app)
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=PAST, institution_id=other))
        contact_id = contact.id
        db.session.get(Campaign, PAST).evidence_to_directors = True
        evidence = Evidence(contact_id=contact_id, kind="text", original_name="mail.txt", content_type="text/plain",
                            size=3, sha256="0" * 64, storage_key="x" * 32 + ".txt")
        db.session.add(evidence)
        db.session.commit()
        evidence_id = evidence.id
    auth.as_role("director")
    assert auth.client.get(f"/director/campaigns/{PAST}/institutions/{other}").status_code == 404
    assert auth.client.get(f"/director/campaigns/{PAST}/institutions/{other}/scorecard.xlsx").status_code == 404
    assert auth.client.get(f"/evidence/{evidence_id}").status_code == 404
    page = auth.client.get(f"/director/campaigns/{PAST}/institutions/{own[0]}").get_data(as_text=True)
    response = auth.client.post(f"/director/contacts/{contact_id}/appeal",
                                data={"csrf_token": token_of(page), "reason": "To nie nasz kontakt."})
    assert response.status_code == 404
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Appeal)) is None


def test_an_unpublished_edition_has_no_scorecard(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    auth.as_role("director")
    assert auth.client.get(f"/director/campaigns/1/institutions/{own[0]}").status_code == 404


def test_evidence_is_shown_to_directors_only_when_the_edition_shares_it(demo_app, auth, tmp_path):
    own, _ = director_and_institutions(demo_app)
    with demo_app.app_context():
        contact_id = next(iter(publication.counted_contacts(PAST, own[0])))
        folder = demo_app.config["EVIDENCE_DIR"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ("e" * 32 + ".txt")).write_text("Dzień dobry")
        item = Evidence(contact_id=contact_id, kind="text", original_name="odpowiedz.txt", content_type="text/plain",
                        size=11, sha256="0" * 64, storage_key="e" * 32 + ".txt")
        db.session.add(item)
        db.session.get(Campaign, PAST).evidence_to_directors = False
        db.session.commit()
        evidence_id = item.id
    auth.as_role("director")
    url = f"/director/campaigns/{PAST}/institutions/{own[0]}"
    assert "odpowiedz.txt" not in auth.client.get(url).get_data(as_text=True)
    assert auth.client.get(f"/evidence/{evidence_id}").status_code == 404
    with demo_app.app_context():
        db.session.get(Campaign, PAST).evidence_to_directors = True
        db.session.commit()
    page = auth.client.get(url).get_data(as_text=True)
    assert "dowod-1.txt" in page and "odpowiedz.txt" not in page  # a neutral name: the auditor chose the original
    with auth.client.get(f"/evidence/{evidence_id}") as served:
        assert served.status_code == 200 and served.data == "Dzień dobry".encode()


# --- appeals --------------------------------------------------------------------------------------


def test_an_appeal_is_filed_decided_and_its_outcome_shown(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    with demo_app.app_context():
        contact_id = min(publication.counted_contacts(PAST, own[0]))
    auth.as_role("director")
    url = f"/director/campaigns/{PAST}/institutions/{own[0]}"
    token = token_of(auth.client.get(url).get_data(as_text=True))
    auth.client.post(f"/director/contacts/{contact_id}/appeal", data={"csrf_token": token, "reason": "   "})
    auth.client.post(f"/director/contacts/{contact_id}/appeal",
                     data={"csrf_token": token, "reason": "Tego dnia punkt był zamknięty z powodu awarii."})
    auth.client.post(f"/director/contacts/{contact_id}/appeal", data={"csrf_token": token, "reason": "Jeszcze raz."})
    with demo_app.app_context():
        (appeal,) = db.session.scalars(sa.select(Appeal)).all()  # no empty one, no duplicate while open
        assert appeal.status == "open" and appeal.reason.startswith("Tego dnia")
        appeal_id = appeal.id
    organiser = Auth(demo_app.test_client())
    organiser.as_role("organiser")
    page = organiser.client.get(f"/organiser/campaigns/{PAST}/appeals").get_data(as_text=True)
    assert "Tego dnia punkt był zamknięty" in page
    organiser.client.post(f"/organiser/appeals/{appeal_id}", data={"csrf_token": token_of(page), "decision": "upheld",
                                                                  "resolution": "Potwierdzono awarię."})
    with demo_app.app_context():
        appeal = db.session.get(Appeal, appeal_id)
        assert appeal.status == "upheld" and appeal.resolved_at is not None
        actions = {e.action for e in db.session.scalars(sa.select(AuditEvent).filter_by(object_id=contact_id))}
        assert {"appeal_filed", "appeal_upheld"} <= actions
        before = publication.latest_revision(PAST).number
    assert "Potwierdzono awarię." in auth.client.get(url).get_data(as_text=True)
    with demo_app.app_context():  # the decision alone publishes nothing
        assert publication.latest_revision(PAST).number == before


def test_appeals_close_with_their_window(demo_app):
    own, _ = director_and_institutions(demo_app)
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        contact = db.session.get(Contact, min(publication.counted_contacts(PAST, own[0])))
        until = db.session.get(Campaign, PAST).appeal_until
        with pytest.raises(appeals.AppealError):
            appeals.file_appeal(director, contact, "Za późno.", today=until + timedelta(days=1))
        appeals.file_appeal(director, contact, "W terminie.", today=until)
        unpublished = db.session.scalar(sa.select(Contact).filter_by(campaign_id=1, institution_id=own[0]))
        with pytest.raises(appeals.AppealError):
            appeals.file_appeal(director, unpublished, "Nieopublikowany.", today=date.today())


def test_a_director_cannot_tell_fieldwork_contacts_from_ids_that_do_not_exist(demo_app, auth):
    """Security finding: polling contact ids told a director that a shopper was at work (302 vs 404)."""
    own, _other = director_and_institutions(demo_app)
    with demo_app.app_context():
        unpublished = {status: db.session.scalar(sa.select(Contact.id).where(
            Contact.institution_id.in_(own), Contact.status == status, Contact.campaign_id == 1))  # in fieldwork
            for status in ("draft", "submitted", "returned", "accepted")}
        unpublished = {s: i for s, i in unpublished.items() if i is not None}
        assert {"returned", "accepted"} <= set(unpublished)
        missing = db.session.scalar(sa.select(sa.func.max(Contact.id))) + 1000
    auth.as_role("director")
    page = auth.client.get(f"/director/campaigns/{PAST}/institutions/{own[0]}").get_data(as_text=True)
    token = token_of(page)

    def appeal(contact_id: int):
        return auth.client.post(f"/director/contacts/{contact_id}/appeal", data={"csrf_token": token, "reason": "x"})

    nothing = appeal(missing)
    assert nothing.status_code == 404
    for status, contact_id in unpublished.items():
        response = appeal(contact_id)
        assert (response.status_code, response.get_data()) == (nothing.status_code, nothing.get_data()), status
    with demo_app.app_context():
        assert db.session.scalar(sa.select(Appeal)) is None


def test_the_headline_and_the_sentence_count_the_same_institutions_beaten(demo_app, auth):
    """'lepiej niż X' in the headline is the same count as the category sentence (issue 14: 96% vs 11 of 12)."""
    own, _other = director_and_institutions(demo_app)
    auth.as_role("director")
    for institution_id in own:
        page = auth.client.get(f"/director/campaigns/{PAST}/institutions/{institution_id}").get_data(as_text=True)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
        headline = re.search(r"lepiej niż (\d+) z (\d+) instytucji w kategorii", text)
        sentence = re.search(r"mniejszą liczbą punktów: (\d+) z (\d+) sklasyfikowanych", text)
        assert headline and sentence, text[:2000]
        assert headline.groups() == sentence.groups()
