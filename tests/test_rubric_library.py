"""The rubric library in the browser's reach: every version by channel, upload and edit checked by the
same loader as the command line, nothing stored until valid, versions compared, any version pinned."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from audit import rubric_diff, rubric_library
from audit.extensions import db
from audit.models import AuditEvent, Campaign, CampaignChannel, RubricVersion
from audit.rubrics import RubricError, parse_rubric

from .conftest import ROOT, go_ahead
from .rubric_samples import HEADER, criterion_yaml

SAMPLE = HEADER + criterion_yaml("answered", "type: yes_no\npoints: 2") + criterion_yaml(
    "polite", "type: yes_no\npoints: 1\nwhen: {criterion: answered, equals: yes}")
BROKEN = SAMPLE.replace("points: 1\n", "points: one\n")


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def stored(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(RubricVersion.hash)))


def post_rubric(client, source: str = "", file: bytes | None = None):
    token = csrf(client.get("/organiser/rubrics/new").get_data(as_text=True))
    data = {"csrf_token": token, "source": source}
    if file is not None:
        data["file"] = (io.BytesIO(file), "rubric.yaml")
    return client.post("/organiser/rubrics/new", data=data, content_type="multipart/form-data")


def test_the_library_lists_every_version_by_channel_with_the_editions_that_pin_it(demo_app, auth):
    auth.as_role("organiser")
    page = auth.client.get("/organiser/rubrics").get_data(as_text=True)
    with demo_app.app_context():
        pinned = db.session.scalar(sa.select(CampaignChannel).filter_by(campaign_id=1, channel="phone"))
        assert f"/organiser/rubrics/{pinned.rubric_hash}" in page
        name = db.session.get(Campaign, 1).name
    assert name in page and ("Telefon" in page or "Phone" in page)


def test_a_rubric_with_a_mistake_is_named_with_its_line_and_nothing_is_stored(demo_app, auth):
    auth.as_role("organiser")
    before = stored(demo_app)
    refused = post_rubric(auth.client, BROKEN)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    with pytest.raises(RubricError) as loader:  # what `flask rubrics check` says of the same text
        parse_rubric(BROKEN, "x.yaml")
    (problem,) = loader.value.problems
    assert re.search(rf"(linia|line) {problem.line}\b", page) and "polite" in page and "to musi być liczba" in page
    assert "points: one" in page  # the text is kept in the page, to be fixed there
    assert stored(demo_app) == before

    fixed = post_rubric(auth.client, BROKEN.replace("points: one", "points: 1"))
    assert fixed.status_code == 302
    new_hash = fixed.headers["Location"].rsplit("/", 1)[1]
    assert stored(demo_app) == before | {new_hash}
    with demo_app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="rubric_added"))
        assert event.details["hash"] == new_hash and event.actor.email == "organiser@demo.test"
    version_page = auth.client.get(f"/organiser/rubrics/{new_hash}").get_data(as_text=True)
    assert "Pytanie" in version_page or "Question" in version_page


def test_a_changed_text_under_a_stored_version_is_refused_with_the_next_version_offered(demo_app, auth):
    auth.as_role("organiser")
    assert post_rubric(auth.client, SAMPLE).status_code == 302
    again = post_rubric(auth.client, SAMPLE)  # the same text: nothing new
    assert again.status_code == 302
    clash = post_rubric(auth.client, SAMPLE.replace("points: 2", "points: 3"))
    assert clash.status_code == 422 and '"2"' not in clash.get_data(as_text=True)[:0]
    assert "2" in re.sub(r"<[^>]+>", "", clash.get_data(as_text=True)).split("sample", 1)[1][:400]
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RubricVersion).filter_by(rubric_id="sample")) == 1
    assert rubric_library.next_version("2026.1") == "2026.2" and rubric_library.next_version("1") == "2"
    assert rubric_library.next_version("beta") == "beta.1"


def test_an_uploaded_file_is_checked_like_a_typed_text(demo_app, auth):
    auth.as_role("organiser")
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    bomb = post_rubric(auth.client, file="\n".join(lines).encode())
    assert bomb.status_code == 422 and "aliasy (&amp;, *)" in bomb.get_data(as_text=True)
    huge = post_rubric(auth.client, file=b"#" * (rubric_library.MAX_SOURCE_BYTES + 10))
    assert huge.status_code == 422 and "256" in huge.get_data(as_text=True)
    hostile = SAMPLE.replace("{pl: Pytanie, en: Question}", '{pl: "<script>alert(1)</script>", en: Q}', 1)
    saved = post_rubric(auth.client, file=hostile.encode())
    assert saved.status_code == 302
    shown = auth.client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown
    assert auth.client.post("/organiser/rubrics/new", data={"source": SAMPLE}).status_code == 400  # no CSRF token


def test_compare_names_what_changed_criterion_by_criterion():
    old = parse_rubric(SAMPLE, "old.yaml")
    new = parse_rubric(SAMPLE.replace('version: "1"', 'version: "2"')
                       .replace("points: 2", "points: 3")
                       .replace("{pl: Pytanie, en: Question}", "{pl: Nowe pytanie, en: New question}", 1)
                       .replace("when: {criterion: answered, equals: yes}", "")
                       + criterion_yaml("thanked", "type: yes_no\npoints: 1"), "new.yaml")
    kinds = {(c.criterion, c.kind) for c in rubric_diff.compare(old, new)}
    assert kinds == {("answered", "points"), ("answered", "question"), ("polite", "condition"),
                     ("thanked", "added")}
    assert {(c.criterion, c.kind) for c in rubric_diff.compare(new, old)} >= {("thanked", "removed")}
    assert rubric_diff.compare(old, old) == []


def test_the_compare_page_and_a_draft_edition_pinning_a_library_version(demo_app, auth):
    auth.as_role("organiser")
    phone = (ROOT / "rubrics/phone.yaml").read_text(encoding="utf-8")
    revised = re.sub(r'version: "([^"]+)"', 'version: "2099.1"', phone, count=1).replace("points: 2", "points: 3", 1)
    saved = post_rubric(auth.client, revised)
    assert saved.status_code == 302
    new_hash = saved.headers["Location"].rsplit("/", 1)[1]
    with demo_app.app_context():
        old_hash = db.session.scalar(sa.select(CampaignChannel.rubric_hash).filter_by(campaign_id=1, channel="phone"))
    compared = auth.client.get(f"/organiser/rubrics/compare?old={old_hash}&new={new_hash}").get_data(as_text=True)
    assert "2099.1" in compared and ("punkty" in compared or "points" in compared)
    form = auth.client.get("/organiser/campaigns/new").get_data(as_text=True)
    assert f'value="{new_hash}"' in form  # any validated version of the library may be pinned


@pytest.mark.parametrize("path", ["/organiser/rubrics", "/organiser/rubrics/new"])
def test_the_library_is_for_organisers_only(auth, path):
    auth.as_role("director")
    assert auth.client.get(path).status_code == 403


def test_the_public_method_page_shows_what_changed_in_the_instrument_since_the_previous_edition(demo_app, auth):
    with demo_app.app_context():
        published = db.session.scalars(sa.select(Campaign).filter_by(status="published")
                                       .order_by(Campaign.year.desc())).all()
        newest, previous = published[0], published[1]
        pinned = db.session.get(CampaignChannel, (newest.id, "phone"))
        old = parse_rubric(pinned.rubric.source, "old.yaml")
        text = re.sub(r'version: "([^"]+)"', 'version: "2099.9"', pinned.rubric.source, count=1)
        criterion = old.criteria[0]
        revised = text.replace(criterion.question.pl, criterion.question.pl + " (doprecyzowane)", 1)
        from audit.models import User

        row, _new = rubric_library.add(revised, db.session.scalar(sa.select(User).filter_by(role="organiser")))
        pinned.rubric_hash = row.hash
        db.session.commit()
        newest_id, previous_name = newest.id, previous.name
    page = auth.client.get(f"/editions/{newest_id}/method").get_data(as_text=True)
    assert previous_name in page and "(doprecyzowane)" not in page.split("zmienione brzmienie")[0][-10:]
    assert "zmienione brzmienie" in page and criterion.question.pl in page


def test_a_rubric_is_tried_on_the_phone_form_itself_and_its_score_explained(demo_app, auth):
    auth.as_role("organiser")
    with demo_app.app_context():
        pinned = db.session.scalar(sa.select(CampaignChannel).filter_by(campaign_id=1, channel="email"))
        rubric = parse_rubric(pinned.rubric.source, "email.yaml")
        rubric_hash = pinned.rubric_hash
    path = f"/organiser/rubrics/{rubric_hash}/try"
    page = auth.client.get(path).get_data(as_text=True)
    assert 'name="a_replied"' in page and "fieldset class=\"criterion\"" in page  # the auditor's own markup
    token, client_id = csrf(page), re.search(r'name="client_id" value="([^"]+)"', page).group(1)
    tried = auth.client.post(path, data={"csrf_token": token, "client_id": client_id, "a_replied": "no"})
    text = tried.get_data(as_text=True)
    gate = rubric.criterion("replied")
    assert tried.status_code == 200 and 'id="score"' in text
    assert f"0 / {gate.max_points:g}" in text  # no reply: the gate scores nothing, the rest is not asked
    assert text.count("nie dotyczyło") == len(rubric.criteria) - 1  # "not asked"


# --- the loader's messages in the user's language ----------------------------------------------


def test_the_loaders_problems_are_shown_in_polish_with_their_line_and_criterion_and_in_english_on_the_cli(demo_app, auth):
    with pytest.raises(RubricError) as loader:
        parse_rubric(BROKEN, "x.yaml")
    (problem,) = loader.value.problems
    assert str(problem).endswith("criterion 'polite': 'points' must be a number, not 'one'")  # the CLI's words
    auth.as_role("organiser")
    two_mistakes = BROKEN.replace("        points: 2\n", "        points: 2\n        colour: red\n")
    page = post_rubric(auth.client, two_mistakes)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.get_data(as_text=True)))
    assert page.status_code == 422
    assert f"linia {problem.line + 1} · kryterium polite: „points”: to musi być liczba, nie &#39;one&#39;" in text
    assert "kryterium typu yes_no: nieznany klucz „colour”" in text and "must be" not in text
    assert f'data-line="{problem.line + 1}"' in page.get_data(as_text=True)  # the link that selects the line
    assert "linia 9 · kryterium answered: kryterium typu yes_no" in text  # every problem at once


# --- status: draft, in use, retired ------------------------------------------------------------


def _add(app, source: str) -> str:
    with app.app_context():
        from audit.models import User

        row, _new = rubric_library.add(source, db.session.scalar(sa.select(User).filter_by(role="organiser")))
        db.session.commit()
        return row.hash


def test_a_version_pinned_by_an_open_edition_cannot_be_retired_and_a_retired_one_cannot_be_pinned(demo_app, auth):
    with demo_app.app_context():
        in_fieldwork = db.session.scalar(sa.select(CampaignChannel.rubric_hash).filter_by(campaign_id=1, channel="phone"))
        published = db.session.scalar(sa.select(CampaignChannel.rubric_hash).join(Campaign).where(
            Campaign.status == "published", CampaignChannel.channel == "phone").limit(1))  # 2026.1, not 2026.2
        assert db.session.scalar(sa.select(Campaign.status).filter_by(id=1)) == "fieldwork"
        organiser = db.session.scalar(sa.select(rubric_library.User).filter_by(role="organiser"))
        with pytest.raises(rubric_library.RubricRetireRefused) as refused:
            rubric_library.retire(in_fieldwork, organiser)
        assert "Lider Zaufania Mieszkańców 2026 (demo)" in str(refused.value)
        db.session.rollback()
    fresh = _add(demo_app, SAMPLE)
    auth.as_role("organiser")
    page = auth.client.get(f"/organiser/rubrics/{fresh}").get_data(as_text=True)
    assert "szkic" in page and "Wycofaj wersję 1" in page
    token = csrf(page)
    assert auth.client.post(f"/organiser/rubrics/{fresh}/retire").status_code == 400  # no CSRF token
    assert auth.client.post(f"/organiser/rubrics/{fresh}/retire", data={"csrf_token": token}).status_code == 302
    page = auth.client.get(f"/organiser/rubrics/{fresh}").get_data(as_text=True)
    assert "wycofana" in page and "Przywróć" in page
    assert f'value="{fresh}"' not in auth.client.get("/organiser/campaigns/new").get_data(as_text=True)
    with demo_app.app_context():  # a form posted before the version was retired is refused by the use case too
        from audit import editions
        from audit.services import rubric_by_hash

        organiser = db.session.scalar(sa.select(rubric_library.User).filter_by(role="organiser"))
        setup = editions.EditionSetup("Próba", 2030, 750, "exclude", None, None,
                                      [editions.ChannelSetup("phone", fresh, 1.0, 1)])
        with pytest.raises(editions.EditionError) as pinned:
            editions.save_edition(None, setup, {fresh: rubric_by_hash(fresh)}, organiser)
        assert "retired" in str(pinned.value)
        db.session.rollback()
        assert rubric_library.retire(published, organiser).retired_at is not None  # only published editions pin it
        db.session.rollback()
    refused_again = auth.client.post(f"/organiser/rubrics/{fresh}/retire", data={"csrf_token": token})
    assert refused_again.status_code == 302  # flashed by the one error handler
    assert "już wycofana" in auth.client.get(refused_again.headers["Location"]).get_data(as_text=True)
    assert auth.client.post(f"/organiser/rubrics/{fresh}/restore", data={"csrf_token": token}).status_code == 302
    assert f'value="{fresh}"' in auth.client.get("/organiser/campaigns/new").get_data(as_text=True)


# --- test cases ----------------------------------------------------------------------------------


def test_answers_saved_as_a_test_case_are_re_run_on_the_next_version_criterion_by_criterion(demo_app, auth):
    first = _add(demo_app, SAMPLE)
    auth.as_role("organiser")
    path = f"/organiser/rubrics/{first}/try"
    page = auth.client.get(path).get_data(as_text=True)
    data = {"csrf_token": csrf(page), "client_id": re.search(r'name="client_id" value="([^"]+)"', page).group(1),
            "a_answered": "yes", "a_polite": "yes", "case_name": "  Uprzejmy   <b>rozmówca</b> ", "action": "save_case"}
    saved = auth.client.post(path, data=data)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/organiser/rubrics/{first}#cases")
    again = auth.client.post(path, data=data)  # the same name twice: said beside the name, answers kept
    assert again.status_code == 200 and "ma już przypadek testowy" in again.get_data(as_text=True)
    assert 'value="yes" checked' in again.get_data(as_text=True)
    shown = auth.client.get(f"/organiser/rubrics/{first}").get_data(as_text=True)
    assert "Uprzejmy &lt;b&gt;rozmówca&lt;/b&gt;" in shown and "zgodnie z oczekiwaniem: 3 pkt" in shown

    revised = SAMPLE.replace('version: "1"', 'version: "2"').replace("points: 1\n", "points: 2\n")
    stored_again = post_rubric(auth.client, revised)
    assert stored_again.status_code == 302
    second = stored_again.headers["Location"].rsplit("/", 1)[1]
    page = auth.client.get(stored_again.headers["Location"]).get_data(as_text=True)
    assert "0 z 1 daje oczekiwane punkty" in page  # the flash after storing: the cases were re-run
    with demo_app.app_context():
        run, = rubric_library.run_cases(rubric_library.get(second)[1])
        assert (run.expected, run.now, run.passed) == (3, 4, False)
        assert [(line.criterion_id, line.expected, line.now, line.differs) for line in run.lines] == [
            ("answered", 2, 2, False), ("polite", 1, 2, True)]
    assert "oczekiwano 3, teraz 4 pkt" in page and 'class="case-result differs"' in page

    without = SAMPLE.replace('version: "1"', 'version: "3"').replace("polite", "kind")
    third = post_rubric(auth.client, without).headers["Location"].rsplit("/", 1)[1]
    with demo_app.app_context():
        run, = rubric_library.run_cases(rubric_library.get(third)[1])
        assert [(line.criterion_id, line.status, line.now) for line in run.lines][-1] == ("polite", "removed", None)
        case_id = run.case.id
    token = csrf(page)
    unconfirmed = auth.client.post(f"/organiser/rubrics/cases/{case_id}/delete", data={"csrf_token": token, "back": third})
    assert unconfirmed.status_code == 302
    with demo_app.app_context():
        assert len(rubric_library.run_cases(rubric_library.get(third)[1])) == 1  # not without its confirming button
    deleted = auth.client.post(f"/organiser/rubrics/cases/{case_id}/delete",
                               data={"csrf_token": token, "back": third, "confirm": "yes"})
    assert deleted.status_code == 302
    with demo_app.app_context():
        assert rubric_library.run_cases(rubric_library.get(third)[1]) == []


def test_every_rubric_text_is_escaped_on_every_workshop_page(demo_app, auth):
    hostile = (SAMPLE.replace('version: "1"', 'version: "x"')
               .replace("{pl: Próba, en: Sample}", '{pl: "<script>alert(1)</script>", en: "<script>alert(2)</script>"}')
               .replace("{pl: Pytanie, en: Question}", '{pl: "<img src=x onerror=alert(3)>", en: Q}')
               .replace("{pl: Główna, en: Main}", '{pl: "<b>sekcja</b>", en: S}'))
    first = _add(demo_app, SAMPLE)
    second = _add(demo_app, hostile)
    auth.as_role("organiser")
    page = auth.client.get(f"/organiser/rubrics/{second}/try").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "client_id": re.search(r'name="client_id" value="([^"]+)"', page).group(1),
            "a_answered": "yes", "a_polite": "yes", "case_name": "<script>alert(4)</script>", "action": "save_case"}
    assert auth.client.post(f"/organiser/rubrics/{second}/try", data=data).status_code == 302
    for path in ("/organiser/rubrics", f"/organiser/rubrics/{second}", f"/organiser/rubrics/{second}/try",
                 f"/organiser/rubrics/compare?old={first}&new={second}", f"/organiser/rubrics/new?from={second}",
                 "/organiser/campaigns/new"):
        shown = auth.client.get(path).get_data(as_text=True)
        assert "<script>alert" not in shown and "<img src=x" not in shown and "<b>sekcja" not in shown, path


def test_the_demos_2026_edition_pins_a_revised_phone_rubric_and_its_method_page_says_what_changed(demo_app, auth):
    with demo_app.app_context():
        now = db.session.get(CampaignChannel, (1, "phone")).rubric
        before = db.session.scalar(sa.select(CampaignChannel).join(Campaign).where(
            Campaign.year == 2025, CampaignChannel.channel == "phone")).rubric
        assert (before.version, now.version) == ("2026.1", "2026.2")
        assert {c.kind for c in rubric_diff.compare(parse_rubric(before.source), parse_rubric(now.source))} == {
            "question", "points"}
        others = db.session.scalars(sa.select(CampaignChannel).filter_by(campaign_id=1)
                                    .where(CampaignChannel.channel != "phone")).all()
        assert all(ch.rubric.version == "2026.1" for ch in others)  # only the phone rubric was revised
    auth.as_role("organiser")
    assert go_ahead(auth.client, "/organiser/campaigns/1/advance").status_code == 302
    assert go_ahead(auth.client, "/organiser/campaigns/1/publish", note="Wyniki 2026").status_code == 302
    page = re.sub(r"\s+", " ", auth.client.get("/editions/1/method").get_data(as_text=True))
    assert "Lider Zaufania Mieszkańców 2025 (demo)" in page and "wersja 2026.1" in page
    assert "sam zapytał, w czym może pomóc" in page and "zmienione brzmienie" in page
