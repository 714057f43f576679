"""Every command shown in README.md and docs/*.md runs as written.

Which lines are commands
  Fenced blocks marked ``sh``, ``shell``, ``bash`` or ``console``, or not marked.
  In a ``console`` block (a transcript), every line starting with ``$ `` is run
  (``sed`` and ``git`` included) and the lines under it are its output. In the
  other blocks, lines starting with ``cmtool `` are run, and the shell lines that
  carry a session along (``cd DIR``, ``export X=...``, ``X=$(cmtool ...)``);
  everything else (git, pip, crontab, comments) is context and is not run. A
  trailing ``\\`` continues a line.
  A line with a placeholder (``ID``, ``FILE``, ``DIR``, ``[--opt]``, ``...``) is
  a synopsis, not a command, and is not run either.

Where they run
  Each page's commands run in order in one bash session, as ``dana`` (a lead of
  the sample team: ``CMTOOL_ACTOR``) at the sample's clock (``CMTOOL_NOW``), in a
  copy of the demo workspace (``cmtool demo``): later commands see what earlier
  ones did. A page whose first command is ``cmtool demo DIR`` or ``cmtool init
  DIR`` starts in an empty folder instead. Each copy has bare remotes ``origin``
  and ``backup``, so ``cmtool sync`` works.

What is checked
  The exit code is 0, unless the line's comment says ``exit N`` (``cmtool sla
  check   # exit 1 while a clock is breached``) or a console block shows it with
  ``$ echo $?``. Where a console block shows output: the command printed
  something, a shown ``error:`` is an error, and every case ID shown is in the
  real output (so IDs in the docs are real IDs of the bundled sample).

What a page may need
  - A file the commands read: add a maker to ``FILES`` below (copied into the
    starting folder, and into each folder a ``cd`` enters, unless one is there).
  - A block that cannot run here (another machine, a mail server): put
    ``<!-- docs-test: skip (why) -->`` on the line before its fence. Blocks
    marked ``<!-- recipe: NAME -->`` are run by tests/test_recipes.py instead.
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN_LANGS = {"", "sh", "shell", "bash", "console"}
# A block the test skips: marked to skip, or a recipe that tests/test_recipes.py runs
# (with a shared remote and the real clock).
SKIP_MARK = re.compile(r"<!--\s*(docs-test:\s*skip\b|recipe:)")
SESSION = re.compile(r"^(cd\s|export\s|[A-Za-z_][A-Za-z0-9_]*=\$\(cmtool\s)")
PLACEHOLDER = re.compile(
    r"(?<![\w$-])(ID|IDS|FILE|FILES|DIR|REV|NAME|PATH|TEXT|N|P|DATE)(?![\w=-])|\[-|\.\.\.|…"
)
CASE_ID = re.compile(r"\bC-\d{6}-[0-9A-Z]{7}\b")
EXIT = re.compile(r"#.*\bexits? (\d+)")
SAMPLE_CASE = "C-251103-AH0Y4EG"


def _sheet_rows() -> list[list[str]]:
    return [
        ["Title", "Customer", "Channel", "Received", "Status"],
        ["Blender lid cracked", "Ana Lima", "email", "2025-11-03", "open"],
        ["扫地机器人不充电", "赵敏", "phone", "2025-11-04", "处理中"],
    ]


def _xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    for row in _sheet_rows():
        book.active.append(row)
    book.save(path)


def _csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)


def _mbox(path: Path) -> None:
    """A customer's new complaint and a reply naming a sample case (docs/channels.md)."""
    import mailbox
    from email.message import EmailMessage

    box = mailbox.mbox(path, create=True)
    for sender, subject, text, msg_id in (
        (
            "Ana Lima <ana@example.com>",
            "Blender lid cracked",
            "It cracked on first use.",
            "<docs-1@example.com>",
        ),
        (
            "赵敏 <zhao.min@example.cn>",
            f"Re: 信用卡被盗刷 [{SAMPLE_CASE}]",
            "谢谢，已收到退款。",
            "<docs-2@example.cn>",
        ),
    ):
        msg = EmailMessage()
        msg["From"], msg["Subject"], msg["Message-ID"] = sender, subject, msg_id
        msg.set_content(text)
        box.add(msg.as_bytes())
    box.flush()


