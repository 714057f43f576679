"""Benchmark cmtool against raw git on workspaces of 1k, 10k and 100k cases.

    python benchmarks/bench.py                       # 1k and 10k, 5 runs each
    python benchmarks/bench.py --sizes 1000,10000,100000 --runs 5
    python benchmarks/bench.py --sizes 1000 --runs 1 --smoke   # CI: no timings judged
    python benchmarks/bench.py --sizes 10000 --sealed          # each size plain, then sealed

Workspaces are built once by ``benchmarks/generate.py`` under ``--dir`` and
reused (``--fresh`` rebuilds). Each row runs the real ``cmtool`` command in a
subprocess and reports the median, min and max wall time and the peak memory
of the process (its max RSS, from ``wait4``). The reference rows time raw git
on the same repository, so ratios can be read off within one run: absolute
seconds on a shared 2-core machine move with the neighbours' load.

A row is one line in ``ROWS``: label, command template, and optionally a
setup step (not timed) and the exit codes that count as success. Templates
may use {open_id}, {resolved_id}, {any_id}, {note_id} (a different case on every run),
{month} (the last month of the data), {sheet} (a CSV of --sheet-rows rows) and {tmp}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

NOW = "2025-11-21T10:00:00+08:00"  # just after the generated data ends
# Actions are taken as a person of the bundled rules.yaml (a manager may do every
# action), and assignments go to a colleague the bench adds: with people: set,
# cmtool refuses unknown actors and assignees, as it would for a team.
ACTOR = "omar"
ASSIGNEE = "bench.agent"


@dataclass
class Row:
    label: str
    command: list[str]
    setup: Callable[[Path, dict], None] | None = None
    ok: tuple[int, ...] = (0,)
    target: str = ""
    git: bool = False  # a raw-git reference row, run through the shell
    versus: str = ""  # the label of a raw-git row: run in turns with it, ratio printed
    stdin: str = ""  # a file (template) fed to the command's standard input


LS_TREE = "git ls-tree -r HEAD cases/"
GIT_COMMIT = "git add FILE && git commit"


def drop_index(ws: Path, _: dict) -> None:
    shutil.rmtree(ws / ".git" / "cmtool", ignore_errors=True)


def fresh_import_target(ws: Path, values: dict) -> None:
    target = Path(values["tmp"]) / "import-ws"
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([CMTOOL, "init", str(target)], check=True, capture_output=True)


def thousand_ids(ws: Path, values: dict) -> None:
    """1,000 closed cases' IDs, one per line, for a bulk edit read from standard input."""
    env = dict(os.environ, CMTOOL_NOW=NOW, CMTOOL_ACTOR=ACTOR)
    ids = _ids(ws, env, "--status", "closed", "--limit", "1000")
    Path(values["tmp"], "bulk-ids.txt").write_text("".join(f"{i}\n" for i in ids))


def shared_remote(ws: Path, values: dict) -> None:
    """A bare remote beside the workspace (so the first sync pushes everything)."""
    remote = Path(values["tmp"]) / "remote.git"
    if not remote.exists():
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "remote", "remove", "origin"], cwd=ws, capture_output=True)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=ws, check=True)


def fresh_mbox(ws: Path, values: dict) -> None:
    """100 new complaints (fresh Message-IDs each run) in an mbox, for ``intake mail``."""
    import mailbox
    from email.message import EmailMessage

    path = Path(values["tmp"]) / "inbox.mbox"
    path.unlink(missing_ok=True)
    box = mailbox.mbox(path, create=True)
    stamp = time.time_ns()
    for number in range(100):
        msg = EmailMessage()
        msg["From"] = f"Customer {number} <c{number}@example.com>"
        msg["Subject"] = f"Bench: charger overheats ({number})"
        msg["Message-ID"] = f"<bench-{stamp}-{number}@example.com>"
        msg.set_content("The charger got too hot to touch.")
        box.add(msg.as_bytes())
    box.flush()


