"""A published contact as a director sees it, and precise appeals: per criterion, with a document."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from audit import appeals, publication, review, scorecard, storage
from audit.extensions import db
from audit.models import (
    Answer,
    Appeal,
    AppealCriterion,
    AuditEvent,
    Campaign,
    Contact,
    MailMessage,
    RevisionAnswer,
    User,
)

from .conftest import Auth
from .test_scorecard import PAST, director_and_institutions, token_of


def _counted(app, institution_id: int) -> int:
    with app.app_context():
        return min(publication.counted_contacts(PAST, institution_id))


def _lost_answer(app, contact_id: int) -> Answer:
    """A scored yes/no answer of the contact that lost its points (to contest, and to correct to yes)."""
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        rubric = review.rubric_by_hash(contact.rubric_hash)
        for answer in contact.answers:
            criterion = rubric.criterion(answer.criterion_id)
            if criterion.type == "yes_no" and answer.value == "no" and answer.possible > 0 and not criterion.when:
                db.session.expunge(answer)
                return answer
    pytest.skip("the demo contact has no lost yes/no answer")


def _with_lost_answer(app, institution_id: int) -> tuple[int, Answer]:
    with app.app_context():
        ids = sorted(publication.counted_contacts(PAST, institution_id))
    for contact_id in ids:
        try:
            return contact_id, _lost_answer(app, contact_id)
        except pytest.skip.Exception:
            continue
    pytest.skip("no counted contact with a lost yes/no answer")


def _auditor_words(app, contact_id: int) -> tuple[str, str, str]:
    with app.app_context():
        auditor = db.session.get(User, db.session.get(Contact, contact_id).auditor_id)
        return auditor.name, auditor.email, auditor.pseudonym


# --- freezing at publish --------------------------------------------------------------------------


def test_publishing_freezes_the_answers_of_every_counted_contact(demo_app):
    with demo_app.app_context():
        revision = publication.latest_revision(PAST)
        counted = {i for row in revision.standings for ch in row.channels.values() for i in ch["contact_ids"]}
        frozen = set(db.session.scalars(sa.select(RevisionAnswer.contact_id).filter_by(revision_id=revision.id)))
        assert counted and counted <= frozen
        live = db.session.execute(sa.select(Answer.contact_id, Answer.criterion_id, Answer.value, Answer.earned)
                                  .where(Answer.contact_id.in_(counted))).all()
        stored = db.session.execute(sa.select(RevisionAnswer.contact_id, RevisionAnswer.criterion_id,
                                              RevisionAnswer.value, RevisionAnswer.earned)
                                    .where(RevisionAnswer.revision_id == revision.id,
                                           RevisionAnswer.contact_id.in_(counted))).all()
        assert sorted(live) == sorted(stored)


# --- the published contact ------------------------------------------------------------------------


def test_a_director_reads_a_contacts_answers_as_published_until_the_next_revision(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    contact_id, lost = _with_lost_answer(demo_app, own[0])
    name, email, pseudonym = _auditor_words(demo_app, contact_id)
    auth.as_role("director")
    url = f"/director/contacts/{contact_id}"
    page = auth.client.get(url).get_data(as_text=True)
    assert f'id="c-{lost.criterion_id}" class="lost"' in page
    assert pseudonym in page and name not in page and email not in page
    before = page.split(f'id="c-{lost.criterion_id}"')[1].split("</tr>")[0]
    assert "Nie" in before
    with demo_app.app_context():  # the organiser corrects the answer after publication
        contact = db.session.get(Contact, contact_id)
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        review.correct_answer(contact, organiser, contact.version, lost.criterion_id, "yes", "Nagranie to potwierdza.")
        db.session.commit()
        organiser_id = organiser.id
    unchanged = auth.client.get(url).get_data(as_text=True).split(f'id="c-{lost.criterion_id}"')[1].split("</tr>")[0]
    assert unchanged == before  # nothing unpublished, not even a hint that a correction waits
    with demo_app.app_context():
        publication.publish(db.session.get(Campaign, PAST), db.session.get(User, organiser_id), "Po odwołaniu")
        db.session.commit()
    after = auth.client.get(url).get_data(as_text=True).split(f'id="c-{lost.criterion_id}"')[1].split("</tr>")[0]
    assert "Tak" in after and after != before


def test_auditors_comments_reach_directors_only_when_the_edition_shares_them(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    contact_id = _counted(demo_app, own[0])
    with demo_app.app_context():
        revision = publication.latest_revision(PAST)
        row = db.session.scalar(sa.select(RevisionAnswer).filter_by(revision_id=revision.id, contact_id=contact_id)
                                .where(RevisionAnswer.possible > 0).limit(1))
        row.comment = "Pani w okienku była bardzo pomocna."
        db.session.get(Campaign, PAST).comments_to_directors = False
        db.session.commit()
    auth.as_role("director")
    assert "bardzo pomocna" not in auth.client.get(f"/director/contacts/{contact_id}").get_data(as_text=True)
    with demo_app.app_context():
        db.session.get(Campaign, PAST).comments_to_directors = True
        db.session.commit()
    assert "bardzo pomocna" in auth.client.get(f"/director/contacts/{contact_id}").get_data(as_text=True)


def test_a_contact_page_answers_alike_for_anything_not_published_or_not_ones_own(demo_app, auth):
    own, other = director_and_institutions(demo_app)
    with demo_app.app_context():
        fieldwork = [i for i in db.session.scalars(sa.select(Contact.id).where(
            Contact.institution_id.in_(own), Contact.campaign_id == 1))][:6]
        others = db.session.scalar(sa.select(Contact.id).filter_by(campaign_id=PAST, institution_id=other))
        missing = db.session.scalar(sa.select(sa.func.max(Contact.id))) + 1000
    auth.as_role("director")
    nothing = auth.client.get(f"/director/contacts/{missing}")
    assert nothing.status_code == 404
    for contact_id in [*fieldwork, others]:
        response = auth.client.get(f"/director/contacts/{contact_id}")
        body = response.get_data(as_text=True).replace(f"/contacts/{contact_id}", f"/contacts/{missing}")
        assert (response.status_code, body) == (404, nothing.get_data(as_text=True)), contact_id


@pytest.mark.parametrize(("shift", "state", "words"), [
    (5, "open", "Odwołania są otwarte do"), (-3, "closed", "Odwołania są zamknięte od"),
    (None, "none", "Organizator nie otworzył odwołań")])
def test_the_appeal_window_is_always_said(demo_app, auth, shift, state, words):
    own, _ = director_and_institutions(demo_app)
    contact_id = _counted(demo_app, own[0])
    with demo_app.app_context():
        campaign = db.session.get(Campaign, PAST)
        campaign.appeal_until = None if shift is None else date.today() + timedelta(days=shift)
        db.session.commit()
        assert scorecard.appeal_window(campaign).state == state
    auth.as_role("director")
    page = auth.client.get(f"/director/contacts/{contact_id}").get_data(as_text=True)
    card = auth.client.get(f"/director/campaigns/{PAST}/institutions/{own[0]}").get_data(as_text=True)
    assert words in page and words in card
    assert ('<button type="submit">Złóż odwołanie</button>' in page) == (state == "open")


def test_the_window_closes_the_day_after_its_last_day():
    campaign = Campaign(appeal_until=date(2026, 3, 31))
    assert scorecard.appeal_window(campaign, date(2026, 3, 31)).is_open
    closed = scorecard.appeal_window(campaign, date(2026, 4, 1))
    assert closed.state == "closed" and closed.closed_since == date(2026, 4, 1)


# --- precise appeals ------------------------------------------------------------------------------


def _photo_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    exif = Image.Exif()
    exif[0x013B] = "Jan Kowalski"  # Artist
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 13.0, 37.5)})  # GPS: a place
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("evidence_store", ["local", "s3"])
def test_a_director_contests_criteria_with_a_document_and_the_organiser_decides_each(demo_app, auth):
    own, _ = director_and_institutions(demo_app)
    contact_id, lost = _with_lost_answer(demo_app, own[0])
    with demo_app.app_context():
        other_criterion = next(a.criterion_id for a in db.session.get(Contact, contact_id).answers
                               if a.possible > 0 and a.criterion_id != lost.criterion_id)
    auth.as_role("director")
    page = auth.client.get(f"/director/contacts/{contact_id}").get_data(as_text=True)
    photo = _photo_with_gps()
    response = auth.client.post(f"/director/contacts/{contact_id}/appeal", data={
        "csrf_token": token_of(page), "reason": "Tablica informacyjna wisiała przy wejściu.",
        "criterion": [lost.criterion_id, other_criterion], "document": (io.BytesIO(photo), "IMG_Jan_Kowalski.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with demo_app.app_context():
        (appeal,) = db.session.scalars(sa.select(Appeal)).all()
        assert [c.criterion_id for c in appeal.criteria] == [lost.criterion_id, other_criterion]
        assert appeal.revision_number == publication.latest_revision(PAST).number
        stored = storage.store_of(demo_app).read(appeals.document_key(appeal))
        with Image.open(io.BytesIO(stored)) as kept:
            assert not kept.getexif()  # the place and the name are gone
        appeal_id = appeal.id
    with auth.client.get(f"/director/appeals/{appeal_id}/document") as served:
        assert served.status_code == 200 and "zalacznik-odwolania.jpg" in served.headers["Content-Disposition"]
        assert served.headers["Cache-Control"] == "private, no-store"

    organiser = Auth(demo_app.test_client())
    organiser.as_role("organiser")
    listing = organiser.client.get(f"/organiser/campaigns/{PAST}/appeals").get_data(as_text=True)
    assert f"/organiser/contacts/{contact_id}#c-{lost.criterion_id}" in listing  # a link to the record, not a number
    assert f"/organiser/appeals/{appeal_id}/document" in listing and "IMG_Jan_Kowalski.jpg" in listing
    token = token_of(listing)
    upheld = organiser.client.post(f"/organiser/appeals/{appeal_id}/criteria/{lost.criterion_id}",
                                   data={"csrf_token": token, "decision": "upheld", "resolution": "Zdjęcie to potwierdza."})
    assert upheld.headers["Location"].endswith(f"/organiser/contacts/{contact_id}#c-{lost.criterion_id}")
    with demo_app.app_context():
        assert db.session.get(Appeal, appeal_id).status == "open"  # one criterion still waits
        assert db.session.scalar(sa.select(MailMessage).filter_by(kind="appeal_decided")) is None
    organiser.client.post(f"/organiser/appeals/{appeal_id}/criteria/{other_criterion}",
                          data={"csrf_token": token, "decision": "rejected", "resolution": "Nagranie mówi co innego."})
    with demo_app.app_context():
        appeal = db.session.get(Appeal, appeal_id)
        assert appeal.status == "upheld" and {c.decision for c in appeal.criteria} == {"upheld", "rejected"}
        actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).filter_by(object_id=contact_id)
                                                         .order_by(AuditEvent.id))]
        assert actions[-3:] == ["appeal_criterion_upheld", "appeal_criterion_rejected", "appeal_upheld"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailMessage).filter_by(kind="appeal_decided")) == 1
    seen = auth.client.get(f"/director/contacts/{contact_id}").get_data(as_text=True)
    assert "Zdjęcie to potwierdza." in seen and "Nagranie mówi co innego." in seen


def test_an_appeal_names_only_criteria_the_revision_counted_and_refuses_a_bad_file(demo_app):
    own, _ = director_and_institutions(demo_app)
    contact_id = _counted(demo_app, own[0])
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        contact = db.session.get(Contact, contact_id)
        with pytest.raises(appeals.AppealError):
            appeals.file_appeal(director, contact, "Coś innego.", criteria=["not_a_criterion"])
        with pytest.raises(appeals.evidence.EvidenceError):
            appeals.file_appeal(director, contact, "Plik.", document=appeals.Document(
                "pismo.pdf", b"%PDF-1.4 not an image"))
        assert db.session.scalar(sa.select(Appeal)) is None
        appeal = appeals.file_appeal(director, contact, "Cały kontakt.")
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        with pytest.raises(appeals.AppealError):  # a whole-contact appeal has no criterion to decide
            appeals.decide_criterion(appeal, organiser, "x", True, "Tak.")


def test_a_decided_criterion_cannot_be_decided_again(demo_app):
    own, _ = director_and_institutions(demo_app)
    contact_id, lost = _with_lost_answer(demo_app, own[0])
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).filter_by(email="director@demo.test"))
        organiser = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        appeal = appeals.file_appeal(director, db.session.get(Contact, contact_id), "Źle.", criteria=[lost.criterion_id])
        with pytest.raises(appeals.AppealError):
            appeals.decide_criterion(appeal, organiser, lost.criterion_id, True, "  ")
        appeals.decide_criterion(appeal, organiser, lost.criterion_id, False, "Nie.")
        assert appeal.status == "rejected"
        with pytest.raises(appeals.AppealError):
            appeals.decide_criterion(appeal, organiser, lost.criterion_id, True, "Jednak tak.")
        with pytest.raises(appeals.AppealError):
            appeals.resolve(appeal, organiser, True, "Jednak tak.")
        assert db.session.scalar(sa.select(AppealCriterion.decision)) == "rejected"


def test_another_directors_appeal_document_is_a_404_like_a_missing_one(demo_app, auth):
    _own, other = director_and_institutions(demo_app)
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=PAST, institution_id=other))
        someone = db.session.scalar(sa.select(User).filter_by(role="organiser"))
        appeal = Appeal(campaign_id=PAST, contact_id=contact.id, institution_id=other, director_id=someone.id,
                        reason="x", document_key="c" * 32 + ".txt", document_kind="text", document_type="text/plain")
        db.session.add(appeal)
        db.session.commit()
        appeal_id = appeal.id
    auth.as_role("director")
    theirs = auth.client.get(f"/director/appeals/{appeal_id}/document")
    missing = auth.client.get(f"/director/appeals/{appeal_id + 100}/document")
    body = theirs.get_data(as_text=True).replace(f"/appeals/{appeal_id}/", f"/appeals/{appeal_id + 100}/")
    assert (theirs.status_code, body) == (404, missing.get_data(as_text=True))
