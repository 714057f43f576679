"""Fuzzing the readers of case files and rules.yaml: random bytes, random YAML, and
canonical files with random damage. Every outcome is data (problems) or a
DataError; never another exception, a hang or a file written."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmtool.errors import DataError, NotFound
from cmtool.rules.loader import check_rules, check_rules_file
from cmtool.store.casefiles import check_file, load_case
from cmtool.store.index import parse_file
from cmtool.store.workspace import Workspace

CASE_ID = "C-251121-QA7S19K"
REL = f"cases/2025/11/{CASE_ID}.yaml"
SAMPLE = next((Path(__file__).parent.parent / "cases").glob("*/*/*.yaml")).read_text(encoding="utf-8")
RULES = (Path(__file__).parent.parent / "rules.yaml").read_text(encoding="utf-8")
SLOW = 5.0  # seconds: far above any real file, far below a hang

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(),
)
_data = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_snippets = st.sampled_from(
    [
        "&a [1, 2]",
        "*a",
        "<<: *a",
        "!!python/object:os.system x",
        "[" * 60,
        "9" * 5000,
        "2025-13-45",
        ".nan",
        "- - - - -",
        "? [a, b]\n: c",
        "events: 3",
        "changes: [a, b]",
        "at: yesterday",
        '"\\u0000\\e[2J"',
        "\t",
        "\r\n",
        "id: ../../../tmp/x",
        "%YAML 1.1\n---",
        "--- a\n--- b",
    ]
)


def _damaged(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(lines)))
        kind = data.draw(st.sampled_from(["insert", "delete", "indent", "snippet"]))
        if kind == "insert":
            lines.insert(where, data.draw(st.text(max_size=30)))
        elif kind == "delete" and lines:
            del lines[min(where, len(lines) - 1)]
        elif kind == "indent" and lines:
            lines[min(where, len(lines) - 1)] = "  " + lines[min(where, len(lines) - 1)]
        else:
            prefix = data.draw(st.sampled_from(["", "  ", "csat: ", "  - ", "    at: "]))
            lines.insert(where, prefix + data.draw(_snippets))
    return "\n".join(lines)


def _check_case_bytes(root: Path, raw: bytes) -> None:
    ws = Workspace(root)
    path = root / REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    before = sorted(root.rglob("*"))
    started = time.monotonic()
    data, problems = check_file(ws, path)
    assert data is None or isinstance(data, dict)
    assert all(p.path == REL for p in problems)
    with contextlib.suppress(DataError, NotFound):  # the only exceptions allowed
        load_case(ws, CASE_ID)
    rel, _blob, error, payload, *_rest = parse_file((str(root), REL))
    assert rel == REL and (error is None) == (payload is not None)
    assert time.monotonic() - started < SLOW
    assert sorted(root.rglob("*")) == before  # reading writes nothing


_FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(raw=st.binary(max_size=2000))
def test_random_bytes_as_a_case_file(tmp_path, raw):
    _check_case_bytes(tmp_path, raw)


@_FUZZ
@given(value=_data, flow=st.sampled_from([None, True, False]), share=st.booleans())
def test_random_yaml_as_a_case_file(tmp_path, value, flow, share):
    document = {"id": CASE_ID, "title": value, "events": [value, value] if share else value}
    text = yaml.dump(document, default_flow_style=flow, allow_unicode=True)  # aliases when shared
    _check_case_bytes(tmp_path, text.encode("utf-8"))


@_FUZZ
@given(data=st.data())
def test_damaged_canonical_case_files(tmp_path, data):
    text = SAMPLE.replace(SAMPLE.split("\n", 1)[0], f"id: {CASE_ID}")
    _check_case_bytes(tmp_path, _damaged(text, data).encode("utf-8"))


@_FUZZ
@given(raw=st.binary(max_size=2000))
def test_random_bytes_as_rules_yaml(tmp_path, raw):
    path = tmp_path / "rules.yaml"
    path.write_bytes(raw)
    started = time.monotonic()
    _data_read, problems = check_rules_file(path)
    assert all(p.path == "rules.yaml" for p in problems)
    assert time.monotonic() - started < SLOW


@_FUZZ
@given(data=st.data())
def test_damaged_rules_yaml(data):
    started = time.monotonic()
    _rules, _parsed, problems = check_rules(_damaged(RULES, data), "rules.yaml")
    assert all(p.path == "rules.yaml" for p in problems)
    assert time.monotonic() - started < SLOW


@_FUZZ
@given(value=_data, share=st.booleans())
def test_random_yaml_as_rules(value, share):
    document = {"sla": value, "routing": [value, value] if share else value}
    _rules, _parsed, problems = check_rules(yaml.dump(document), "rules.yaml")
    assert all(p.path == "rules.yaml" for p in problems)
