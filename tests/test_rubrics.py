"""The rubric loader: the shipped rubrics pass, and every kind of broken rubric is refused clearly."""

import re
import time
from pathlib import Path

import pytest

from audit.rubrics import CHANNELS, MAX_FILE_BYTES, RubricError, check_paths, load_rubric, parse_rubric, rubric_hash

from .rubric_samples import HEADER, criterion_yaml

ROOT = Path(__file__).resolve().parent.parent
STANDARD_REF = re.compile(r"^([IVX]+\.\d+( zal\. \d+(, ?\d+)*)?|LZM: .+)$")


def docs_example() -> str:
    return re.search(r"```yaml\n(.*?)```", (ROOT / "docs/rubrics.md").read_text(encoding="utf-8"), re.S).group(1)


def problems_of(source: str) -> list[str]:
    with pytest.raises(RubricError) as info:
        parse_rubric(source, "broken.yaml")
    return [str(p) for p in info.value.problems]


def one(cid: str, body: str) -> str:
    return HEADER + criterion_yaml(cid, body)


# --- what we ship -----------------------------------------------------------------------------

def test_the_example_in_the_docs_is_a_valid_rubric():
    rubric = parse_rubric(docs_example(), "docs/rubrics.md")
    assert [c.type for c in rubric.criteria] == ["yes_no", "number", "choice", "scale", "yes_no"]
    assert rubric.criterion("rings").when.values == {"yes"}


def test_one_real_rubric_per_channel_is_shipped_and_valid():
    rubrics, problems = check_paths([ROOT / "rubrics"])
    assert problems == []
    assert sorted({r.channel for r in rubrics}) == sorted(CHANNELS)
    assert sorted(f"{r.id} {r.version}" for r in rubrics if r.channel == "phone") == ["phone 2026.1", "phone 2026.2"]
    for rubric in rubrics:
        assert 15 <= len(rubric.criteria) <= 40, rubric.path
        for c in rubric.criteria:
            assert STANDARD_REF.match(c.standard), f"{rubric.path}: {c.id} cites {c.standard!r}"
            assert c.question.pl != c.question.en, f"{rubric.path}: {c.id} is not translated"


def test_shipped_rubrics_cover_what_the_contest_judges():
    text = " ".join((ROOT / "rubrics" / f"{ch}.yaml").read_text(encoding="utf-8").lower() for ch in CHANNELS)
    for topic in ("starsz", "niepełnosprawn", "odwoła", "dzień dobry", "strona"):
        assert topic in text, topic


# --- hashes -------------------------------------------------------------------------------------

def test_hash_identifies_the_content_and_ignores_line_endings():
    source = docs_example()
    assert parse_rubric(source).hash == rubric_hash(source) == rubric_hash(source.replace("\n", "\r\n"))
    assert parse_rubric(source.replace("points: 2\n", "points: 3\n", 1)).hash != rubric_hash(source)