# Files the documented commands read, made before each page runs: name -> maker.
FILES: dict[str, Callable[[Path], None]] = {
    "old-sheet.xlsx": _xlsx,
    "complaints.xlsx": _xlsx,
    "complaints.csv": lambda p: _csv(p, _sheet_rows()),
    "march.csv": lambda p: _csv(p, _sheet_rows()),
    "answers.csv": lambda p: _csv(p, [["case_id", "csat", "nps", "comment"], [SAMPLE_CASE, "4", "8", "ok"]]),
    "tickets.csv": lambda p: _csv(p, _sheet_rows()),
    "owners.yaml": lambda p: p.write_text("Zoe Quinn: bob\n", encoding="utf-8"),
    "complaints.mbox": _mbox,
    "photo.jpg": lambda p: p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"),
}


@dataclass
class Command:
    page: str
    line: int
    text: str
    expect: int = 0
    shown: list[str] = field(default_factory=list)  # output shown under it (console)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def commands_of(page: Path) -> list[Command]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Command] = []
    index = 0
    while index < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        lang = fence.group(1)
        skipped = index > 0 and SKIP_MARK.search(lines[index - 1])
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        if lang in RUN_LANGS and not skipped:
            found += _block(page.name, lines, index + 1, end, console=lang == "console")
        index = end + 1
    return found


def _block(name: str, lines: list[str], start: int, end: int, console: bool) -> list[Command]:
    out: list[Command] = []
    current: Command | None = None
    index = start
    while index < end:
        raw, number = lines[index], index + 1
        index += 1
        if console and not raw.startswith("$ "):
            if current is not None and raw.strip():
                current.shown.append(raw)
            continue
        text = raw[2:] if console else raw
        while text.endswith("\\") and index < end:
            text = text[:-1].rstrip() + " " + lines[index].strip()
            index += 1
        text = text.strip()
        if console and text == "echo $?" and out:
            out[-1].expect = int(lines[index].strip())
            index += 1
            current = None
            continue
        current = None
        if not (console or text.startswith("cmtool ") or SESSION.match(text)):
            continue
        if PLACEHOLDER.search(_code(text)):
            continue
        expect = EXIT.search(text)
        current = Command(name, number, text, int(expect.group(1)) if expect else 0)
        out.append(current)
    return out


@cache
def sample_ids() -> frozenset[str]:
    return frozenset(path.stem for path in (REPO / "cases").rglob("C-*.yaml"))


@cache
def _format_examples() -> frozenset[str]:
    """IDs cmtool itself prints as examples of the format (an error message shows them)."""
    return frozenset(
        i for path in (REPO / "cmtool").rglob("*.py") for i in CASE_ID.findall(path.read_text("utf-8"))
    )


