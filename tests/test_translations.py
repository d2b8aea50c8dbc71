"""Every text the product shows has its Polish: extracted from the code as `make messages` does,
translated, not fuzzy, with Polish's three plural forms."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from .conftest import ROOT

CATALOGUE = ROOT / "audit/translations/pl/LC_MESSAGES/messages.po"


def test_every_extracted_text_has_a_polish_translation(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "Np_:1,2", "-o", str(template), "."], cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as f:
        wanted = [m for m in read_po(f) if m.id]
    with CATALOGUE.open("rb") as f:
        polish = read_po(f)
    missing, fuzzy, short = [], [], []
    for message in wanted:
        found = polish.get(message.id)
        if found is None or not found.string or (isinstance(found.string, tuple) and not all(found.string)):
            missing.append(message.id)
        elif found.fuzzy:
            fuzzy.append(message.id)
        elif message.pluralizable and len(found.string) != 3:
            short.append(message.id)
    assert (missing, fuzzy, short) == ([], [], []), "run `make messages` and translate these"


def test_wtforms_own_messages_follow_the_page_language_request_after_request(client):
    """WTForms' messages come from a catalogue read once per language (audit.i18n), not once per request."""
    def errors_of_an_empty_login() -> str:
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        return client.post("/login", data={"email": "", "password": "", "csrf_token": token}).get_data(as_text=True)

    assert "To pole jest wymagane" in errors_of_an_empty_login()
    client.get("/lang/en")
    assert "This field is required" in errors_of_an_empty_login()
    client.get("/lang/pl")
    assert "To pole jest wymagane" in errors_of_an_empty_login()
