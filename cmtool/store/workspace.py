"""A workspace: a git repository holding rules.yaml, templates/ and cases/."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cmtool.errors import DataError, NotFound, UsageError
from cmtool.model.ids import filing_month, is_valid_id
from cmtool.store.git import git

BUNDLED = Path(__file__).resolve().parent.parent / "bundled"
GIT_SETTINGS = {
    # Keeps the index write of each action small in a 100k-file repository.
    "core.splitIndex": "true",
    "core.untrackedCache": "true",
    "core.quotePath": "false",
    # The case-file merge driver (cmtool.services.merge); .gitattributes routes
    # cases/**/*.yaml to it, so plain `git pull` merges timelines too.
    "merge.cmtool.name": "cmtool case files: union of both timelines",
    "merge.cmtool.driver": "cmtool merge-driver %O %A %B %P",
}
MERGE_ATTRIBUTE = "cases/**/*.yaml merge=cmtool"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def rules_path(self) -> Path:
        return self.root / "rules.yaml"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    @property
    def git_dir(self) -> Path:
        return self.root / ".git"

    def case_relpath(self, case_id: str) -> str:
        if not is_valid_id(case_id):  # never a path from a forged id (../../x)
            raise DataError(f"{case_id!r} is not a case ID (IDs look like C-251123-K7XQ2MA)")
        year, month = filing_month(case_id)
        return f"cases/{year:04d}/{month:02d}/{case_id}.yaml"

    def case_path(self, case_id: str) -> Path:
        return self.root / self.case_relpath(case_id)


def find_workspace(explicit: Path | None = None) -> Workspace:
    """The workspace named by ``--workspace``/``CMTOOL_WORKSPACE``, or around the cwd."""
    named = explicit or (Path(os.environ["CMTOOL_WORKSPACE"]) if os.environ.get("CMTOOL_WORKSPACE") else None)
    if named is not None:
        root = named.expanduser().resolve()
        if not (root / ".git").exists() or not (root / "rules.yaml").exists():
            raise NotFound(
                f"{root} is not a cmtool workspace (needs .git and rules.yaml)",
                hint="create one with: cmtool init DIR",
            )
        return Workspace(root)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists() and (candidate / "rules.yaml").exists():
            return Workspace(candidate)
    raise NotFound(
        f"no cmtool workspace at or above {here}",
        hint="cd into one, pass --workspace DIR, or create one with: cmtool init DIR",
    )


def configure_git(root: Path) -> None:
    for key, value in GIT_SETTINGS.items():
        git(root, "config", key, value)


def init_workspace(target: Path, with_sample: bool = False) -> Workspace:
    """A new workspace: git repo, default rules and templates, optional sample cases."""
    root = target.expanduser().resolve()
    if (root / "rules.yaml").exists() or (root / "cases").exists():
        raise UsageError(f"{root} already holds a workspace", hint="pick an empty folder")
    root.mkdir(parents=True, exist_ok=True)
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    configure_git(root)
    shutil.copyfile(BUNDLED / "rules.yaml", root / "rules.yaml")
    shutil.copytree(BUNDLED / "templates", root / "templates", dirs_exist_ok=True)
    if with_sample:
        shutil.copytree(BUNDLED / "cases", root / "cases", dirs_exist_ok=True)
    else:
        (root / "cases").mkdir(exist_ok=True)
        (root / "cases" / ".gitkeep").write_text("")
    attributes = root / ".gitattributes"
    if not attributes.exists():
        attributes.write_text(f"# case files merge via cmtool (docs/team.md)\n{MERGE_ATTRIBUTE}\n")
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# cmtool's disposable index and outputs\n.cmtool/\n")
    return Workspace(root)
