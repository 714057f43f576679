"""`privacy migrate`: a workspace that wrote personal data in clear gets sealed,
first its files, then (confirmed) its whole history."""

from __future__ import annotations

import json
import subprocess

from conftest import git
from privacy_helpers import every_object

NAME, PHONE, WORDS, NOTE = "Ma Lin", "+86 137 0000 1111", "The kettle leaks boiling water", "Spoke to Ma Lin"


def _plain_history(cli, ws, keys):
    env = {"CMTOOL_ACTOR": "dana", "CMTOOL_NOW": "2025-11-03T09:00:00+08:00"}
    case_id = cli(
        "file",
        "--title",
        "Broken kettle",
        "--customer",
        NAME,
        "--contact",
        PHONE,
        "--description",
        WORDS,
        cwd=ws,
        env=env,
    ).out.strip()
    assert cli("note", case_id, f"{NOTE} about the kettle", cwd=ws, env=env).code == 0
    assert cli("audit", "seal", cwd=ws, env=env).code == 0
    rules = (ws / "rules.yaml").read_text()
    (ws / "rules.yaml").write_text(
        rules.replace("\n  key_store: null\n", "\n  key_store: ${CMTOOL_KEY_STORE}\n")
    )
    git(ws, "commit", "-qam", "rules: personal data sealed from now on")
    return case_id, {**env, "CMTOOL_KEY_STORE": str(keys)}


def test_migrate_seals_files_then_history_on_confirmation(cli, ws, tmp_path):
    keys = tmp_path / "keys.sqlite"
    case_id, env = _plain_history(cli, ws, keys)
    refused = cli("privacy", "erase", "--case", case_id, "--legal-basis", "GDPR art. 17", cwd=ws, env=env)
    assert refused.code == 4 and "privacy migrate" in refused.err

    done = cli("privacy", "migrate", cwd=ws, env=env)
    assert done.code == 0, done.err
    assert "sealed 1 case file(s)" in done.out and "--rewrite-history --confirm" in done.out
    text = next(ws.glob("cases/*/*/*.yaml")).read_text()
    assert NAME not in text and WORDS not in text and NOTE not in text
    assert cli("audit", "verify", cwd=ws, env=env).code == 0
    assert json.loads(cli("show", case_id, "--json", cwd=ws, env=env).out)["customer"] == NAME
    assert NAME.encode() in every_object(ws)  # the past still holds it: the output said so

    head = git(ws, "rev-parse", "HEAD").strip()
    tree = git(ws, "rev-parse", "HEAD^{tree}")
    unconfirmed = cli("privacy", "migrate", "--rewrite-history", cwd=ws, env=env)
    assert unconfirmed.code == 2 and head[:12] in unconfirmed.err
    assert git(ws, "rev-parse", "HEAD").strip() == head
    rewritten = cli("privacy", "migrate", "--rewrite-history", "--confirm", head[:12], cwd=ws, env=env)
    assert rewritten.code == 0, rewritten.err
    assert f"old head {head}" in rewritten.out
    for secret in (NAME, PHONE, WORDS, NOTE):
        assert secret.encode() not in every_object(ws), secret
    new_head = git(ws, "rev-parse", "HEAD").strip()
    assert new_head != head and git(ws, "rev-parse", "HEAD^{tree}") == tree  # HEAD's files: same bytes
    assert subprocess.run(["git", "cat-file", "-e", head], cwd=ws).returncode != 0  # old commits pruned
    assert git(ws, "tag", "--list") == "cmtool-seal-1\n"
    seal = git(ws, "tag", "-l", "--format=%(contents)", "cmtool-seal-1")
    assert f"old head {head}" in seal and "seal tags dropped: cmtool-seal-1" in seal
    assert git(ws, "status", "--porcelain") == ""
    assert cli("audit", "verify", cwd=ws, env=env).code == 0
    summaries = git(ws, "log", "--format=%s")
    assert f"note {case_id}\n" in summaries and "rules: personal data sealed from now on" in summaries
    shown = json.loads(cli("show", case_id, "--json", cwd=ws, env=env).out)
    assert shown["customer"] == NAME and [e["action"] for e in shown["events"]][0] == "file"
    # Now erasure reaches every commit.
    erased = cli("privacy", "erase", "--case", case_id, "--legal-basis", "GDPR art. 17", cwd=ws, env=env)
    assert erased.code == 0, erased.err
    assert cli("audit", "verify", cwd=ws, env=env).code == 0
    assert json.loads(cli("show", case_id, "--json", cwd=ws, env=env).out)["customer"] == "[sealed]"


def test_a_sealed_workspace_needs_no_migration(cli, tmp_path):
    keys = tmp_path / "keys.sqlite"
    root = tmp_path / "ws"
    assert cli("init", str(root), "--key-store", str(keys)).code == 0
    done = cli("privacy", "migrate", cwd=root)
    assert done.code == 0 and "sealed 0 case file(s)" in done.out
    assert (
        subprocess.run(["git", "log", "--oneline"], cwd=root, capture_output=True, text=True).stdout.count(
            "\n"
        )
        == 1
    )
