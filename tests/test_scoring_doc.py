"""docs/scoring.md's worked examples are what the engine computes."""

import re
from pathlib import Path

import yaml

from audit.rubrics import parse_rubric
from audit.scoring import CampaignRules, ContactTotal, InstitutionInfo, parse_answer, score_campaign, score_contact

from .test_rubrics import docs_example

DOC = (Path(__file__).resolve().parent.parent / "docs/scoring.md").read_text(encoding="utf-8")


def block(name: str) -> dict:
    return yaml.safe_load(re.search(rf"<!-- worked-example: {name} -->\n```yaml\n(.*?)```", DOC, re.S).group(1))


def test_contact_example():
    example = block("contact")
    rubric = parse_rubric(docs_example())
    answers = {cid: parse_answer(rubric.criterion(cid), raw) for cid, raw in example["answers"].items()}
    result = score_contact(rubric, answers)
    assert {"earned": result.earned, "possible": result.possible} == example["expected"]
    assert f"{result.earned:g} / {result.possible:g} = {float(result.ratio):.1%}" in DOC


def test_campaign_example():
    example = block("campaign")
    rules = CampaignRules(**example["rules"])
    institutions = [InstitutionInfo(i["id"], i["category"], frozenset(i["channels"])) for i in example["institutions"]]
    contacts = [ContactTotal(*row) for row in example["contacts"]]
    standings = score_campaign(rules, institutions, contacts, example["critical_failures"])
    got = [{"institution": s.institution_id, "points": s.points, "rank": s.rank, "category_rank": s.category_rank,
            "licence": s.licence.granted} for s in standings]
    assert got == example["expected"]
    first = next(s for s in standings if s.institution_id == 1)
    assert round(float(first.score), 4) == 0.7148
    assert round(float(first.channel("visit").weight), 3) == 0.333