def touch_note(ws: Path, _: dict) -> None:
    (ws / "bench-note.txt").write_text(f"{time.time()}\n")


ROWS: list[Row] = [
    Row("cmtool --help", ["--help"], target="<= 0.2 s"),
    Row(
        "file",
        ["file", "--title", "Bench: charger overheats", "--channel", "phone"],
        target="<= 0.25 s",
        versus=GIT_COMMIT,
    ),
    Row("assign", ["assign", "{open_id}", "--to", ASSIGNEE], target="<= 0.25 s", versus=GIT_COMMIT),
    Row("close", ["close", "{resolved_id}"], target="<= 0.25 s", versus=GIT_COMMIT),
    Row(
        "note",
        ["note", "{note_id}", "Called the customer back"],
        target="<= 0.1 s at 1,000 cases",
        versus=GIT_COMMIT,
    ),
    Row("list --status open --json", ["list", "--status", "open", "--json"], target="<= 1 s"),
    Row("sla check (cold index)", ["sla", "check", "--json"], setup=drop_index, ok=(0, 1), target="<= 60 s"),
    Row("sla check (warm index)", ["sla", "check", "--json"], ok=(0, 1), target="<= 1.5 s", versus=LS_TREE),
    Row("sla check --apply (sweep)", ["sla", "check", "--apply", "--json"], ok=(0, 1)),
    Row("sla check --jsonl --changed (cron log)", ["sla", "check", "--jsonl", "--changed"], ok=(0, 1)),
    Row("list --overdue --json", ["list", "--overdue", "--json"]),
    Row("list --due-within 4h --json", ["list", "--due-within", "4h", "--json"]),
    Row("show (with clocks)", ["show", "{any_id}", "--json"]),
    Row("assign --auto", ["assign", "{open_id}", "--auto"], ok=(0, 2)),
    Row("stats --period month", ["stats", "--period", "{month}", "--json"], target="<= 2 s"),
    Row("report compliance md", ["report", "compliance", "--period", "{month}", "-o", "{tmp}/r.md"]),
    Row(
        "report compliance xlsx",
        ["report", "compliance", "--period", "{month}", "--format", "xlsx", "-o", "{tmp}/r.xlsx"],
        target="<= 10 s, <= 500 MB",
    ),
    Row(
        "report dashboard html",
        ["report", "dashboard", "--period", "{month}", "--format", "html", "-o", "{tmp}/d.html"],
        target="<= 10 s, <= 500 MB",
    ),
    Row("stats --by category", ["stats", "--period", "{month}", "--by", "category", "--json"]),
    Row("report fca md (half-year)", ["report", "fca", "--period", "{month}", "-o", "{tmp}/f.md"]),
    Row("report cfpb csv", ["report", "cfpb", "--period", "{month}", "-f", "csv", "-o", "{tmp}/c.csv"]),
    Row("report cn md", ["report", "cn", "--period", "{month}", "-o", "{tmp}/cn.md"]),
    Row(
        "report compliance --as-of HEAD~100",
        ["report", "compliance", "--period", "{month}", "--as-of", "HEAD~100", "-o", "{tmp}/a.md"],
    ),
    Row("survey due --json", ["survey", "due", "--json"]),
    Row("export xlsx (open cases)", ["export", "--format", "xlsx", "--status", "open", "-o", "{tmp}/e.xlsx"]),
    Row(
        "import sheet (fresh ws)",
        ["import", "{sheet}", "-w", "{tmp}/import-ws"],
        setup=fresh_import_target,
        target="<= 120 s at --sheet-rows 100000",
    ),
    Row("import sheet again (all present)", ["import", "{sheet}", "-w", "{tmp}/import-ws"]),
    Row(
        "intake mail (100 new messages)",
        ["intake", "mail", "--mbox", "{tmp}/inbox.mbox"],
        setup=fresh_mbox,
        target="<= 10 s",
    ),
    Row("intake mail again (all taken)", ["intake", "mail", "--mbox", "{tmp}/inbox.mbox"], target="<= 3 s"),
    Row("import --dry-run (sheet)", ["import", "{sheet}", "--dry-run", "--json"]),
    Row("export csv (all cases)", ["export", "--format", "csv", "-o", "{tmp}/e.csv"]),
    Row(
        "export csv --show-pii (all cases, each recorded)",
        ["export", "--format", "csv", "-o", "{tmp}/p.csv", "--show-pii"],
        target="one commit",
    ),
    Row("export parquet (all cases)", ["export", "--format", "parquet", "-o", "{tmp}/parquet"]),
    Row(
        "export parquet --since HEAD~10",
        ["export", "--format", "parquet", "-o", "{tmp}/parquet", "--since", "HEAD~10"],
    ),
    Row("history (one case)", ["history", "{any_id}", "--json"], target="<= 0.3 s"),
    Row("search (English)", ["search", "charger", "--json"], target="<= 0.5 s"),
    Row("search (Chinese)", ["search", "充电器", "--json"], target="<= 0.5 s"),
    Row("list --text --status open", ["list", "--text", "refund", "--status", "open", "--json"]),
    Row(
        "bulk tag --dry-run (open cases)",
        ["bulk", "tag", "--where", "status=open", "--add", "b", "--dry-run"],
        ok=(0, 1),
    ),
    Row(
        "bulk edit (1,000 ids on stdin)",
        ["bulk", "edit", "-", "--root-cause", "bench-{unique}", "--reason", "bench"],
        setup=thousand_ids,
        stdin="{tmp}/bulk-ids.txt",
        target="< 10 s, one commit",
    ),
    Row("audit verify --since HEAD~100", ["audit", "verify", "--since", "HEAD~100"], ok=(0, 1)),
    Row("audit verify (full history)", ["audit", "verify"], ok=(0, 1)),
    Row("list --as-of {month} end", ["list", "--as-of", "{month}-28", "--json"]),
    Row("show --as-of HEAD~100", ["show", "{any_id}", "--as-of", "HEAD~100", "--json"], ok=(0, 3)),
    Row("stats --as-of HEAD~100", ["stats", "--as-of", "HEAD~100", "--json"]),
    Row("sla check --as-of HEAD~100", ["sla", "check", "--as-of", "HEAD~100", "--json"], ok=(0, 1)),
    Row("doctor", ["doctor", "--json"], ok=(0, 1)),
    Row("sync (first push, then up to date)", ["sync", "--json"], setup=shared_remote),
    Row(LS_TREE, ["git ls-tree -r HEAD cases/ > /dev/null"], git=True),
    Row(
        GIT_COMMIT,
        ["git add bench-note.txt && git commit -qm bench"],
        git=True,
        setup=touch_note,
    ),
]


