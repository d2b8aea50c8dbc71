"""Polish-first formatting (issue 14): local time, real plurals, sentences instead of raw codes."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from audit import i18n
from audit.extensions import db
from audit.forms import EditionForm
from audit.models import AuditEvent, Contact

from .test_review import act


def text_of(response) -> str:
    page = re.sub(r"<script.*?</script>", "", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).replace("\u00a0", " ")


@pytest.mark.parametrize(("utc", "shown", "zone"), [
    (datetime(2026, 10, 25, 0, 30), "02:30", "CEST"),  # the last half hour of summer time
    (datetime(2026, 10, 25, 1, 30), "02:30", "CET"),  # the same wall-clock time, an hour later
    (datetime(2026, 3, 29, 1, 30), "03:30", "CEST"),  # 02:00 CET jumps to 03:00 CEST
])
def test_stored_utc_shows_in_warsaw_time_across_dst(app, utc, shown, zone):
    with app.test_request_context():
        assert i18n.moment(utc, "HH:mm") == shown
        assert i18n.zone_name(utc) == zone
        assert i18n.moment_with_zone(utc).replace("\u00a0", " ").endswith(f"{shown} {zone}")


def test_the_display_zone_comes_from_the_environment(monkeypatch, tmp_path):
    from audit.config import ConfigError, from_environment

    monkeypatch.setenv("DISPLAY_TIMEZONE", "Europe/London")
    assert from_environment(str(tmp_path))["BABEL_DEFAULT_TIMEZONE"] == "Europe/London"
    monkeypatch.setenv("DISPLAY_TIMEZONE", "Europe/Warszawa")
    with pytest.raises(ConfigError):
        from_environment(str(tmp_path))


def test_dates_are_formatted_and_a_window_does_not_break(app):
    with app.test_request_context():
        window = i18n.days(date(2026, 9, 1), date(2026, 12, 18))
        assert window == "1\u00a0wrz–18\u00a0gru\u00a02026"
        assert " " not in window and "-" not in window


@pytest.mark.parametrize(("lang", "value", "unit", "expected"), [
    ("pl", 1, "minutes", "1 minuta"), ("pl", 3, "minutes", "3 minuty"), ("pl", 7, "minutes", "7 minut"),
    ("pl", 22, "rings", "22 sygnały"), ("pl", 6, "rings", "6 sygnałów"), ("pl", 12, "rings", "12 sygnałów"),
    ("pl", 7.5, "minutes", "7,5 minuty"), ("pl", 3.0, "rings", "3 sygnały"),
    ("en", 1, "rings", "1 ring"), ("en", 7.5, "minutes", "7.5 minutes"),
])
def test_quantities_take_the_plural_form_of_their_number(app, lang, value, unit, expected):
    with app.test_request_context():
        from flask import session

        session["lang"] = lang
        assert i18n.quantity(value, unit) == expected


def _correct_rings(demo_app, auth) -> int:
    """Correct an accepted phone contact's ring count from 3 to 6; its id."""
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(Contact).join(Contact.answers).where(
            Contact.channel == "phone", Contact.status == "accepted").filter_by().order_by(Contact.id)
            .where(sa.text("answer.criterion_id = 'rings'")))
        contact.facts = {**(contact.facts or {}), "rings": 3.0, "call_minutes": 7.0, "contacted_at": "2026-09-04T13:45"}
        for a in contact.answers:
            if a.criterion_id == "rings":
                a.value = "3"
        db.session.commit()
        contact_id, version = contact.id, contact.version
    auth.as_role("organiser")
    assert act(auth.client, contact_id, "correct", version=version, criterion="rings", value="6",
               reason="Nagranie").status_code == 302
    return contact_id


