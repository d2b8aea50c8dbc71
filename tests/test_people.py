"""People: accounts without typed passwords, one-time links, deactivation, auditors' conflicts, access."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from audit import accounts
from audit.extensions import db
from audit.models import AuditorConflict, Institution, Invitation, User, utcnow

PASSWORD = "correct horse battery"


def csrf(response) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture
def organiser(auth):
    """Logged in as the demo organiser, with the UI in English (the source texts these tests read)."""
    auth.client.get("/lang/en")
    auth.as_role("organiser")
    return auth.client


def user_by_email(app, email) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def create_auditor(client, email="nowy@example.org", name="Jan Nowak", pseudonym=""):
    form = client.get("/organiser/people/new/auditor")
    return client.post("/organiser/people/new/auditor",
                       data={"csrf_token": csrf(form), "name": name, "email": email, "pseudonym": pseudonym})


def link_in(response) -> str:
    return re.search(r'id="one-time-link" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def log_out(client):
    client.get("/lang/en")
    with client.session_transaction() as session:
        session.clear()
        session["lang"] = "en"


# --- the invitation, end to end ------------------------------------------------------------


def test_invitation_end_to_end(organiser, demo_app):
    created = create_auditor(organiser)
    assert created.status_code == 200 and "One-time link for Jan Nowak" in created.get_data(as_text=True)
    link = link_in(created)
    assert re.fullmatch(r"http://localhost/invite/[A-Za-z0-9_-]{43}", link)
    user = user_by_email(demo_app, "nowy@example.org")
    assert user.role == "auditor" and user.password_hash is None and user.pseudonym == "A-07"  # demo has A-01..A-06

    # The person's page later never shows the link again.
    again = organiser.get(f"/organiser/people/{user.id}").get_data(as_text=True)
    assert link not in again and "cannot be shown again" in again

    log_out(organiser)
    path = link.removeprefix("http://localhost")
    page = organiser.get(path)
    assert page.status_code == 200 and "Welcome, Jan Nowak" in page.get_data(as_text=True)
    done = organiser.post(path, data={"csrf_token": csrf(page), "password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auditor/")
    assert organiser.get("/auditor/").status_code == 200  # logged in
    assert user_by_email(demo_app, "nowy@example.org").password_hash

    log_out(organiser)
    used = organiser.get(path)
    assert used.status_code == 404 and "This link does not work" in used.get_data(as_text=True)
    assert "nowy@example.org" not in used.get_data(as_text=True)
    login = organiser.get("/login")
    ok = organiser.post("/login", data={"csrf_token": csrf(login), "email": "nowy@example.org", "password": PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/")


def test_setting_the_password_starts_a_fresh_session(organiser, demo_app):
    link = link_in(create_auditor(organiser))
    path = link.removeprefix("http://localhost")
    page = organiser.get(path)
    with organiser.session_transaction() as session:
        session["planted"] = "by someone else"
    organiser.post(path, data={"csrf_token": csrf(page), "password": PASSWORD, "confirm": PASSWORD})
    with organiser.session_transaction() as session:
        assert "planted" not in session and session.get("lang") == "en"


def test_only_the_hash_of_the_token_is_stored(app):
    with app.app_context():
        user = accounts.create_user("auditor", "Anna", "anna@example.org")
        token = accounts.invite(user)
        db.session.commit()
        (invitation,) = db.session.scalars(sa.select(Invitation)).all()
        assert invitation.token_hash == accounts.token_hash(token) != token
        assert len(invitation.token_hash) == 64
        with db.engine.connect() as connection:  # the raw token is nowhere in the database
            dump = "\n".join(connection.connection.iterdump()) if db.engine.dialect.name == "sqlite" else ""
            rows = connection.execute(sa.text("SELECT * FROM invitation")).all()
        assert token not in dump and all(token not in str(row) for row in rows)
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_an_expired_link_is_refused(organiser, demo_app):
    link = link_in(create_auditor(organiser))
    with demo_app.app_context():
        db.session.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    log_out(organiser)
    response = organiser.get(link.removeprefix("http://localhost"))
    assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)


def test_a_new_link_cancels_the_previous_one(organiser, demo_app):
    first = link_in(create_auditor(organiser))
    user = user_by_email(demo_app, "nowy@example.org")
    page = organiser.get(f"/organiser/people/{user.id}")
    second = organiser.post(f"/organiser/people/{user.id}/link", data={"csrf_token": csrf(page), "value": "invite"})
    second_link = link_in(second)
    assert second_link != first
    log_out(organiser)
    assert organiser.get(first.removeprefix("http://localhost")).status_code == 404
    assert organiser.get(second_link.removeprefix("http://localhost")).status_code == 200


def test_a_reset_link_lasts_two_hours_and_replaces_the_password(app):
    with app.app_context():
        user = accounts.create_user("director", "Dora", "dora@example.org")
        accounts.redeem(accounts.invite(user), "first password here")
        now = utcnow()
        token = accounts.reset_link(user, now=now)
        invitation = accounts.check_link(token, now)
        assert invitation.purpose == "reset" and invitation.expires_at == now + timedelta(hours=2)
        with pytest.raises(accounts.InvalidLink) as refused:
            accounts.check_link(token, now + timedelta(hours=2, seconds=1))
        assert refused.value.why == "expired"
        accounts.redeem(token, "second password here", now + timedelta(minutes=5))
        assert user.check_password("second password here") and not user.check_password("first password here")
        with pytest.raises(accounts.InvalidLink) as refused:
            accounts.redeem(token, "third password here")
        assert refused.value.why == "used"


def test_redeeming_closes_the_other_open_links(app):
    with app.app_context():
        user = accounts.create_user("organiser", "Ola", "ola@example.org")
        token = accounts.invite(user)
        db.session.add(Invitation(user_id=user.id, purpose="reset", token_hash=accounts.token_hash("other"),
                                  expires_at=utcnow() + timedelta(hours=1)))
        accounts.redeem(token, PASSWORD)
        with pytest.raises(accounts.InvalidLink):
            accounts.check_link("other")
        with pytest.raises(accounts.InvalidLink) as refused:
            accounts.check_link("never issued")
        assert refused.value.why == "unknown"


@pytest.mark.parametrize(("password", "message"), [
    ("short one", "at least 12 characters"),
    ("Anna@Example.org", "must not be your e-mail address"),
])
def test_password_rules(app, password, message):
    with app.app_context():
        user = accounts.create_user("auditor", "Anna", "anna@example.org")
        token = accounts.invite(user)
        with pytest.raises(accounts.PasswordRejected, match=message):
            accounts.redeem(token, password)
        assert accounts.check_link(token).used_at is None  # a refused password does not use up the link


def test_the_page_explains_a_refused_password_and_keeps_the_link(organiser, demo_app):
    link = link_in(create_auditor(organiser)).removeprefix("http://localhost")
    log_out(organiser)
    page = organiser.get(link)
    short = organiser.post(link, data={"csrf_token": csrf(page), "password": "tooshort", "confirm": "tooshort"})
    assert short.status_code == 200 and "at least 12 characters" in short.get_data(as_text=True)
    mismatch = organiser.post(link, data={"csrf_token": csrf(page), "password": PASSWORD, "confirm": PASSWORD + "x"})
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    assert organiser.get(link).status_code == 200


# --- accounts ------------------------------------------------------------------------------


def test_a_deactivated_user_cannot_log_in_and_their_links_die(organiser, demo_app):
    auditor = user_by_email(demo_app, "auditor2@demo.test")
    page = organiser.get(f"/organiser/people/{auditor.id}")
    link = link_in(organiser.post(f"/organiser/people/{auditor.id}/link",
                                  data={"csrf_token": csrf(page), "value": "reset"}))
    assert "/reset/" in link
    off = organiser.post(f"/organiser/people/{auditor.id}/active", data={"csrf_token": csrf(page), "value": "0",
                                                                       "confirm": "1"})
    assert off.status_code == 302 and user_by_email(demo_app, "auditor2@demo.test").active is False
    log_out(organiser)
    login = organiser.get("/login")
    refused = organiser.post("/login", data={"csrf_token": csrf(login), "email": "auditor2@demo.test",
                                             "password": "demo"}, follow_redirects=True)
    assert "Wrong e-mail or password." in refused.get_data(as_text=True)
    assert organiser.get(link.removeprefix("http://localhost")).status_code == 404


def test_deactivation_asks_first_saying_who_and_what_ends(organiser, demo_app):
    auditor = user_by_email(demo_app, "auditor@demo.test")
    page = organiser.get(f"/organiser/people/{auditor.id}")
    asked = organiser.post(f"/organiser/people/{auditor.id}/active", data={"csrf_token": csrf(page), "value": "0"})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"Deactivate {auditor.name}?" in text and auditor.email in text
    assert "Assignments not yet sent" in text and "They can no longer log in" in text
    assert 'name="confirm" value="1"' in text and 'name="value" value="0"' in text
    assert user_by_email(demo_app, "auditor@demo.test").active  # asked, not done


def test_reactivation_lets_them_in_again(organiser, demo_app):
    auditor = user_by_email(demo_app, "auditor2@demo.test")
    page = organiser.get(f"/organiser/people/{auditor.id}")
    for value in ("0", "1"):  # reactivating needs no confirmation
        organiser.post(f"/organiser/people/{auditor.id}/active", data={"csrf_token": csrf(page), "value": value,
                                                                        "confirm": "1" if value == "0" else ""})
    assert user_by_email(demo_app, "auditor2@demo.test").active is True


def test_an_organiser_cannot_deactivate_themselves(organiser, demo_app):
    me = user_by_email(demo_app, "organiser@demo.test")
    page = organiser.get(f"/organiser/people/{me.id}")
    asked = organiser.post(f"/organiser/people/{me.id}/active", data={"csrf_token": csrf(page), "value": "0"})
    assert asked.status_code == 302  # refused at once, not asked to confirm
    response = organiser.post(f"/organiser/people/{me.id}/active", data={"csrf_token": csrf(page), "value": "0",
                                                                         "confirm": "1"}, follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert user_by_email(demo_app, "organiser@demo.test").active


def test_a_director_is_tied_to_institutions_and_emails_are_unique(organiser, demo_app):
    with demo_app.app_context():
        ids = list(db.session.scalars(sa.select(Institution.id).order_by(Institution.id).limit(2)))
    form = organiser.get("/organiser/people/new/director")
    created = organiser.post("/organiser/people/new/director", data={
        "csrf_token": csrf(form), "name": "Dyrektor Nowy", "email": "Dyr@Example.org", "institutions": ids})
    assert created.status_code == 200
    with demo_app.app_context():
        director = db.session.scalar(sa.select(User).where(User.email == "dyr@example.org"))
        assert director.role == "director" and sorted(i.id for i in director.institutions) == ids
        assert director.pseudonym is None
    twice = organiser.post("/organiser/people/new/director", data={
        "csrf_token": csrf(form), "name": "Someone", "email": "DYR@example.org "})
    assert "Another account already uses the e-mail dyr@example.org." in twice.get_data(as_text=True)


def test_editing_a_director_keeps_their_institutions_ticked(organiser, demo_app):
    director = user_by_email(demo_app, "director@demo.test")
    with demo_app.app_context():
        ids = sorted(i.id for i in db.session.get(User, director.id).institutions)
    page = organiser.get(f"/organiser/people/{director.id}/edit")
    ticked = sorted(int(v) for v in re.findall(r'<input checked id="institutions-\d+" name="institutions" '
                                               r'type="checkbox" value="(\d+)"', page.get_data(as_text=True)))
    assert len(ids) == 2 and ticked == ids
    saved = organiser.post(f"/organiser/people/{director.id}/edit", data={
        "csrf_token": csrf(page), "name": "Dyrektor (demo)", "email": "director@demo.test", "institutions": ids[:1]})
    assert saved.status_code == 302
    with demo_app.app_context():
        assert [i.id for i in db.session.get(User, director.id).institutions] == ids[:1]


def test_a_given_pseudonym_is_kept_and_must_be_free(organiser, demo_app):
    create_auditor(organiser, email="p1@example.org", pseudonym="A-42")
    assert user_by_email(demo_app, "p1@example.org").pseudonym == "A-42"
    taken = create_auditor(organiser, email="p2@example.org", pseudonym="a-42")
    assert "The pseudonym a-42 is already taken." in taken.get_data(as_text=True)
    create_auditor(organiser, email="p3@example.org")
    assert user_by_email(demo_app, "p3@example.org").pseudonym == "A-43"


def test_the_people_list_by_role(organiser):
    auditors = organiser.get("/organiser/people").get_data(as_text=True)
    assert "A-01" in auditors and "auditor@demo.test" in auditors and "director@demo.test" not in auditors
    directors = organiser.get("/organiser/people?role=director").get_data(as_text=True)
    assert "director@demo.test" in directors and "auditor@demo.test" not in directors


def test_no_password_field_for_the_organiser(organiser, demo_app):
    page = organiser.get("/organiser/people/new/auditor").get_data(as_text=True)
    assert 'type="password"' not in page
    auditor = user_by_email(demo_app, "auditor@demo.test")
    assert 'type="password"' not in organiser.get(f"/organiser/people/{auditor.id}/edit").get_data(as_text=True)


# --- conflicts -----------------------------------------------------------------------------


def test_conflicts_add_and_remove(organiser, demo_app):
    auditor = user_by_email(demo_app, "auditor@demo.test")
    with demo_app.app_context():
        institution = db.session.scalars(sa.select(Institution).order_by(Institution.id)).first()
        institution_id = institution.id
    page = organiser.get(f"/organiser/people/{auditor.id}")
    url = f"/organiser/people/{auditor.id}/conflicts"
    token = csrf(page)
    assert organiser.post(url, data={"csrf_token": token, "institution": institution_id, "reason": "sister works there"}
                          ).status_code == 302
    assert organiser.post(url, data={"csrf_token": token, "institution": "", "city": "  Nowa   Wieś ",
                                     "reason": "lives there"}).status_code == 302
    both = organiser.post(url, data={"csrf_token": token, "institution": institution_id, "city": "Kraków"})
    assert "Choose either an institution or a town." in both.get_data(as_text=True)
    twice = organiser.post(url, data={"csrf_token": token, "institution": "", "city": "nowa wieś"},
                           follow_redirects=True)
    assert "This conflict is already declared." in twice.get_data(as_text=True)
    with demo_app.app_context():
        assert accounts.conflicts_by_auditor() == {auditor.id: (frozenset({institution_id}), frozenset({"nowa wieś"}))}
        town = db.session.scalar(sa.select(AuditorConflict.id).where(AuditorConflict.city.is_not(None)))
    shown = organiser.get(f"/organiser/people/{auditor.id}").get_data(as_text=True)
    assert "sister works there" in shown and "Every institution in Nowa Wieś" in shown
    assert organiser.post(f"{url}/{town}/remove", data={"csrf_token": token}).status_code == 302
    with demo_app.app_context():
        assert accounts.conflicts_by_auditor() == {auditor.id: (frozenset({institution_id}), frozenset())}


def test_conflicts_belong_to_auditors_only(organiser, demo_app):
    director = user_by_email(demo_app, "director@demo.test")
    page = organiser.get(f"/organiser/people/{director.id}")
    assert "Declared conflicts" not in page.get_data(as_text=True)
    response = organiser.post(f"/organiser/people/{director.id}/conflicts", data={"csrf_token": csrf(page), "city": "X"})
    assert response.status_code == 404


def test_a_conflict_of_another_auditor_is_not_removed(app):
    with app.app_context():
        one = accounts.create_user("auditor", "One", "one@example.org")
        two = accounts.create_user("auditor", "Two", "two@example.org")
        conflict = accounts.add_conflict(one, None, "Lipowiec")
        assert accounts.remove_conflict(two, conflict.id) is False
        assert accounts.conflicts_by_auditor() == {one.id: (frozenset(), frozenset({"lipowiec"}))}


# Who may open these pages (and the refusals of every other visitor): tests/test_access.py.