def test_case_ids_in_the_docs_are_the_samples_or_filed_by_the_page():
    """A full case ID in a page is a real case of the bundled sample, or one the page
    files itself on the sample's "today" (2025-11-21; its random part differs per run)."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        strangers = {
            i
            for i in CASE_ID.findall(text)
            if i not in sample_ids() and not i.startswith("C-251121-") and i not in _format_examples()
        }
        assert not strangers, f"{page.name}: {sorted(strangers)} are not cases of the bundled sample"


def _code(text: str) -> str:
    """The command without its trailing comment (a ``#`` outside quotes)."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=False)
    lexer.commenters = "#"
    lexer.whitespace_split = True
    try:
        return " ".join(lexer)
    except ValueError:
        return text


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs-demo") / "demo"
    done = subprocess.run(["python", "-m", "cmtool", "demo", str(root)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return root


def _remotes(ws: Path) -> None:
    for name in ("origin", "backup"):
        bare = ws.parent / f"{name}.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        subprocess.run(["git", "remote", "add", name, str(bare)], cwd=ws, check=True)


def _run_page(commands: list[Command], start: Path) -> list[tuple[Command, int, str, str]]:
    results = start.parent / "results"
    results.mkdir()
    # The FILES go into the starting folder and into each folder a `cd` enters.
    files = f'cp -n "{start.parent / "files"}"/* . 2>/dev/null'
    script = ["set +e", files]
    for number, command in enumerate(commands):
        stem = results / str(number)
        script.append(f'{{ {command.text}\n}} >"{stem}.out" 2>"{stem}.err" </dev/null; echo $? >"{stem}.rc"')
        if command.text.startswith("cd ") or " && cd " in command.text:
            script.append(files)
    env = {
        **os.environ,
        "CMTOOL_ACTOR": "dana",
        "PATH": f"{Path(os.sys.executable).parent}:{os.environ['PATH']}",
    }
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=start, env=env, timeout=900)
    out = []
    for number, command in enumerate(commands):
        stem = results / str(number)
        rc = stem.with_suffix(".rc")
        code = int(rc.read_text() or 70) if rc.exists() else 70
        out.append((command, code, _read(stem.with_suffix(".out")), _read(stem.with_suffix(".err"))))
    return out


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_documented_command_runs_as_written(page, demo, tmp_path):
    commands = commands_of(page)
    if not commands:
        pytest.skip(f"{page.name} shows no command to run")
    first = commands[0].text
    if re.match(r"^cmtool (demo|init)\s+\S", first):
        start = tmp_path / "empty"
        start.mkdir()
    else:
        start = tmp_path / "complaints"
        shutil.copytree(demo, start, symlinks=True)
        _remotes(start)
    made = tmp_path / "files"
    made.mkdir()
    for name, make in FILES.items():
        make(made / name)
    failures = []
    for command, code, out, err in _run_page(commands, start):
        problem = _judge(command, code, out, err)
        if problem:
            failures.append(f"{command}\n    {problem}\n    stdout: {out[:300]!r}\n    stderr: {err[:300]!r}")
    assert not failures, "\n".join(failures)


def _judge(command: Command, code: int, out: str, err: str) -> str | None:
    if code != command.expect:
        return f"exit {code}, the docs say {command.expect}"
    shown = [line for line in command.shown if line.strip()]
    if not shown:
        return None
    printed = out + err
    if not printed.strip():
        return "printed nothing, the docs show output"
    if shown[0].startswith("error:") and not err.startswith("error:"):
        return "the docs show an error, the command gave none"
    # A case the page filed itself has a new random ID; the sample's IDs must be there.
    missing = sorted((set(CASE_ID.findall("\n".join(shown))) & sample_ids()) - set(CASE_ID.findall(printed)))
    if missing:
        return f"the docs show {', '.join(missing)}, the output does not"
    return None


def test_the_parser_reads_the_conventions(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\ncmtool list   # a table\ncmtool sla check   # exit 1 while breached\n"
        "git push\ncmtool history ID\ncmtool stats [--period P]\n"
        "cmtool file --title a \\\n  --channel phone\n```\n"
        "<!-- docs-test: skip (needs a mail server) -->\n```sh\ncmtool notify\n```\n"
        "```console\n$ cmtool close C-251121-DKKB5VJ\nerror: cannot close\n$ echo $?\n4\n"
        "$ ID=$(cmtool file --title x)\n$ sed -i s/a/b/ f.yaml\n```\n```yaml\ncmtool: no\n```\n",
        encoding="utf-8",
    )
    found = [(c.text, c.expect, c.shown) for c in commands_of(page)]
    assert found == [
        ("cmtool list   # a table", 0, []),
        ("cmtool sla check   # exit 1 while breached", 1, []),
        ("cmtool file --title a --channel phone", 0, []),
        ("cmtool close C-251121-DKKB5VJ", 4, ["error: cannot close"]),
        ("ID=$(cmtool file --title x)", 0, []),
        ("sed -i s/a/b/ f.yaml", 0, []),
    ]
