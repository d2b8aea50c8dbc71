"""Small rubrics written for the tests, in the format of docs/rubrics.md."""

from audit.rubrics import Rubric, parse_rubric

HEADER = """\
id: sample
version: "1"
channel: phone
title: {pl: Próba, en: Sample}
sections:
  - id: main
    title: {pl: Główna, en: Main}
    criteria:
"""


def criterion_yaml(cid: str, body: str) -> str:
    lines = [f"      - id: {cid}", "        question: {pl: Pytanie, en: Question}", "        standard: \"I.1\""]
    lines += ["        " + line for line in body.strip().splitlines()]
    return "\n".join(lines) + "\n"


def make_rubric(*criteria: tuple[str, str], header: str = HEADER) -> Rubric:
    return parse_rubric(header + "".join(criterion_yaml(cid, body) for cid, body in criteria), "sample.yaml")


PHONE = make_rubric(
    ("answered", "type: yes_no\npoints: 2"),
    ("rings", """type: number
unit: {pl: sygnały, en: rings}
when: {criterion: answered, equals: yes}
bands:
  - {at_least: 0, below: 4, points: 3}
  - {at_least: 4, below: 6, points: 1}
  - {at_least: 6, points: 0}"""),
    ("introduced", """type: choice
when: {criterion: answered, equals: yes}
options:
  - {id: full, points: 2, label: {pl: Pełne, en: Full}}
  - {id: partial, points: 1, label: {pl: Częściowe, en: Partial}}
  - {id: none, points: 0, label: {pl: Brak, en: None}}"""),
    ("courtesy", """type: scale
when: {criterion: answered, equals: yes}
levels:
  - {points: 0, label: {pl: Źle, en: Bad}}
  - {points: 1, label: {pl: Poprawnie, en: Correct}}
  - {points: 2, label: {pl: Dobrze, en: Good}}"""),
    ("appeal", "type: yes_no\npoints: 1\nna_allowed: true\ncritical: true\nwhen: {criterion: answered, equals: yes}"),
)
