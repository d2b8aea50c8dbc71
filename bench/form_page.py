"""The auditor's 60-criterion form page: server CPU per view, and bytes on the wire.

CPU is process time over many GETs through the full app (session, database, template),
beside a naive page that renders the same rubric's WTForms fields with their own widgets.
The wire size is the gzip size of the page and every asset it loads.
"""

from __future__ import annotations

import gzip
import re
import tempfile
import time
from typing import Any

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, Optional

from audit.contact_form import answer_choices, form_class
from audit.extensions import db
from audit.models import Assignment, Campaign, CampaignChannel, Institution, User
from audit.rubrics import Rubric, parse_rubric
from audit.services import store_rubric

from .engine import throwaway_app
from .report import Row

CRITERIA = 60
REQUESTS = 300

NAIVE_TEMPLATE = """<!doctype html><form method="post">{{ form.csrf_token }}
{% for field in form %}{% if field.type not in ("CSRFTokenField", "HiddenField") %}
<div class="field">{{ field.label }} {{ field() }}</div>{% endif %}{% endfor %}
<button>Save</button></form>"""


def rubric_source(criteria: int = CRITERIA) -> str:
    """A visit rubric with `criteria` questions: yes/no, scales, choices and a measured number."""
    lines = ["id: bench_visit", "version: '1'", "channel: visit", "title: {pl: Wizyta, en: Visit}", "sections:"]
    per_section = 10
    for s in range(criteria // per_section):
        lines += [f"  - id: s{s}", f"    title: {{pl: Sekcja {s}, en: Section {s}}}", "    criteria:"]
        for k in range(per_section):
            n = s * per_section + k
            common = [f"      - id: c{n}", f"        question: {{pl: 'Pytanie numer {n} o jakość obsługi klienta?', "
                      f"en: 'Question number {n} about the quality of service?'}}",
                      f"        guidance: {{pl: 'Wskazówka dla audytora do pytania {n}.', en: 'Guidance {n}.'}}",
                      f"        standard: 'II.{n}'"]
            if n == 0:
                lines += [*common, "        type: number", "        fact: wait_minutes", "        unit: {pl: min, en: min}",
                          "        bands: [{at_least: 0, below: 5, points: 2}, {at_least: 5, points: 0}]"]
            elif n % 3 == 1:
                lines += [*common, "        type: scale", "        levels:"] + [
                    f"          - {{points: {p}, label: {{pl: 'Poziom {p}', en: 'Level {p}'}}}}" for p in range(4)]
            elif n % 3 == 2:
                lines += [*common, "        type: choice", "        na_allowed: true", "        options:"] + [
                    f"          - {{id: o{p}, points: {p}, label: {{pl: 'Opcja {p}', en: 'Option {p}'}}}}" for p in range(3)]
            else:
                lines += [*common, "        type: yes_no", "        points: 2",
                          "        when: {criterion: c1, in: ['2', '3', '4']}" if n == 3 else "        na_allowed: false"]
    return "\n".join(lines) + "\n"


def run() -> list[Row]:
    rubric = parse_rubric(rubric_source(), "bench_visit.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        app = throwaway_app(tmp)
        with app.app_context():
            db.create_all()
            store_rubric(rubric)
            auditor = User(email="a@bench.test", name="A", role="auditor", pseudonym="A-1")
            auditor.set_password("bench")
            campaign = Campaign(name="Bench", year=2026, status="fieldwork")
            campaign.channels.append(CampaignChannel(channel="visit", rubric_hash=rubric.hash, weight=1.0))
            inst = Institution(name="Ośrodek", category="social_welfare", city="X", region="R", channels=["visit"])
            db.session.add_all([auditor, campaign, inst])
            db.session.flush()
            assignment = Assignment(campaign_id=campaign.id, institution_id=inst.id, channel="visit",
                                    auditor_id=auditor.id, scenario="Pytanie o dodatek mieszkaniowy.")
            db.session.add(assignment)
            db.session.commit()
            url = f"/auditor/assignments/{assignment.id}"

        naive_form = naive_form_class(rubric)

        @app.route("/bench/naive")
        def naive() -> str:
            return render_template_string(NAIVE_TEMPLATE, form=naive_form())

        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post("/login", data={"email": "a@bench.test", "password": "bench", "csrf_token": token})
        page = client.get(url)
        assert page.status_code == 200 and page.get_data(as_text=True).count('<fieldset class="criterion"') == CRITERIA

        def ours() -> None:
            assert client.get(url).status_code == 200

        def naive_page() -> None:
            assert client.get("/bench/naive").status_code == 200

        our_cpu = cpu_per_call(ours)
        naive_cpu = cpu_per_call(naive_page)
        wire = wire_bytes(client, page.get_data(as_text=True))
    return [
        Row("form page: naive WTForms widgets, 60 criteria (baseline)", f"{naive_cpu * 1000:.2f} ms CPU", 1.0, None),
        Row("form page: server CPU per view, 60 criteria", f"{our_cpu * 1000:.2f} ms CPU", our_cpu / naive_cpu, 3 / 8),
        Row("form page: gzip bytes on the wire (page + assets)", f"{wire / 1024:.1f} KB", wire / 1024 / 150, 1.0,
            note="ratio to 150 KB"),
    ]


def naive_form_class(rubric: Rubric) -> type[FlaskForm]:
    """The page built the naive way: one WTForms field per criterion (a radio group, or a number) and one
    comment box each, beside the app's own form fields. The app's form no longer binds a field per criterion
    (its answers are read against a spec made once per rubric), so the baseline is built here."""
    app_form = form_class(rubric, "visit")
    fields: dict[str, Any] = {name: getattr(app_form, name) for name in dir(app_form)
                              if isinstance(getattr(app_form, name), UnboundField)}
    for c in rubric.criteria:
        label = c.question.pl
        fields[f"a_{c.id}"] = (IntegerField(label, validators=[Optional()]) if c.type == "number" else
                               RadioField(label, choices=[(v, v) for v in answer_choices(c)], validators=[Optional()]))
        fields[f"n_{c.id}"] = TextAreaField("Komentarz", validators=[Optional(), Length(max=2000)])
    return type("NaiveContactForm", (FlaskForm,), fields)


def cpu_per_call(fn, requests: int = REQUESTS) -> float:
    """Best of three rounds of process time per call (the test client runs in this process)."""
    for _ in range(20):
        fn()  # warm caches: compiled templates, the form layout, the rubric
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(requests):
            fn()
        best = min(best, (time.process_time() - start) / requests)
    return best


def wire_bytes(client, html: str) -> int:
    """gzip size of the page plus each stylesheet and script it references."""
    total = len(gzip.compress(html.encode(), 6))
    for asset in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))):
        with client.get(asset) as response:
            assert response.status_code == 200, asset
            total += len(gzip.compress(response.data, 6))
    return total