def test_the_log_and_the_contact_history_say_what_changed_in_words(demo_app, auth):
    contact_id = _correct_rings(demo_app, auth)
    with demo_app.app_context():
        campaign_id = db.session.get(Contact, contact_id).campaign_id
    log = text_of(auth.client.get(f"/organiser/campaigns/{campaign_id}/log"))
    assert "z „3 sygnały” na „6 sygnałów”" in log
    assert "rings" not in log and "before:" not in log and "(UTC)" not in log
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d CES?T", log)
    page = text_of(auth.client.get(f"/organiser/contacts/{contact_id}"))
    assert "z „3 sygnały” na „6 sygnałów”" in page and "→" not in page
    # the recorded facts, formatted, and said to be as recorded (a correction changes the answer)
    assert "3 sygnały" in page and "7 minut" in page and "4 wrz 2026, 13:45" in page
    assert "3.0" not in page and "7.0" not in page and "2026-09-04T13:45" not in page
    assert "Tak, jak zapisał je audytor" in page
    auth.client.get("/lang/en")
    page = text_of(auth.client.get(f"/organiser/contacts/{contact_id}"))
    assert "from “3 rings” to “6 rings”" in page and "7 minutes" in page


def test_publishing_is_logged_as_the_version_users_know(demo_app, auth):
    from .conftest import go_ahead

    auth.as_role("organiser")
    go_ahead(auth.client, "/organiser/campaigns/1/advance")
    go_ahead(auth.client, "/organiser/campaigns/1/publish", note="Pierwsza")
    with demo_app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="publish"))
        number = event.details["number"]
        assert event.object_id != number or number == 1  # the log shows the number, not the row id
    log = text_of(auth.client.get("/organiser/campaigns/1/log"))
    assert f"wersja {number}" in log and "revision #" not in log and "institutions:" not in log
    assert re.search(r"\d+ instytucj\w+ w rankingu", log)
    assert "licence #" not in log and re.search(r"licencja \S+-\d+", log)


def test_progress_counts_read_as_counts(demo_app, auth):
    auth.as_role("organiser")
    page = text_of(auth.client.get("/organiser/campaigns/1/progress"))
    assert "Przesłany " not in page and "Zwrócony " not in page
    assert re.search(r"(Przesłane|Zwrócone|Szkice): \d", page)


def test_the_edition_form_shows_and_takes_decimals_in_the_users_notation(app):
    with app.test_request_context(method="POST", data={"threshold": "750,5"}):
        form = EditionForm(meta={"csrf": False})
        assert form.threshold.data == 750.5
    with app.test_request_context():
        assert 'value="800"' in EditionForm(meta={"csrf": False}).threshold()


def test_weights_on_the_overview_are_shares_like_the_public_page(demo_app, auth):
    auth.as_role("organiser")
    page = text_of(auth.client.get("/organiser/campaigns/1"))
    assert re.search(r"\d+,\d%", page) and "(UTC)" not in page


def test_the_review_queue_and_min_contacts_read_in_polish(demo_app, auth):
    auth.as_role("organiser")
    page = text_of(auth.client.get("/organiser/campaigns/1/review"))
    assert "(UTC)" not in page and "Przesłano" in page
    from audit.scoring import Reason

    with demo_app.test_request_context():
        said = i18n.describe_reason(Reason("min_contacts", False, channel="phone", value=0, required=1))
    assert said == "Telefon: tylko 0 z 1 wymaganego kontaktu."


@pytest.mark.parametrize(("lang", "code", "expected"), [
    ("pl", "II.1 zal. 3", "Standardy obsługi klienta MOPS w Rydułtowach (2019), część II (proces obsługi), "
                          "standard 1, zalecenie 3 (II.1 zal. 3)"),
    ("en", "III.4 zal. 7", "Customer service standards of MOPS in Rydułtowy (2019), part III (phone calls and "
                           "electronic communication), standard 4, recommendation 7 (III.4 zal. 7)"),
    ("pl", "LZM: strona internetowa", "kryterium konkursu „Lider Zaufania Mieszkańców”: strona internetowa"),
    ("pl", "X.9", "X.9"),  # an unknown code is shown as it is
])
def test_a_standard_reference_reads_as_words_with_its_code(app, lang, code, expected):
    with app.test_request_context(headers={"Accept-Language": lang}):
        from flask import session

        session["lang"] = lang
        assert i18n.standard_reference(code) == expected


def test_the_log_counts_a_submitted_plans_actions_in_words(demo_app, auth):
    """The demo's directors submitted plans of 2 and 3 actions (PAST, revision 1): the log says so, no raw key."""
    auth.login("organiser@demo.test")
    log = text_of(auth.client.get("/organiser/campaigns/3/log"))
    assert "2 działania naprawcze" in log and "3 działania naprawcze" in log
    assert "actions:" not in log
