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