@dataclass
class Pools:
    ids: dict[str, list[str]] = field(default_factory=dict)

    def take(self, name: str) -> str:
        return self.ids[name].pop()


TIME = Path("/usr/bin/time")
# The console script next to this interpreter: a version manager's shim on PATH
# (pyenv, asdf) would add its own start-up to every figure.
_LOCAL = Path(sys.executable).parent / "cmtool"
CMTOOL = str(_LOCAL) if _LOCAL.exists() else (shutil.which("cmtool") or "cmtool")


def run_once(args: list[str], cwd: Path, shell: bool, stdin: str = "") -> tuple[float, int, float, float]:
    """(wall seconds, exit code, peak RSS in MB, CPU seconds) of one child process.

    CPU seconds (user + system, git's included) do not grow when other work
    shares the machine, as wall time does: compare them when it is busy.

    The peak comes from /usr/bin/time when present: a child forked straight from
    this process would report this process's size as its floor (Linux keeps the
    high-water mark across exec). Otherwise wait4's figure is used, an upper bound.
    """
    env = dict(os.environ, CMTOOL_NOW=NOW, CMTOOL_ACTOR=ACTOR, NO_COLOR="1")
    # Measure what users get: compiled bytecode cached after the first run (some
    # shells and CI runners set PYTHONDONTWRITEBYTECODE, which recompiles every module
    # on every start).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv = ["bash", "-c", args[0]] if shell else [CMTOOL, *args]
    with tempfile.NamedTemporaryFile("r") as rss:
        if TIME.exists():
            argv = [str(TIME), "-q", "-f", "%M", "-o", rss.name, *argv]
        with open(stdin or os.devnull, "rb") as feed:
            started = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=feed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
        measured = rss.read().strip().splitlines()
    peak_kb = int(measured[-1]) if measured and measured[-1].isdigit() else usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    return wall, os.waitstatus_to_exitcode(status), peak_kb / 1024, cpu


