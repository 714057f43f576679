"""Canonical YAML: the fast emitter, ruamel and the fast reader agree byte for byte."""

from __future__ import annotations

import contextlib

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtool.store import fastyaml
from cmtool.store.yamlio import load, render, roundtrip_dump
from cmtool.store.yamlstyle import dump

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | text
    | st.sampled_from(
        [
            "new",
            "Li Wei",
            "充电器过热",
            "a: b",
            "yes",
            "null",
            "x #y",
            "line\nline",
            "ends\n",
            " lead",
            "2025-11-21T17:30:00+08:00",
            "=HYPERLINK(x)",
            "tab\there",
            "emoji 😀",
            "\x00",
            "\u2028",
        ]
    )
)
flat = st.lists(scalars, max_size=4)
pairs = st.tuples(scalars | flat, scalars | flat).map(list)
keys = st.sampled_from(["title", "status", "Date received", "投诉日期", "note", "x-y", "a b"])
events = st.lists(
    st.fixed_dictionaries(
        {"at": text, "actor": text, "action": text},
        optional={"changes": st.dictionaries(keys, pairs, min_size=1, max_size=3), "note": text},
    ),
    min_size=1,
    max_size=3,
)
documents = st.fixed_dictionaries(
    {"id": st.just("C-251121-QA54SPM"), "title": text, "tags": flat},
    optional={
        "extra": st.dictionaries(keys, scalars, max_size=3),
        "description": scalars,
        "source": st.dictionaries(keys, scalars, max_size=2),
        "events": events,
    },
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_emitter_ruamel_and_readers_agree(data):
    written = dump(data)
    assert written == roundtrip_dump(data)
    assert yaml.load(written, Loader=yaml.CSafeLoader) == data
    assert load(written, "x.yaml") == data
    with contextlib.suppress(fastyaml.NotCanonical):  # may decline (a '#'), never misread
        assert fastyaml.parse(written) == data


def test_fast_reader_declines_what_it_does_not_know():
    for doc in (
        "a: yes\n",
        "a: 1e5\n",
        "a: 'quoted'\n",
        "a: b # comment\n",
        "a:\n",
        "a: 0x1F\n",
        "a: |2\n    indented\n",
        "a: [1, 2]x\n",
    ):
        with contextlib.suppress(fastyaml.NotCanonical):
            assert fastyaml.parse(doc) == yaml.load(doc, Loader=yaml.CSafeLoader)


def test_comments_survive_a_rewrite():
    first = {"at": "2025-11-21T17:30:00+08:00", "actor": "a", "action": "file"}
    data = {"id": "C-251121-QA54SPM", "title": "Charger", "status": "new", "events": [first]}
    edited = dump(data).replace("status: new", "status: new  # called twice, see ticket 88")
    edited = "# imported from the 2024 sheet\n" + edited
    data["status"] = "assigned"
    data["events"] = [*data["events"], {"at": "2025-11-21T18:00:00+08:00", "actor": "b", "action": "assign"}]
    out = render(data, edited)
    assert "# imported from the 2024 sheet" in out
    assert "# called twice, see ticket 88" in out
    assert load(out, "x.yaml") == data


def test_chinese_is_written_as_text_not_escapes():
    out = dump({"title": "充电器过热", "events": []})
    assert "充电器过热" in out and "\\u" not in out
