"""The index's JSON reader gives what the standard library gives, including for what
orjson refuses (NaN, integers beyond 64 bits) and the standard encoder writes."""

from __future__ import annotations

import json
import math

from cmtool.store import fastjson


def test_same_values_as_the_standard_library():
    value = {"a": [1, 2.5, None, True, "中文\u2028"], "b": {"c": -0.0, "d": 1e300}, "e": ""}
    text = json.dumps(value, ensure_ascii=False)
    assert fastjson.loads(text) == json.loads(text) == value


def test_what_orjson_refuses_is_read_as_json_reads_it():
    text = json.dumps({"n": float("nan"), "big": 2**70, "inf": float("-inf")})
    back = fastjson.loads(text)
    assert math.isnan(back["n"]) and back["big"] == 2**70 and back["inf"] == float("-inf")
