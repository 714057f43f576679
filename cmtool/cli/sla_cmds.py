"""`cmtool sla check|extend|exclude`: SLA clocks for cron and for people."""

from typing import Annotated

import typer

from cmtool.cli.common import (
    ActorOpt,
    AsOfOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    echo,
    is_terminal,
    print_case,
    print_json,
    print_json_line,
    print_table,
    report_deliveries,
    warn,
)
from cmtool.errors import EXIT_FINDINGS, UsageError

CHECK_COLUMNS = ("case_id", "clock", "state", "due_at", "left", "assignee", "step", "notify")


def human_seconds(seconds: float | None, days: bool = True) -> str:
    """3d 4h, 2h 05m, 40m; negative = overdue (shown as "-2h 05m"). ``days=False``
    for working time, where a "day" of 24 hours would mislead."""
    if seconds is None:
        return ""
    sign, left = ("-" if seconds < 0 else ""), int(abs(seconds)) // 60
    whole_days, rest = divmod(left, 24 * 60) if days else (0, left)
    hours, minutes = divmod(rest, 60)
    if whole_days:
        return f"{sign}{whole_days}d {hours}h"
    return f"{sign}{hours}h {minutes:02d}m" if hours else f"{sign}{minutes}m"


def register(app: typer.Typer) -> None:
    sla = typer.Typer(help="SLA clocks: check (for cron), extend, exclude.", no_args_is_help=True)
    app.add_typer(sla, name="sla", rich_help_panel="SLA")

    @sla.command("check")
    def check(
        apply: Annotated[
            bool,
            typer.Option(
                "--apply",
                help="Commit the escalation steps that are due (one commit for the sweep).",
            ),
        ] = False,
        quiet: Annotated[
            bool,
            typer.Option("--quiet", "-q", help="Print nothing when nothing is in warning or breach."),
        ] = False,
        new_only: Annotated[
            bool,
            typer.Option("--new-only", help="Show and exit 1 only for breaches not escalated yet."),
        ] = False,
        lock_timeout: Annotated[
            float,
            typer.Option(
                help="With --apply: seconds (0 to 86400) to wait for the workspace lock (then exit 5)."
            ),
        ] = 10.0,
        as_jsonl: Annotated[
            bool,
            typer.Option(
                "--jsonl",
                help="JSON lines for a log: one object per clock in warning or breach, one per "
                "skipped case file, and a summary (time, counts, data commit, duration).",
            ),
        ] = False,
        changed: Annotated[
            bool,
            typer.Option(
                "--changed",
                help="Only clocks that entered a new state or rung since the previous --changed "
                "sweep (kept in .git/cmtool/, so cron mails only what is new).",
            ),
        ] = False,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run",
                help="With --apply: show the steps and notifications that are due; commit and send nothing.",
            ),
        ] = False,
        as_of: AsOfOpt = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Every clock of every open case as of --now. With --apply, the escalation steps
        due are committed and the people they name notified (rules.yaml notifications:);
        a notification that failed before is retried. Exit 0: nothing breached; 1: breaches
        (with --new-only: new ones; with --changed: changed ones) or skipped case files;
        2: usage or data error; 5: lock not obtained. A case file that cannot be read is
        reported and skipped; only a broken rules.yaml stops the sweep.
        With --as-of: the cases and rules of then, and --now defaults to that moment."""
        import time

        from cmtool.services.sla_sweep import sla_check, sla_check_as_of
        from cmtool.store.lock import checked_timeout

        started = time.monotonic()
        checked_timeout(lock_timeout)
        if dry_run and not apply:
            raise UsageError("--dry-run shows what --apply would do", hint="add --apply")
        if as_of:
            if apply or changed:
                raise UsageError(
                    f"{'--apply' if apply else '--changed'} cannot be combined with --as-of: "
                    "the past is read only",
                    hint="drop --as-of to sweep now",
                )
            from cmtool.services.context import resolve_now
            from cmtool.store.workspace import find_workspace

            at = resolve_now(now) if now else None  # None: the as-of moment
            result = sla_check_as_of(find_workspace(workspace), as_of, at)
        else:
            ctx = context(workspace, actor, now)
            result = sla_check(ctx, apply=apply, lock_timeout=lock_timeout, dry_run=dry_run)
        findings = [f for f in result.findings if f.new] if new_only else result.findings
        if changed:
            from cmtool.services.sla_log import changed_since_last_sweep

            news = {f.key for f in changed_since_last_sweep(ctx.ws, result, record=not dry_run)}
            findings = [f for f in findings if f.key in news]
        breaches = [f for f in findings if f.clock.state == "breached"]
        for case_id in result.skipped:
            warn(f"warning: {case_id} skipped: its file has uncommitted changes")
        if apply and result.commit:
            warn(f"applied {len(result.applied)} escalation steps in commit {result.commit[:12]}")
        if dry_run:
            for step in result.applied:
                warn(f"would apply {step.step.name} to {step.case_id} {step.clock}")
        if not as_jsonl:
            report_deliveries(result.deliveries)
        if as_jsonl:
            from cmtool.services.sla_log import skipped_file_record, summary_record

            at = result.now.isoformat() if result.now else None
            for finding in findings:
                print_json_line({**finding.to_dict(), "time": at})
            for problem in result.broken:
                print_json_line({**skipped_file_record(problem), "time": at})
            for delivery in result.deliveries:
                print_json_line(delivery.to_dict())
            print_json_line(summary_record(result, findings, time.monotonic() - started, changed))
        elif not (quiet and not findings and not result.broken):
            rows = [f.to_dict() for f in findings]
            if as_json or not is_terminal():
                from cmtool.services.sla_log import skipped_file_record

                print_json(rows + [skipped_file_record(problem) for problem in result.broken])
            else:
                for row in rows:
                    row["left"] = human_seconds(row["wall_seconds_left"])
                if rows:
                    print_table(rows, CHECK_COLUMNS)
                past = result.as_of
                echo(
                    f"{result.cases_checked} open cases, {result.clocks_checked} clocks: "
                    f"{len(breaches)} breached, "
                    f"{sum(f.clock.state == 'warning' for f in findings)} in warning"
                    + (
                        f" (as of {result.now.isoformat()}, commit {past.commit[:12]})"
                        if past and result.now
                        else ""
                    )
                )
        for problem in result.broken:
            warn(f"warning: skipped {problem}")
        if breaches or result.broken:
            raise typer.Exit(EXIT_FINDINGS)

    @sla.command("extend")
    def extend(
        case_id: IdArg,
        clock: Annotated[str, typer.Option(help="The clock, e.g. cn_banking.decision.")],
        reason: Annotated[str, typer.Option(help="Why (kept in the event).")],
        approved_by: Annotated[
            str | None, typer.Option(help="Who approved (needed for the last extension).")
        ] = None,
        late: Annotated[
            bool,
            typer.Option(
                "--late",
                help="The clock already fell due: record the extension anyway (the breach stays).",
            ),
        ] = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Extend a regime clock to its next allowed target (e.g. 15 -> 30 days). Only by
        the moment it falls due: later, exit 4 unless --late (the missed deadline stays a
        breach and the extended clock runs beside it)."""
        from cmtool.services.sla_actions import extend_clock, holding_replies_due

        ctx = context(workspace, actor, now)
        case = extend_clock(ctx, case_id, clock, reason, approved_by, late)
        event = case.events[-1]
        message = f"{case.id}: {clock} extended to {event.details['target']}"
        if event.details.get("late"):
            message += f" (late: it was due by {event.details['missed_due_at']}; that breach stays)"
        print_case(ctx, case, as_json, message)
        for due in holding_replies_due(ctx, case):
            warn(f"a holding reply is due by {due}: cmtool note {case.id} --holding-reply TEXT")

    @sla.command("exclude")
    def exclude(
        case_id: IdArg,
        start: Annotated[str, typer.Option("--from", help="Start, ISO 8601 with offset.")],
        end: Annotated[str, typer.Option("--to", help="End, ISO 8601 with offset.")],
        reason: Annotated[str, typer.Option(help="e.g. 'external appraisal'.")],
        clock: Annotated[
            str | None,
            typer.Option(help="Only this clock (default: every clock that allows exclusions)."),
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Exclude a period from a regime's clocks (appraisal, testing, evaluation)."""
        from cmtool.services.sla_actions import exclude_period

        ctx = context(workspace, actor, now)
        case = exclude_period(ctx, case_id, start, end, reason, clock)
        print_case(ctx, case, as_json, f"{case.id}: excluded {start} to {end}")


def render_clocks(clocks) -> list[str]:
    """One line per clock: name, state, deadline, time left (or over), paused time."""
    width = max(len(c.clock) for c in clocks)
    lines = []
    for c in clocks:
        if c.stopped_at:
            timing = f"stopped {c.stopped_at}"
        else:
            wall, work = c.wall_seconds_left or 0, c.business_seconds_left or 0
            timing = (
                f"{human_seconds(-wall)} overdue"
                if wall < 0
                else f"{human_seconds(wall)} left ({human_seconds(work, False)} working)"
            )
        paused = f", paused {human_seconds(c.paused_seconds)}" if c.paused_seconds else ""
        note = " (advisory)" if c.advisory else ""
        if c.extended_due_at:
            note += f" (extended after it fell due: see the extension clock, due {c.extended_due_at})"
        if c.extends:
            note += f" (late extension of {c.extends})"
        lines.append(
            f"  {c.clock:<{width}}  {c.state:<8}  due {c.due_at}  {timing}{paused}  "
            f"[{c.target} on {c.calendar}]{note}"
        )
    return lines
