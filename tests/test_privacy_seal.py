"""Personal data sealed at the store boundary: what git holds, what readers see."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from privacy_helpers import NAME, NOTE, OTHER, PHONE, SENTENCE, every_object, file_story, sealed_workspace


def test_history_holds_no_personal_data_in_clear_and_readers_see_it(cli, tmp_path):
    keys = tmp_path / "share" / "keys.sqlite"
    keys.parent.mkdir()
    root = sealed_workspace(cli, tmp_path, keys)
    first, _second = file_story(cli, root, keys)
    blob = every_object(root)
    for secret in (NAME, PHONE, SENTENCE, NOTE, "zhang.wei@example.com", OTHER):
        assert secret.encode() not in blob, secret
    env = {"CMTOOL_KEY_STORE": str(keys)}
    shown = cli("show", first, "--json", cwd=root, env=env)
    assert shown.code == 0, shown.err
    case = json.loads(shown.out)
    assert case["customer"] == NAME and case["contact"] == "zhang.wei@example.com"
    assert SENTENCE in case["description"]
    assert NOTE in shown.out and "[sealed]" not in shown.out
    # Need to know: an agent reads the customer and the resolution it writes, not survey
    # comments or imported columns (rules.yaml; tests/test_need_to_know.py masks more).
    agent_view = json.loads(cli("show", first, "--json", "--actor", "alice", cwd=root, env=env).out)
    assert agent_view["customer"] == NAME and agent_view["resolution"] == case["resolution"]
    assert case["resolution"] == f"Replaced the charger for {NAME}."
    summaries = subprocess.run(["git", "log", "--format=%s"], cwd=root, capture_output=True, text=True).stdout
    assert f"note {first}\n" in summaries and f"file {first}\n" in summaries
    assert cli("validate", cwd=root, env=env).code == 0
    verified = cli("audit", "verify", cwd=root, env=env)
    assert verified.code == 0, verified.out + verified.err


def test_a_clone_without_keys_runs_everything_and_shows_sealed(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    clone = tmp_path / "auditor"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    for args in (
        ("list",),
        ("sla", "check"),
        ("report", "compliance", "--period", "2025-11"),
        ("audit", "verify"),
        ("validate",),
    ):
        done = cli(*args, cwd=clone)
        assert done.code in (0, 1), f"{args}: {done.err}"
        assert "Traceback" not in done.err and "internal error" not in done.err and NAME not in done.out, args
    assert cli("audit", "verify", cwd=clone).code == 0
    shown = json.loads(cli("show", first, "--json", cwd=clone).out)
    assert shown["customer"] == "[sealed]" and shown["description"] == "[sealed]"
    assert shown["status"] == "closed" and shown["closed_at"] == "2025-11-06T09:00:00+08:00"
    # Work that touches no personal field goes on without keys; the file stays sealed.
    assert cli("assign", second, "--to", "bob", "--actor", "dana", cwd=clone).code == 0
    assert cli("audit", "verify", cwd=clone).code == 0
    refused = cli("note", second, "Spoke to the customer", "--actor", "dana", cwd=clone)
    assert refused.code == 2 and "CMTOOL_KEY_STORE" in refused.err
    assert (
        "Spoke to the customer" not in (clone / "cases").joinpath("2025", "11", f"{second}.yaml").read_text()
    )
    # With the key store the same clone reads everything again.
    again = json.loads(cli("show", second, "--json", cwd=clone, env={"CMTOOL_KEY_STORE": str(keys)}).out)
    assert again["customer"] == OTHER and again["assignee"] == "bob"


def test_a_sealed_value_opens_only_in_its_own_case_and_field(cli, tmp_path):
    from cmtool.store.keystore import SqliteKeyStore
    from cmtool.store.sealing import Sealer

    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    first, second = file_story(cli, root, keys)
    text = next(root.glob(f"cases/*/*/{first}.yaml")).read_text()
    token = next(
        line.split(": ", 1)[1].strip('"') for line in text.splitlines() if line.startswith("customer:")
    )
    sealer = Sealer(SqliteKeyStore(keys), frozenset(), False)
    assert sealer.open_case({"id": first, "customer": token})["customer"] == NAME
    assert sealer.open_case({"id": first, "product": token})["product"] == "[sealed]"
    assert sealer.open_case({"id": second, "customer": token})["customer"] == "[sealed]"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert sealer.open_case({"id": first, "customer": tampered})["customer"] == "[sealed]"


def test_key_store_inside_the_workspace_is_refused(cli, tmp_path):
    root = tmp_path / "ws"
    done = cli("init", str(root), "--key-store", str(root / "keys.sqlite"))
    assert done.code == 2 and "inside the repository" in done.err


def test_a_workspace_without_key_store_stays_plain_and_summaries_carry_no_free_text(cli, ws):
    filed = cli("file", "--title", "Late parcel", "--customer", NAME, "--description", SENTENCE, cwd=ws)
    case_id = filed.out.strip()
    assert cli("note", case_id, NOTE, cwd=ws).code == 0
    assert cli("resolve", case_id, "--resolution", "Refunded the postage", cwd=ws).code == 0
    text = next(ws.glob(f"cases/*/*/{case_id}.yaml")).read_text()
    assert NAME in text and "sealed:" not in text
    log = subprocess.run(["git", "log", "--format=%B"], cwd=ws, capture_output=True, text=True).stdout
    for secret in (NOTE, "Refunded the postage", NAME, SENTENCE):
        assert secret not in log


def test_the_bundled_sample_reads_as_before(cli, tmp_path):
    root = tmp_path / "sample"
    assert cli("init", str(root), "--sample").code == 0
    shown = json.loads(cli("show", "C-250603-C81KW1C", "--json", cwd=root).out)
    assert shown["customer"] == "李伟"
    assert not list(Path(root).glob("cases/*/*/*.yaml"))[0].read_text().count("sealed:v1:")
