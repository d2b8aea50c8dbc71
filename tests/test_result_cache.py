"""The live result kept per edition state: never stale, whatever changed and however it was written."""

from __future__ import annotations

import random
import threading

import sqlalchemy as sa

from audit import publication, result_cache, review, standings
from audit.extensions import db
from audit.models import Answer, Campaign, CampaignChannel, Contact, Institution, Setting, User

from .test_mail import mail_app, wait_for, worker  # noqa: F401 - fixtures


def generation(campaign_id: int = 1) -> tuple[str | None, str | None]:
    """The shared counter and the edition's own."""
    return tuple(db.session.scalar(sa.select(Setting.value).filter_by(key=key))  # type: ignore[return-value]
                 for key in (result_cache.GENERATION_KEY, result_cache.edition_key(campaign_id)))


def setup(app) -> tuple[Campaign, User]:
    campaign = db.session.get(Campaign, 1)  # the demo's edition in fieldwork
    campaign.status = "review"
    db.session.commit()
    return campaign, db.session.scalar(sa.select(User).filter_by(role="organiser"))


def test_a_kept_result_is_reused_until_something_it_depends_on_changes(demo_app):
    with demo_app.app_context():
        campaign, organiser = setup(demo_app)
        first = standings.live(campaign)
        assert standings.live(campaign) is first  # kept: the same object, not a recomputation
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=campaign.id, status="submitted"))
        review.accept(contact, organiser, contact.version)
        db.session.commit()
        after = standings.live(campaign)
        assert after is not first and after == standings.live(campaign, fresh=True)
        assert after.of(contact.institution_id) != first.of(contact.institution_id)


def test_every_kind_of_change_reaches_the_result(demo_app):
    """Random changes of every kind that feeds the engine; after each, the kept result equals a fresh one."""
    rng = random.Random(7)
    with demo_app.app_context():
        campaign, organiser = setup(demo_app)

        def accepted() -> Contact:
            return rng.choice(db.session.scalars(sa.select(Contact).filter_by(
                campaign_id=campaign.id, status="accepted", calibration_group_id=None)).all())

        def accept() -> None:
            waiting = db.session.scalars(sa.select(Contact).filter_by(campaign_id=campaign.id, status="submitted")).all()
            if waiting:
                contact = rng.choice(waiting)
                review.accept(contact, organiser, contact.version)

        def change_an_answer() -> None:  # an ORM change of an answer alone, its contact untouched
            answer = rng.choice(accepted().answers)
            answer.earned = 0.0 if answer.earned else answer.possible

        def bulk_update_answers() -> None:  # an ORM-enabled UPDATE statement
            db.session.execute(sa.update(Answer).where(Answer.contact_id == accepted().id).values(earned=0.0))

        def override() -> None:
            publication.set_override(campaign, accepted().institution_id, rng.choice([True, False]),
                                     "Decyzja organizatora po kontroli.", organiser)

        def recategorise() -> None:
            institution = db.session.get(Institution, accepted().institution_id)
            others = sorted({r.category for r in standings.live(campaign, fresh=True).institutions} - {institution.category})
            institution.category = rng.choice(others)

        def reweigh() -> None:
            channel = rng.choice(db.session.scalars(sa.select(CampaignChannel).filter_by(campaign_id=campaign.id)).all())
            channel.weight = rng.choice([0.1, 0.2, 0.4])

        def return_a_contact() -> None:  # leaving "accepted" (a correction path reopening it)
            contact = accepted()
            contact.status = "submitted"

        changes = [accept, change_an_answer, bulk_update_answers, override, recategorise, reweigh, return_a_contact]
        for step in range(14):
            kept = standings.live(campaign)
            change = changes[step % len(changes)]
            change()
            db.session.commit()
            now = standings.live(campaign)
            assert now == standings.live(campaign, fresh=True), change.__name__
            assert now is not kept, change.__name__


def test_an_auditors_draft_does_not_touch_the_counter(demo_app):
    """Fieldwork saves (thousands an hour) never contend for the generation row."""
    with demo_app.app_context():
        campaign, _ = setup(demo_app)
        before = generation()
        draft = db.session.scalar(sa.select(Contact).filter_by(status="draft"))
        draft.scenario = "Wizyta w okienku nr 3"
        draft.answers[0].comment = "Uprzejmie."
        db.session.commit()
        assert generation() == before
        assert standings.live(campaign) is standings.live(campaign)


