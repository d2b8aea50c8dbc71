"""The command-line tools an organiser and an operator use."""

from pathlib import Path

import sqlalchemy as sa

from audit.extensions import db
from audit.models import Campaign, Contact, Institution, Setting, User

from .test_rubrics import docs_example

ROOT = Path(__file__).resolve().parent.parent


def test_rubrics_check_passes_the_shipped_rubrics(runner):
    result = runner.invoke(args=["rubrics", "check", str(ROOT / "rubrics")])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == 6  # a rubric per channel, and the phone rubric's 2026.2 revision


def test_rubrics_check_names_file_and_criterion_of_a_broken_rubric(runner, tmp_path):
    broken = tmp_path / "phone.yaml"
    broken.write_text(docs_example().replace("type: choice", "type: choise"), encoding="utf-8")
    result = runner.invoke(args=["rubrics", "check", str(broken)])
    assert result.exit_code != 0
    assert f"{broken}:" in result.output and "criterion 'introduced': unknown answer type 'choise'" in result.output


def test_rubrics_try_explains_each_point(runner, tmp_path):
    rubric = tmp_path / "phone.yaml"
    rubric.write_text(docs_example(), encoding="utf-8")
    answers = tmp_path / "answers.yaml"
    answers.write_text("answered: yes\nrings: 5\nintroduced: partial\ncourtesy: 3\nright_of_appeal: no\n", encoding="utf-8")
    result = runner.invoke(args=["rubrics", "try", str(rubric), str(answers)])
    assert result.exit_code == 0, result.output
    assert "rings" in result.output and "1/3" in result.output and "[III.4 zal. 1]" in result.output
    assert "total: 6 of 10 points = 60.0%" in result.output
    assert "critical failures (no licence): right_of_appeal" in result.output


def test_rubrics_try_refuses_an_unknown_criterion_or_answer(runner, tmp_path):
    rubric = tmp_path / "phone.yaml"
    rubric.write_text(docs_example(), encoding="utf-8")
    answers = tmp_path / "answers.yaml"
    answers.write_text("answerd: yes\n", encoding="utf-8")
    assert "no such criteria in" in runner.invoke(args=["rubrics", "try", str(rubric), str(answers)]).output
    answers.write_text("answered: yes\nintroduced: sort of\n", encoding="utf-8")
    assert "criterion 'introduced'" in runner.invoke(args=["rubrics", "try", str(rubric), str(answers)]).output


def test_demo_loads_once_and_is_idempotent(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Institution, Contact, User)]
    assert counts[0] >= 40 and counts[1] >= 200
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "already loaded" in again.output
    with app.app_context():
        assert [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Institution, Contact, User)] == counts


def test_demo_refuses_a_database_with_other_data(app, runner):
    with app.app_context():
        db.session.add(Institution(name="Prawdziwy Ośrodek", category="social_welfare", city="X", region="Y", channels=[]))
        db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0 and "did not make" in result.output
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
        assert db.session.get(Setting, "demo") is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0  # no demo accounts
