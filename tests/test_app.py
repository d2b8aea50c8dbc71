"""The application shell: factory, configuration, login, roles, the ranking and its explanations."""

import re

import pytest
import sqlalchemy as sa

from audit import create_app
from audit.config import ConfigError, database_url
from audit.extensions import db
from audit.models import Contact, Institution, User


def test_factory_serves_top_level_templates_and_static(app):
    assert app.template_folder.endswith("/templates") and "audit" not in app.template_folder.rsplit("/", 2)[-2]
    assert app.static_folder.endswith("/static")
    with app.test_client().get("/static/css/app.css") as response:
        assert response.status_code == 200


def test_a_generated_secret_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("AUDIT_ENV", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    again = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert first == again and len(first) == 64
    assert (tmp_path / "secret_key").read_text() == first


def test_production_refuses_to_start_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("AUDIT_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-the-environment" and app.config["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_url_from_the_environment(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url("/unused") == expected


# --- logging in -----------------------------------------------------------------------------

def test_anonymous_visitor_is_sent_to_login(demo_client):
    response = demo_client.get("/organiser/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("role", "home"), [("organiser", "/organiser/"), ("auditor", "/auditor/"), ("director", "/director/")])
def test_each_demo_login_lands_on_its_home(auth, role, home):
    response = auth.as_role(role)
    assert response.status_code == 302
    assert auth.client.get("/").headers["Location"].endswith(home)
    assert auth.client.get(home).status_code == 200


def test_wrong_password_is_refused_with_a_message(auth):
    page = auth.login("organiser@demo.test", "wrong", follow=True)
    assert "Nieprawidłowy e-mail lub hasło" in page.get_data(as_text=True)
    assert auth.client.get("/organiser/").status_code == 302


def test_login_rotates_the_session_and_logout_ends_it(auth):
    auth.client.get("/login")
    with auth.client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.as_role("organiser")
    with auth.client.session_transaction() as session:
        assert "planted" not in session
    page = auth.client.get("/organiser/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    auth.client.post("/logout", data={"csrf_token": token})
    assert auth.client.get("/organiser/").status_code == 302


def test_login_without_csrf_token_is_refused(demo_client):
    response = demo_client.post("/login", data={"email": "organiser@demo.test", "password": "demo"})
    assert response.status_code == 400


def test_next_parameter_cannot_redirect_off_site(auth):
    page = auth.client.get("/login?next=https://evil.example/")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = auth.client.post("/login?next=https://evil.example/",
                                data={"email": "organiser@demo.test", "password": "demo", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_passwords_are_stored_hashed(demo_app):
    with demo_app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(email="organiser@demo.test"))
        assert user.password_hash.startswith("scrypt:") and "demo" not in user.password_hash


@pytest.mark.parametrize(("role", "path"), [
    ("auditor", "/organiser/"), ("director", "/organiser/"), ("organiser", "/auditor/"),
    ("director", "/auditor/"), ("auditor", "/director/"), ("organiser", "/director/"),
    ("auditor", "/organiser/campaigns/1/ranking"), ("director", "/organiser/campaigns/1/institutions/1"),
])
def test_roles_see_only_their_own_application(auth, role, path):
    auth.as_role(role)
    assert auth.client.get(path).status_code == 403


# --- language ---------------------------------------------------------------------------------

def test_polish_is_the_default_and_english_is_one_click_away(auth):
    auth.as_role("organiser")
    assert "Edycje konkursu" in auth.client.get("/organiser/").get_data(as_text=True)
    auth.client.get("/lang/en?next=/organiser/")
    page = auth.client.get("/organiser/").get_data(as_text=True)
    assert "Contest editions" in page and 'lang="en"' in page


def test_security_headers_are_set(demo_client):
    response = demo_client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


HSTS = "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("path", ["/login", "/static/css/app.css", "/no-such-page", "/organiser/"])
def test_production_tells_browsers_to_use_https_only(tmp_path, monkeypatch, path):
    monkeypatch.setenv("AUDIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["PREFERRED_URL_SCHEME"] == "https"  # links made outside a request (the CLI)
    with app.test_client().get(path) as response:  # a page, a file, a 404, a redirect to the login
        assert response.headers["Strict-Transport-Security"] == HSTS


def test_development_never_pins_https(tmp_path, monkeypatch):
    """A browser told once by a local http server would refuse every http://localhost app for a year."""
    monkeypatch.delenv("AUDIT_ENV", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["PREFERRED_URL_SCHEME"] == "http"
    with app.test_client().get("/login") as response:
        assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers


# --- the ranking --------------------------------------------------------------------------------

def test_organiser_sees_the_demo_ranking_with_every_institution(auth, demo_app):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/ranking").get_data(as_text=True)
    with demo_app.app_context():
        names = db.session.scalars(sa.select(Institution.name)).all()
    assert len(names) >= 40
    for name in names:
        assert name.replace("„", "&#34;").split("–")[0][:20] in page.replace("„", "&#34;")
    ranks = [int(r) for r in re.findall(r'<td class="num rank"[^>]*>(\d+)</td>', page)]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    assert "Tak" in page and "Nie" in page  # some institutions get a licence, some do not


def test_a_ranking_row_without_a_licence_says_which_rule_kept_it(auth, demo_app):
    """Points at the threshold or above and no licence: the row names the failed rule, in Polish."""
    from audit import standings
    from audit.i18n import describe_reason
    from audit.models import Campaign

    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/ranking").get_data(as_text=True)
    with demo_app.test_request_context():
        result = standings.live(db.session.get(Campaign, 1))
        refused = [r for r in result.institutions if not r.licensed and not r.overridden
                   and r.points is not None and r.points >= result.threshold]
        assert refused  # the demo has such an institution (a missing channel contact or a critical failure)
        for row in refused:
            why = [describe_reason(reason) for reason in row.reasons if not reason.passed]
            assert why and all(f'<small class="why">{text}</small>' in page for text in why)
        licensed = next(r for r in result.institutions if r.licensed)
        assert not [x for x in licensed.reasons if not x.passed]


def test_category_filter_shows_only_that_category(auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/ranking?category=helpline").get_data(as_text=True)
    assert "Telefon Wsparcia" in page and "Ośrodek Pomocy" not in page


def test_explanation_adds_up_to_the_ranking_points(auth, demo_app):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/campaigns/1/institutions/1").get_data(as_text=True)
    assert "Decyzja o licencji" in page
    with demo_app.app_context():
        contacts = db.session.scalars(sa.select(Contact).filter_by(campaign_id=1, institution_id=1, status="accepted")).all()
        auditors = {c.auditor.name for c in contacts}
    assert len(contacts) >= 4
    for contact in contacts:
        assert f'id="contact-{contact.id}"' in page
    for name in auditors:  # only pseudonyms
        assert name not in page


def test_unknown_institution_or_campaign_is_404(auth):
    auth.as_role("organiser")
    assert auth.client.get("/organiser/campaigns/1/institutions/99999").status_code == 404
    assert auth.client.get("/organiser/campaigns/999/ranking").status_code == 404
