"""A sealed workspace with one customer's story, and a search of every git object."""

from __future__ import annotations

import subprocess
from pathlib import Path

NAME = "Zhang Wei"
PHONE = "+86 139 1111 2222"
SENTENCE = "smelled of burning last night"
NOTE = "Called back, the courier collects the charger from Xuhui district"
OTHER = "Li Mei"
OTHER_PHONE = "+86 138 5555 6666"


def sealed_workspace(cli, tmp_path: Path, keys: Path) -> Path:
    """``init --key-store ${CMTOOL_KEY_STORE}``: every clone names its own key store.
    The sample's rules.yaml (its people and roles: need-to-know depends on them)."""
    root = tmp_path / "ws"
    rules = str(Path(__file__).resolve().parent.parent / "rules.yaml")
    done = cli(
        "init",
        str(root),
        "--rules",
        rules,
        "--key-store",
        "${CMTOOL_KEY_STORE}",
        env={"CMTOOL_KEY_STORE": str(keys)},
    )
    assert done.code == 0, done.err
    # The sample's rules.yaml already lists the team: alice, bob (agents), dana (lead), omar (manager).
    return root


def file_story(cli, root: Path, keys: Path) -> tuple[str, str]:
    """Two customers: Zhang Wei's case (noted, edited, resolved, closed) and Li Mei's."""
    env = {"CMTOOL_KEY_STORE": str(keys), "CMTOOL_ACTOR": "alice"}

    def run(*args: str, now: str) -> str:
        done = cli(*args, cwd=root, env={**env, "CMTOOL_NOW": now})
        assert done.code == 0, done.err
        return done.out.strip()

    first = run(
        "file",
        "--title",
        "Charger overheats",
        "--customer",
        NAME,
        "--contact",
        PHONE,
        "--channel",
        "phone",
        "--description",
        f"The X1 charger {SENTENCE}. The plug is deformed.",
        now="2025-11-03T09:00:00+08:00",
    )
    second = run(
        "file",
        "--title",
        "Parcel not arrived",
        "--customer",
        OTHER,
        "--contact",
        OTHER_PHONE,
        "--description",
        "Ordered two weeks ago, the parcel has not arrived.",
        now="2025-11-03T10:00:00+08:00",
    )
    run("note", first, NOTE, now="2025-11-03T11:00:00+08:00")
    run("edit", first, "--contact", "zhang.wei@example.com", now="2025-11-04T09:00:00+08:00")
    run(
        "resolve", first, "--resolution", f"Replaced the charger for {NAME}.", now="2025-11-05T09:00:00+08:00"
    )
    run("close", first, now="2025-11-06T09:00:00+08:00")
    return first, second


def every_object(root: Path) -> bytes:
    """The bytes of every object in the repository: blobs, trees, commits, tags."""
    return subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root, capture_output=True, check=True
    ).stdout