def test_a_change_committed_while_the_result_is_computed_is_not_hidden(demo_app):
    """A result computed across a concurrent commit is used once and never kept under the older stamp."""
    with demo_app.app_context():
        campaign, organiser = setup(demo_app)
        contact_id = db.session.scalar(sa.select(Contact.id).filter_by(campaign_id=campaign.id, status="submitted"))
        organiser_id = organiser.id

        def meanwhile() -> None:  # another request accepts a contact and commits
            with demo_app.app_context():
                contact = db.session.get(Contact, contact_id)
                review.accept(contact, db.session.get(User, organiser_id), contact.version)
                db.session.commit()

        def computed_across_a_commit() -> str:
            thread = threading.Thread(target=meanwhile)
            thread.start()
            thread.join()
            return "stale"

        db.session.commit()  # end the read transaction, so the next statement sees the other commit
        assert result_cache.cached("probe", campaign.id, computed_across_a_commit) == "stale"
        db.session.commit()
        assert result_cache.cached("probe", campaign.id, lambda: "current") == "current"


def test_the_worker_rebuilds_a_stale_ranking_and_pages_then_read_it_without_recomputing(
        mail_app, worker, monkeypatch, auth):  # noqa: F811 - the fixtures imported above
    """A change schedules a rebuild; the worker process stores the snapshot; a page (any process) reads it."""
    from audit import services
    from audit.fairness_data import live_ranking
    from audit.models import ResultSnapshot

    with mail_app.app_context():
        campaign, organiser = setup(mail_app)
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=campaign.id, status="submitted"))
        review.accept(contact, organiser, contact.version)
        db.session.commit()
        accepted = (contact.id, contact.institution_id, contact.channel)
        current = result_cache._stamp_text(result_cache.stamp(campaign.id))
        db.session.rollback()
    worker.start()

    def stored() -> bool:
        with mail_app.app_context():
            found = db.session.scalar(sa.select(ResultSnapshot.stamp).filter_by(kind="ranking", campaign_id=1))
            db.session.rollback()
            return found == current

    wait_for(stored, "the worker stores the ranking of the new state", log=worker.log)
    with mail_app.app_context():
        result_cache.forget()

        def must_not_run(_campaign_id: int) -> None:
            raise AssertionError("the edition was recomputed although its snapshot is current")

        monkeypatch.setattr(services, "score_edition", must_not_run)
        result = live_ranking(db.session.get(Campaign, 1)).result
        contact_id, institution_id, channel = accepted
        assert result.of(institution_id).channel(channel).contact_ids.count(contact_id) == 1
        auth.as_role("organiser")
        assert auth.client.get("/organiser/campaigns/1/ranking").status_code == 200


def test_a_change_in_one_edition_leaves_the_others_state_standing(demo_app):
    """The fingerprint is per edition: reviewing 2026 neither makes 2025's fairness analysis stale nor a
    publication of 2025 confirmed meanwhile; a change of an institution (in every edition) reaches all."""
    with demo_app.app_context():
        campaign, organiser = setup(demo_app)
        other = db.session.scalar(sa.select(Campaign).where(Campaign.id != campaign.id).order_by(Campaign.id))
        mine, theirs = result_cache.fingerprint(campaign.id), result_cache.fingerprint(other.id)
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=campaign.id, status="submitted"))
        review.accept(contact, organiser, contact.version)
        db.session.commit()
        assert result_cache.fingerprint(campaign.id) != mine
        assert result_cache.fingerprint(other.id) == theirs
        mine = result_cache.fingerprint(campaign.id)
        db.session.get(Institution, contact.institution_id).name += " (filia)"
        db.session.commit()
        assert result_cache.fingerprint(campaign.id) != mine and result_cache.fingerprint(other.id) != theirs


def test_hold_keeps_the_state_it_was_given_and_refuses_another(demo_app):
    with demo_app.app_context():
        campaign, organiser = setup(demo_app)
        seen = result_cache.fingerprint(campaign.id)
        assert result_cache.hold(campaign.id, seen)  # unchanged: held for the rest of the transaction
        db.session.rollback()
        assert result_cache.fingerprint(campaign.id) == seen  # a rolled-back hold changed nothing
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=campaign.id, status="submitted"))
        review.accept(contact, organiser, contact.version)
        db.session.commit()
        assert not result_cache.hold(campaign.id, seen)
        db.session.rollback()
