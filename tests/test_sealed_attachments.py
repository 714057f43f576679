"""Attachments in a sealing workspace: sealed under the case's key, checked without
keys, opened only with them, and erased with the case."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from privacy_helpers import NAME, SENTENCE, every_object, sealed_workspace

from cmtool.store.sealed_files import MAGIC

LETTER = f"Dear team, this is {NAME}. The charger {SENTENCE}.".encode()
FILE_NAME = "Letter from Zhang Wei.txt"


def _git(root, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def test_an_attachment_is_sealed_with_its_case_and_erased_with_it(cli, tmp_path):
    if shutil.which("git-lfs") is None:
        pytest.skip("git-lfs is not installed (.ci/run installs Debian's git-lfs)")
    keys = tmp_path / "keys.sqlite"
    root = sealed_workspace(cli, tmp_path, keys)
    _git(root, "lfs", "install", "--local")
    _git(root, "lfs", "track", "attachments/**")
    _git(root, "add", ".gitattributes")
    _git(root, "commit", "-qm", "attachments in Git LFS")
    env = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_NOW": "2025-11-20T09:00:00+08:00", "CMTOOL_ACTOR": "dana"}
    filed = cli("file", "--title", "Charger overheats", "--customer", NAME, cwd=root, env=env)
    assert filed.code == 0, filed.err
    case_id = filed.out.strip()
    letter = tmp_path / FILE_NAME
    letter.write_bytes(LETTER)
    assert cli("attach", case_id, str(letter), cwd=root, env=env).code == 0
    again = cli("attach", case_id, str(letter), cwd=root, env=env)  # the same file: stored once
    assert again.code == 0, again.err
    assert [p for p in _git(root, "show", "--name-only", "--format=", "HEAD").split() if "attach" in p] == []
    assert FILE_NAME not in _git(root, "log", "--format=%B")  # commits name no file

    event = json.loads(cli("show", case_id, "--json", cwd=root, env=env).out)["events"][-1]
    record = event["files"][0]
    assert record["name"] == FILE_NAME and record["size"] == len(LETTER)
    stored = record["stored_sha256"]
    assert record["sha256"] != stored
    pointer = _git(root, "cat-file", "-p", f"HEAD:attachments/{stored[:2]}/{stored}")
    assert f"oid sha256:{stored}" in pointer  # Git LFS keeps the sealed bytes
    sealed_bytes = (root / "attachments" / stored[:2] / stored).read_bytes()
    assert sealed_bytes.startswith(MAGIC) and SENTENCE.encode() not in sealed_bytes
    lfs_store = b"".join(p.read_bytes() for p in (root / ".git" / "lfs").rglob("*") if p.is_file())
    for secret in (SENTENCE.encode(), FILE_NAME.encode()):
        assert secret not in every_object(root) and secret not in lfs_store
    assert cli("audit", "verify", cwd=root, env=env).code == 0

    # Opened only by a role that reads every personal field, and recorded.
    out = tmp_path / "out"
    out.mkdir()
    refused = cli("attachments", case_id, "--save", str(out), "--actor", "alice", cwd=root, env=env)
    assert refused.code == 4 and not list(out.iterdir())
    saved = cli("attachments", case_id, "--save", str(out), "--json", cwd=root, env=env)
    assert saved.code == 0, saved.err
    paths = {item["path"] for item in json.loads(saved.out)}
    assert len(paths) == 1 and Path(paths.pop()).read_bytes() == LETTER
    opened = json.loads(cli("show", case_id, "--json", cwd=root, env=env).out)["events"][-1]
    assert opened["action"] == "privacy_export" and opened["purpose"] == "attachments"
    assert opened["attachments"] == [record["sha256"]]

    sar = tmp_path / "sar"
    sar.mkdir()
    done = cli("privacy", "export", "--case", case_id, "--out", str(sar), cwd=root, env=env)
    assert done.code == 0, done.err
    assert [p.read_bytes() for p in sar.rglob("*.txt")] == [LETTER]  # the subject's own letter

    # A clone without the key store: verification is complete, the file stays sealed.
    keyless = {**env, "CMTOOL_KEY_STORE": str(tmp_path / "elsewhere" / "keys.sqlite")}
    shown = json.loads(cli("show", case_id, "--json", cwd=root, env=keyless).out)
    assert shown["events"][-4]["files"][0]["name"] == "[sealed]"
    none = cli("attachments", case_id, "--save", str(out), cwd=root, env=keyless)
    assert none.code == 1 and "[sealed]" in none.out
    assert cli("audit", "verify", cwd=root, env=keyless).code == 0
    head = _git(root, "rev-parse", "HEAD")
    refused = cli("attach", case_id, str(letter), cwd=root, env=keyless)  # never stored in clear
    assert refused.code != 0 and _git(root, "rev-parse", "HEAD") == head
    assert _git(root, "status", "--porcelain") == ""
    # The auditor's bundle carries the file as stored: sealed, named by its stored hash.
    bundle = tmp_path / "bundle"
    assert cli("audit", "export", "--period", "2025-11", "-o", str(bundle), cwd=root, env=keyless).code == 0
    assert (bundle / "attachments" / stored).read_bytes() == sealed_bytes

    # Erasing the case erases its attachment: the stored bytes no longer open.
    erased = cli(
        "privacy", "erase", "--case", case_id, "--legal-basis", "GDPR art. 17(1)(a)", cwd=root, env=env
    )
    assert erased.code == 0, erased.err
    gone = cli("attachments", case_id, "--save", str(tmp_path), cwd=root, env=env)
    assert gone.code == 1 and "[sealed]" in gone.out
    assert cli("audit", "verify", cwd=root, env=env).code == 0