def test_same_version_with_other_content_is_refused(tmp_path):
    source = docs_example()
    (tmp_path / "a.yaml").write_text(source, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(source.replace("points: 2\n", "points: 3\n", 1), encoding="utf-8")
    _, problems = check_paths([tmp_path])
    assert any("raise the version" in str(p) for p in problems)


# --- what is refused, and how it is said ------------------------------------------------------

@pytest.mark.parametrize(("body", "expected"), [
    ("type: yes_no\npoints: 1\ncritcal: true", "broken.yaml:9: criterion 'x': unknown key 'critcal' in a yes_no criterion (did you mean 'critical'?)"),
    ("type: maybe\npoints: 1", "criterion 'x': unknown answer type 'maybe'"),
    ("type: yes_no\npoints: -2", "criterion 'x': 'points' must not be negative (-2)"),
    ("type: yes_no\npoints: many", "criterion 'x': 'points' must be a number, not 'many'"),
    ("type: yes_no\npoints: 1\nna_allowed: perhaps", "'na_allowed' must be true or false"),
    ("type: number\nunit: {pl: u, en: u}\nbands:\n  - {at_least: 0, below: 4, points: 2}\n  - {at_least: 3, points: 0}", "bands overlap: 3 is in bands 1 and 2"),
    ("type: number\nunit: {pl: u, en: u}\nbands:\n  - {at_least: 0, below: 4, points: 2}\n  - {at_least: 5, points: 0}", "bands leave a gap from 4 to 5"),
    ("type: number\nunit: {pl: u, en: u}\nbands:\n  - {at_least: 0, points: 2}\n  - {at_least: 5, points: 0}", "only the last band may leave it out"),
    ("type: number\nunit: {pl: u, en: u}\nfact: temperature\nbands:\n  - {at_least: 0, points: 2}", "unknown fact 'temperature'"),
    ("type: scale\nlevels:\n  - {points: 2, label: {pl: a, en: a}}\n  - {points: 1, label: {pl: b, en: b}}", "level 2 has fewer points than level 1"),
    ("type: choice\noptions:\n  - {id: a, points: 1, label: {pl: a, en: a}}\n  - {id: a, points: 2, label: {pl: b, en: b}}", "duplicate option id 'a'"),
    ("type: yes_no\npoints: 1\nwhen: {criterion: ghost, equals: yes}", "'when' names criterion 'ghost', which does not exist"),
    ("type: yes_no\npoints: 1\nwhen: {criterion: x, equals: yes}", "'when' conditions form a cycle: x -> x"),
    ("type: yes_no\npoints: 0\ncritical: true", "a critical criterion needs an answer worth 0 points"),
    ("type: choice\ncritical: true\noptions:\n  - {id: a, points: 1, label: {pl: a, en: a}}\n  - {id: b, points: 2, label: {pl: b, en: b}}",
     "a critical criterion needs an answer worth 0 points"),
])
def test_a_broken_criterion_is_refused_naming_file_line_and_criterion(body, expected):
    found = problems_of(one("x", body))
    assert any(expected in p for p in found), found
    assert all(p.startswith("broken.yaml:") for p in found)


def test_missing_translation_names_the_language_and_the_criterion():
    source = one("x", "type: yes_no\npoints: 1").replace("question: {pl: Pytanie, en: Question}", "question: {pl: Pytanie}")
    assert problems_of(source) == ["broken.yaml:10: criterion 'x': 'question' is missing the en text"]


def test_duplicate_ids_name_both_lines():
    source = HEADER + criterion_yaml("x", "type: yes_no\npoints: 1") + criterion_yaml("x", "type: yes_no\npoints: 1")
    assert problems_of(source) == ["broken.yaml:14: criterion 'x': duplicate id 'x' (also on line 9)"]


def test_a_cycle_across_criteria_is_found():
    source = HEADER + criterion_yaml("a", "type: yes_no\npoints: 1\nwhen: {criterion: b, equals: yes}") + \
        criterion_yaml("b", "type: yes_no\npoints: 1\nwhen: {criterion: a, equals: no}")
    found = problems_of(source)
    assert "broken.yaml:9: criterion 'a': 'when' conditions form a cycle: a -> b -> a" in found


def test_when_value_must_be_a_possible_answer():
    source = HEADER + criterion_yaml("a", "type: yes_no\npoints: 1") + \
        criterion_yaml("b", "type: yes_no\npoints: 1\nwhen: {criterion: a, equals: maybe}")
    assert problems_of(source) == ["broken.yaml:14: criterion 'b': 'when' value maybe is not an answer of 'a' (yes, no)"]


def test_every_problem_of_a_file_is_reported_at_once():
    source = HEADER + criterion_yaml("a", "type: yes_no\npoints: -1") + criterion_yaml("b", "type: nope")
    assert len(problems_of(source)) == 2


def test_unknown_top_level_key_and_channel():
    source = HEADER.replace("channel: phone", "channel: fax\nchanell: phone")
    found = problems_of(source + criterion_yaml("a", "type: yes_no\npoints: 1"))
    assert any("unknown key 'chanell'" in p and "did you mean 'channel'" in p for p in found)
    assert any("unknown channel 'fax'" in p for p in found)


def test_invalid_yaml_names_the_line():
    assert problems_of("id: x\nsections: [\n  - oops: :\n") [0].startswith("broken.yaml:")


# --- hostile files ------------------------------------------------------------------------------

def test_alias_bomb_is_refused_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    start = time.process_time()
    found = problems_of("\n".join(lines))
    assert time.process_time() - start < 1  # a billion-laughs expansion would take minutes and gigabytes
    assert found == ["broken.yaml:2: not valid YAML: anchors and aliases (&, *) are not allowed in rubrics"]


def test_python_tags_are_refused():
    found = problems_of("id: !!python/object/apply:os.system ['echo hacked']\n")
    assert "not valid YAML" in found[0]


def test_huge_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(RubricError, match="a rubric may be at most 256 KB"):
        load_rubric(big)


def test_deep_nesting_is_refused():
    assert "nested deeper" in problems_of("a: " + "[" * 100 + "]" * 100)[0]


def test_a_non_utf8_file_is_refused(tmp_path):
    bad = tmp_path / "latin.yaml"
    bad.write_bytes("id: zażółć".encode("cp1250"))
    with pytest.raises(RubricError, match="not UTF-8"):
        load_rubric(bad)


def test_points_with_more_than_three_decimals_are_refused():
    from .rubric_samples import PHONE

    text = PHONE.source.replace("points: 2", "points: 2.0001", 1)
    assert text != PHONE.source
    with pytest.raises(RubricError, match="more than three decimals"):
        parse_rubric(text, "phone.yaml")


def test_rubric_versions_after_the_first_cite_their_sources_as_a_reader_finds_them():
    """The method page serves a rubric's text as stored, comments included. The 2026.1 files keep the
    build-machine paths their comments were written with (their text is their hash, pinned by published
    editions); every later version names its sources by title, issuer and year."""
    later = [p for p in sorted((ROOT / "rubrics").glob("*.yaml")) if load_rubric(p).version != "2026.1"]
    assert later  # phone-2026.2.yaml at least
    for path in later:
        text = path.read_text(encoding="utf-8")
        assert "/work/" not in text and "seeds/" not in text, path.name