def _ids(ws: Path, env: dict, *args: str) -> list[str]:
    out = subprocess.run(
        [CMTOOL, "list", "--json", *args], cwd=ws, env=env, capture_output=True, text=True, check=True
    ).stdout
    return [row["id"] for row in json.loads(out)]


def case_pools(ws: Path, runs: int) -> Pools:
    """Case IDs to act on, a different one per run, prepared (untimed) up front. Small
    queries keep this process small: its size would count in its children's peak RSS."""
    env = dict(os.environ, CMTOOL_NOW=NOW, CMTOOL_ACTOR=ACTOR)
    # Refused (and harmless) when an earlier run added the colleague already.
    subprocess.run(
        [CMTOOL, "people", "add", f"{ASSIGNEE}:agent:quality"], cwd=ws, env=env, capture_output=True
    )
    open_ids = _ids(
        ws, env, "--status", "assigned,in_progress", "--sort", "-filed_at", "--limit", str(4 * runs + 4)
    )
    resolved = _ids(ws, env, "--status", "resolved", "--limit", str(runs + 1))
    sample = _ids(ws, env, "--limit", "2000")
    for case_id in open_ids[runs + 1 : 2 * runs + 2]:  # resolve a few if the data has too few
        if len(resolved) > runs:
            break
        subprocess.run(
            [CMTOOL, "resolve", case_id, "--resolution", "bench"],
            cwd=ws,
            env=env,
            capture_output=True,
            check=True,
        )
        resolved.append(case_id)
    return Pools(
        {
            "open_id": open_ids[: runs + 1],
            "resolved_id": resolved[: runs + 1],
            "any_id": sample[:: max(1, len(sample) // (runs + 1))],
            "note_id": open_ids[2 * runs + 2 :],  # notes leave the status as it is
        }
    )


def fill(template: list[str], pools: Pools, values: dict) -> list[str]:
    out = []
    values = {**values, "unique": f"{os.getpid()}-{time.monotonic_ns()}"}
    for part in template:
        for name in ("open_id", "resolved_id", "any_id", "note_id"):
            if "{" + name + "}" in part:
                part = part.replace("{" + name + "}", pools.take(name))
        out.append(part.format(**values))
    return out


def measure(
    ws: Path, rows: list[Row], runs: int, values: dict, available: set[str], emit: Callable[[dict], None]
) -> list[dict]:
    """Run every row ``runs`` times; ``emit`` prints each result as soon as it is known."""
    pools = case_pools(ws, runs * 2)
    references = {row.label: row for row in ROWS if row.git}
    results = []
    for row in rows:
        if not row.git and row.command[0] not in available and row.command[0] != "--help":
            result: dict = {"label": row.label, "skipped": "command not present"}
        else:
            walls, peaks, cpus, failures, ratios = [], [], [], [], []
            reference = references.get(row.versus)
            for _ in range(runs):
                # A row and its raw-git reference run in turns, so both see the same
                # load on a shared machine; their ratio is the figure to compare.
                if reference is not None:
                    if reference.setup:
                        reference.setup(ws, values)
                    base = run_once(fill(reference.command, pools, values), ws, True)[0]
                if row.setup:
                    row.setup(ws, values)
                feed = row.stdin.format(**values) if row.stdin else ""
                wall, code, peak, cpu = run_once(fill(row.command, pools, values), ws, row.git, feed)
                walls.append(wall)
                cpus.append(cpu)
                peaks.append(peak)
                if reference is not None:
                    ratios.append(wall / base if base else float("inf"))
                if code not in row.ok:
                    failures.append(code)
            result = {
                "label": row.label,
                "median_s": round(statistics.median(walls), 3),
                "min_s": round(min(walls), 3),
                "max_s": round(max(walls), 3),
                "peak_mb": round(max(peaks), 1),
                "cpu_s": round(statistics.median(cpus), 3),
                "target": row.target,
                "failed_exit_codes": failures,
                "ratio": round(statistics.median(ratios), 2) if ratios else None,
                "versus": row.versus,
            }
        emit(result)
        results.append(result)
    return results


def print_header(size: int, note: str = "") -> None:
    print(f"\n## {size:,} cases{', ' + note if note else ''}\n")
    print(f"| {'operation':<34} | median s | min s | max s | cpu s | peak MB | x raw git | target |")
    print(f"|{'-' * 36}|---------:|------:|------:|------:|--------:|----------:|--------|", flush=True)


def print_row(r: dict) -> None:
    if "skipped" in r:
        print(f"| {r['label']:<34} | {'skipped: ' + r['skipped']} |", flush=True)
        return
    flag = f" (exit {r['failed_exit_codes']})" if r["failed_exit_codes"] else ""
    # The median of the run-by-run ratios to the raw-git row named in ``versus``.
    ratio = f"{r['ratio']} x" if r.get("ratio") is not None else ""
    print(
        f"| {r['label']:<34} | {r['median_s']:>8} | {r['min_s']:>5} | {r['max_s']:>5} | {r['cpu_s']:>5} "
        f"| {r['peak_mb']:>7} | {ratio:>9} | {r['target']}{flag} |",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("bench-work"))
    parser.add_argument("--fresh", action="store_true", help="rebuild the workspaces")
    parser.add_argument(
        "--only", help="run only rows whose label contains one of these comma-separated texts"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI: exit 1 if any command fails; timings are printed, not judged",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--sealed",
        action="store_true",
        help="also measure each size with personal data sealed (what encryption costs)",
    )
    parser.add_argument("--sheet-rows", type=int, default=10000, help="rows of the import sheet")
    args = parser.parse_args()

    from generate import generate

    help_text = subprocess.run([CMTOOL, "--help"], capture_output=True, text=True).stdout
    available = {line.split()[0] for line in help_text.splitlines() if line.startswith("  ") and line.split()}
    wanted = [text for text in (args.only or "").split(",") if text]
    rows = [r for r in ROWS if not wanted or any(text in r.label for text in wanted)]
    report = {}
    with tempfile.TemporaryDirectory(prefix="cmtool-bench-") as tmp:
        sheet = Path(tmp) / "sheet.csv"
        subprocess.run(
            [sys.executable, str(HERE / "make_sheet.py"), str(args.sheet_rows), str(sheet)],
            check=True,
            capture_output=True,
        )
        variants = ("", "-sealed") if args.sealed else ("",)
        for size, variant in ((int(s), v) for s in args.sizes.split(",") for v in variants):
            ws = args.dir.resolve() / f"ws-{size}{variant}"
            if args.fresh or not (ws / ".git").exists():
                print(f"building {size:,} cases{variant} ...", file=sys.stderr)
                built = generate(ws, size, open_share=0.1 if size >= 100000 else 0.0, sealed=bool(variant))
                print(f"  {built}", file=sys.stderr)
            values = {"tmp": tmp, "sheet": str(sheet), "month": "2025-10"}
            print_header(size, "personal data sealed" if variant else "")
            report[f"{size}{variant}"] = measure(ws, rows, args.runs, values, available, print_row)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    failed = [r["label"] for rs in report.values() for r in rs if r.get("failed_exit_codes")]
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed and args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
