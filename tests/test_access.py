"""Every route of the app, as every kind of visitor, with real ids of objects that belong to someone else.

The rules below are the access matrix of docs/security.md in executable form. A route that
is not listed here fails the test: a new page cannot ship without a declared rule.

Principals: anonymous; two auditors (A1 owns the objects used, A2 does not); two directors
(D1 directs the institution used, D2 does not); an organiser. GETs are made by everyone and
must answer allowed visitors and refuse the others; POSTs (CSRF off, so the rule itself
answers) are made only by those who must be refused, so that nothing is changed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.pool import NullPool

from audit import create_app, publication
from audit.demo import load_demo
from audit.extensions import db
from audit.models import (
    Appeal,
    Assignment,
    AuditorConflict,
    CampaignChannel,
    Contact,
    ContactCopy,
    Evidence,
    ImprovementPlan,
    JobRecord,
    Licence,
    MailMessage,
    Scenario,
    User,
)

from .conftest import DEMO_PASSWORD, ROOT, database_url

PRINCIPALS = ("anonymous", "A1", "A2", "D1", "D2", "organiser")
EMAILS = {"A1": "auditor@demo.test", "A2": "auditor2@demo.test", "D1": "director@demo.test",
          "D2": "director2@demo.test", "organiser": "organiser@demo.test"}
LOGIN = "login"  # anonymous visitors are sent to the login page
PUBLISHED = 3  # the demo's newest published edition


@dataclass(frozen=True)
class Rule:
    """What each principal gets: an HTTP status, LOGIN, or "ok" (any 2xx/3xx that is not the login page)."""

    outcomes: dict[str, int | str]

    def expected(self, principal: str) -> int | str:
        return self.outcomes[principal]


PUBLIC = Rule(dict.fromkeys(PRINCIPALS, "ok"))
ORGANISER = Rule({"anonymous": LOGIN, "A1": 403, "A2": 403, "D1": 403, "D2": 403, "organiser": "ok"})
AUDITOR = Rule({"anonymous": LOGIN, "A1": "ok", "A2": "ok", "D1": 403, "D2": 403, "organiser": 403})
DIRECTOR = Rule({"anonymous": LOGIN, "A1": 403, "A2": 403, "D1": "ok", "D2": "ok", "organiser": 403})
OWN_ASSIGNMENT = Rule({"anonymous": LOGIN, "A1": "ok", "A2": 404, "D1": 403, "D2": 403, "organiser": 403})
OWN_INSTITUTION = Rule({"anonymous": LOGIN, "A1": 403, "A2": 403, "D1": "ok", "D2": 404, "organiser": 403})
EVIDENCE = Rule({"anonymous": LOGIN, "A1": "ok", "A2": 404, "D1": 404, "D2": 404, "organiser": "ok"})
APPEAL_DOCUMENT = Rule({"anonymous": 404, "A1": 404, "A2": 404, "D1": "ok", "D2": 404, "organiser": 404})
CERTIFICATE = Rule({"anonymous": 404, "A1": 404, "A2": 404, "D1": "ok", "D2": 404, "organiser": "ok"})

# endpoint -> (rule, method, URL values); {name} values are filled from the objects made below.
ROUTES: dict[str, list[tuple[Rule, str, dict[str, str]]]] = {
    "static": [(PUBLIC, "GET", {"filename": "css/app.css"})],
    "auth.index": [(Rule({**dict.fromkeys(PRINCIPALS, "ok"), "anonymous": LOGIN}), "GET", {})],
    "auth.login": [(PUBLIC, "GET", {})],
    "auth.forgot": [(PUBLIC, "GET", {})],
    "auth.logout": [(PUBLIC, "POST", {})],
    "auth.set_language": [(PUBLIC, "GET", {"code": "en"})],
    "auth.notifications": [(Rule({**dict.fromkeys(PRINCIPALS, "ok"), "anonymous": LOGIN}), "GET", {})],
    "invitations.accept": [(Rule(dict.fromkeys(PRINCIPALS, 404)), "GET", {"token": "not-a-real-token"})],
    "invitations.reset": [(Rule(dict.fromkeys(PRINCIPALS, 404)), "GET", {"token": "not-a-real-token"})],
    "public.verify_search": [(PUBLIC, "GET", {})],
    "public.verify": [(PUBLIC, "GET", {"number": "{licence}"})],
    "public.registry": [(PUBLIC, "GET", {})],
    "public.method": [(PUBLIC, "GET", {"campaign_id": "{published}"}),
                      (Rule(dict.fromkeys(PRINCIPALS, 404)), "GET", {"campaign_id": "1"})],
    "public.rubric_source": [(PUBLIC, "GET", {"campaign_id": "{published}", "channel": "phone"})],
    "public.certificate": [(CERTIFICATE, "GET", {"number": "{licence}"})],
    "evidence.show": [(EVIDENCE, "GET", {"evidence_id": "{evidence}"})],
    "auditor.home": [(AUDITOR, "GET", {})],
    "auditor.offline": [(PUBLIC, "GET", {})],
    "auditor.service_worker": [(PUBLIC, "GET", {})],
    "auditor.contact_form": [(OWN_ASSIGNMENT, "GET", {"assignment_id": "{assignment}"})],
    "auditor.save_form": [(OWN_ASSIGNMENT, "POST", {"assignment_id": "{assignment}"})],
    "auditor.autosave": [(OWN_ASSIGNMENT, "POST", {"assignment_id": "{assignment}"})],
    "auditor.upload_evidence": [(OWN_ASSIGNMENT, "POST", {"assignment_id": "{assignment}"})],
    "auditor.delete_evidence": [(OWN_ASSIGNMENT, "POST", {"assignment_id": "{assignment}", "evidence_id": "{evidence}"})],
    "auditor.dismiss_copy": [(OWN_ASSIGNMENT, "POST", {"assignment_id": "{assignment}", "copy_id": "{copy}"})],
    "director.home": [(DIRECTOR, "GET", {})],
    "director.scorecard_page": [(OWN_INSTITUTION, "GET", {"campaign_id": "{published}", "institution_id": "{institution}"})],
    "director.scorecard_workbook": [(OWN_INSTITUTION, "GET",
                                     {"campaign_id": "{published}", "institution_id": "{institution}"})],
    "director.appeal": [(OWN_INSTITUTION, "POST", {"contact_id": "{counted_contact}"})],
    "director.contact_page": [(OWN_INSTITUTION, "GET", {"contact_id": "{counted_contact}"}),
                              (Rule({**dict.fromkeys(PRINCIPALS, 403), "anonymous": LOGIN, "D1": 404, "D2": 404}),
                               "GET", {"contact_id": "{contact}"})],  # a fieldwork contact: as if it did not exist
    "director.appeal_document": [(APPEAL_DOCUMENT, "GET", {"appeal_id": "{appeal}"})],  # as if it did not exist
    "director.plan_page": [(OWN_INSTITUTION, "GET", {"campaign_id": "{published}", "institution_id": "{institution}"}),
                           (OWN_INSTITUTION, "POST", {"campaign_id": "{published}", "institution_id": "{institution}"})],
}
ORGANISER_ROUTES = {
    "organiser.home": {}, "organiser.edit_edition": {"campaign_id": "1"}, "organiser.edition": {"campaign_id": "1"},
    "organiser.advance": {"campaign_id": "1"}, "organiser.director_access": {"campaign_id": "1"},
    "organiser.ranking": {"campaign_id": "1"}, "organiser.explanation": {"campaign_id": "1", "institution_id": "{institution}"},
    "organiser.override": {"campaign_id": "1", "institution_id": "{institution}"},
    "organiser.publish": {"campaign_id": "1"}, "organiser.revision": {"campaign_id": "{published}", "number": "1"},
    "organiser.log": {"campaign_id": "1"}, "organiser.review_queue": {"campaign_id": "1"},
    "organiser.contact": {"contact_id": "{contact}"}, "organiser.review_action": {"contact_id": "{contact}", "action": "accept"},
    "organiser.appeals": {"campaign_id": "{published}"}, "organiser.resolve_appeal": {"appeal_id": "{appeal}"},
    "organiser.decide_appeal_criterion": {"appeal_id": "{appeal}", "criterion_id": "answered"},
    "organiser.appeal_document": {"appeal_id": "{appeal}"},
    "organiser.plans": {"campaign_id": "{published}"}, "organiser.comment_plan": {"plan_id": "{plan}"},
    "organiser.scenarios": {}, "organiser.toggle_scenario": {"scenario_id": "{scenario}"},
    "organiser.plan": {"campaign_id": "1"}, "organiser.assignments": {"campaign_id": "1"},
    "organiser.move_assignment": {"assignment_id": "{assignment}"}, "organiser.progress": {"campaign_id": "1"},
    "organiser.institutions": {}, "organiser.institution_form": {"institution_id": "{institution}"},
    "organiser.institutions_import": {}, "organiser.institutions_import_confirm": {},
    "organiser.institutions_template": {}, "organiser.people": {}, "organiser.person": {"user_id": "{a2}"},
    "organiser.person_edit": {"user_id": "{a2}"}, "organiser.person_new": {"role": "auditor"},
    "organiser.person_active": {"user_id": "{a2}"}, "organiser.person_link": {"user_id": "{a2}"},
    "organiser.conflict_add": {"user_id": "{a2}"}, "organiser.conflict_remove": {"user_id": "{a2}", "conflict_id": "{conflict}"},
    "organiser.edition_workbook": {"campaign_id": "{published}"}, "organiser.answers_workbook": {"campaign_id": "{published}"},
    "organiser.fairness": {"campaign_id": "1"},
    "organiser.rubrics": {}, "organiser.rubric_new": {}, "organiser.rubric": {"rubric_hash": "{rubric}"},
    "organiser.rubric_compare": {"old": "{rubric}", "new": "{rubric}"}, "organiser.rubric_try": {"rubric_hash": "{rubric}"},
    "organiser.rubric_retire": {"rubric_hash": "{rubric}"}, "organiser.rubric_restore": {"rubric_hash": "{rubric}"},
    "organiser.rubric_case_delete": {"case_id": "1"},
    "organiser.mail": {}, "organiser.mail_message": {"message_id": "{mail}"}, "organiser.mail_again": {"message_id": "{mail}"},
    "organiser.jobs": {}, "organiser.job": {"job_id": "{job}"}, "organiser.job_status": {"job_id": "{job}"},
    "organiser.job_download": {"job_id": "{job}"}, "organiser.job_again": {"job_id": "{job}"},
    "organiser.export_job": {"campaign_id": "1", "kind": "answers"},
    "organiser.fairness_compute": {"campaign_id": "1"},
}


def make_world(folder: Path) -> tuple[Flask, dict[str, str]]:
    """The demo with CSRF off (so refusals come from the access rules), and the ids of A1's and D1's objects."""
    config = {"TESTING": True, "WTF_CSRF_ENABLED": False, "INSTANCE_PATH": str(folder / "instance"),
              "SQLALCHEMY_DATABASE_URI": database_url(folder), "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool},
              "SECRET_KEY": "access", "RUBRICS_DIR": str(ROOT / "rubrics")}
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        load_demo()
        a1 = db.session.scalar(sa.select(User).filter_by(email=EMAILS["A1"]))
        a2 = db.session.scalar(sa.select(User).filter_by(email=EMAILS["A2"]))
        d1 = db.session.scalar(sa.select(User).filter_by(email=EMAILS["D1"]))
        institution = d1.institutions[-1]
        contact = db.session.scalar(sa.select(Contact).filter_by(campaign_id=1, auditor_id=a1.id, status="returned"))
        folder_evidence = Path(app.config["EVIDENCE_DIR"])
        folder_evidence.mkdir(parents=True, exist_ok=True)
        (folder_evidence / ("a" * 32 + ".txt")).write_text("dowód")
        evidence = Evidence(contact_id=contact.id, kind="text", original_name="a.txt", content_type="text/plain",
                            size=6, sha256="0" * 64, storage_key="a" * 32 + ".txt")
        copy = ContactCopy(contact_id=contact.id, client_id="x", base_version=0, payload={})
        counted = min(publication.counted_contacts(PUBLISHED, institution.id))
        (folder_evidence / "appeals").mkdir(exist_ok=True)
        (folder_evidence / "appeals" / ("b" * 32 + ".txt")).write_text("pismo")
        appeal = Appeal(campaign_id=PUBLISHED, contact_id=counted, institution_id=institution.id, director_id=d1.id,
                        reason="x", document_key="b" * 32 + ".txt", document_name="pismo.txt", document_kind="text",
                        document_type="text/plain; charset=utf-8", document_size=5)
        conflict = AuditorConflict(auditor_id=a2.id, city="Nigdzie", reason="x")
        message = MailMessage(key="access", kind="contact_returned", user_id=a1.id, to_address=a1.email,
                              language="pl", subject="s", text="t", html="<p>t</p>", status="failed")
        plan = ImprovementPlan(campaign_id=PUBLISHED, institution_id=institution.id, author_id=d1.id, status="submitted")
        jobs_dir = Path(app.config["JOBS_DIR"])
        jobs_dir.mkdir(parents=True, exist_ok=True)
        (jobs_dir / "1-0123456789abcdef.xlsx").write_bytes(b"PK")
        job = JobRecord(key="access", kind="answers", campaign_id=1, params={"download_name": "answers-2026.xlsx"},
                        state="done", result_path="1-0123456789abcdef.xlsx")
        db.session.add_all([evidence, copy, appeal, conflict, message, plan, job])
        db.session.commit()
        values = {
            "assignment": contact.assignment_id, "contact": contact.id, "evidence": evidence.id, "copy": copy.id,
            "institution": institution.id, "published": PUBLISHED, "counted_contact": counted, "appeal": appeal.id, "plan": plan.id,
            "licence": db.session.scalar(sa.select(Licence.number).filter_by(campaign_id=PUBLISHED,
                                                                             institution_id=institution.id)),
            "scenario": db.session.scalar(sa.select(Scenario.id)), "a2": a2.id, "conflict": conflict.id,
            "rubric": db.session.scalar(sa.select(CampaignChannel.rubric_hash).filter_by(campaign_id=1)),
            "mail": message.id, "job": job.id,
        }
        assert values["licence"], "the demo director's institution holds a licence in the published edition"
        assert db.session.get(Assignment, values["assignment"]).auditor_id == a1.id
    return app, {k: str(v) for k, v in values.items()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access")
    app, ids = make_world(folder)
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.drop_all()
    shutil.rmtree(folder, ignore_errors=True)


def all_cases() -> list[tuple[str, Rule, str, dict[str, str]]]:
    cases = [(endpoint, rule, method, values) for endpoint, entries in ROUTES.items()
             for rule, method, values in entries]
    for endpoint, values in ORGANISER_ROUTES.items():
        cases.append((endpoint, ORGANISER, "GET", values))
        cases.append((endpoint, ORGANISER, "POST", values))
    return cases


def test_every_route_has_a_declared_rule(world):
    app, _ = world
    declared = set(ROUTES) | set(ORGANISER_ROUTES)
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - declared)
    assert missing == [], f"routes without an access rule in tests/test_access.py and docs/security.md: {missing}"


@pytest.fixture(scope="module")
def clients(world):
    return logged_in_clients(world[0])


def logged_in_clients(app: Flask) -> dict[str, object]:
    out = {"anonymous": app.test_client()}
    for principal, email in EMAILS.items():
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})  # CSRF is off here
        assert response.status_code == 302, f"{principal} could not log in"
        out[principal] = client
    return out


def url_of(app: Flask, endpoint: str, values: dict[str, str], ids: dict[str, str]) -> str:
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, **{k: v.format(**ids) for k, v in values.items()})


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_route_answers_each_principal_as_declared(world, clients, principal):
    app, ids = world
    client = clients[principal]
    failures = []
    for endpoint, rule, method, values in all_cases():
        allowed_methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if method not in allowed_methods:
            continue
        expected = rule.expected(principal)
        if method == "POST" and expected == "ok":
            continue  # a POST by an allowed visitor would change the data the other cases use
        url = url_of(app, endpoint, values, ids)
        response = client.open(url, method=method)
        status = response.status_code
        to_login = status == 302 and "/login" in response.headers.get("Location", "")
        if expected == "ok":
            good = status < 400 and not to_login
        elif expected == LOGIN:
            good = to_login
        else:
            good = status == expected
        response.close()
        if not good:
            failures.append(f"{method} {url} ({endpoint}): expected {expected}, got {status}"
                            f"{' to login' if to_login else ''}")
    assert failures == []


def test_the_matrix_is_documented(world):
    """docs/security.md names every endpoint the test knows, so the written matrix cannot drift."""
    text = (ROOT / "docs" / "security.md").read_text()
    undocumented = sorted(e for e in set(ROUTES) | set(ORGANISER_ROUTES) if f"`{e}`" not in text
                          and not (e.startswith("organiser.") and "`organiser.*`" in text))
    assert undocumented == []
