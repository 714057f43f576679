"""Commands that change one case: file, assign, note, wait, resume, escalate, edit,
resolve, close, reopen."""

from typing import Annotated

import typer

from cmtool.cli import completion
from cmtool.cli.common import (
    ActorOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    print_case,
    tell_owner,
)
from cmtool.errors import UsageError


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [item.strip() for item in value.split(",") if item.strip()]


def register(app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    @app.command("file", rich_help_panel="Cases")
    def file_cmd(
        title: Annotated[str, typer.Option("--title", help="One-line summary.")],
        channel: Annotated[
            str,
            typer.Option(help="phone, email, web, app, social, regulator, letter, in_person, chat, other."),
        ] = "other",
        customer: Annotated[str | None, typer.Option(help="Customer name.")] = None,
        contact: Annotated[str | None, typer.Option(help="Phone or e-mail.")] = None,
        customer_tier: Annotated[str | None, typer.Option(help="e.g. standard, vip.")] = None,
        product: Annotated[str | None, typer.Option()] = None,
        region: Annotated[str | None, typer.Option()] = None,
        description: Annotated[str | None, typer.Option(help="What the customer said.")] = None,
        category: Annotated[
            str | None, typer.Option(help="Taxonomy key (default: chosen by rules.yaml from the text).")
        ] = None,
        priority: Annotated[
            str | None, typer.Option(help="low, normal, high, critical (default: by rules.yaml).")
        ] = None,
        regime: Annotated[
            str | None, typer.Option(help="Regulatory presets, comma-separated (e.g. fca_disp).")
        ] = None,
        tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
        filed_at: Annotated[
            str | None, typer.Option(help="When the complaint was received (default: --now).")
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """File a new complaint; prints its ID. When routing assigns it, the new owner
        is notified (rules.yaml notifications:)."""
        from cmtool.services.filing import file_complaint

        fields = {
            "title": title,
            "channel": channel,
            "customer": customer,
            "contact": contact,
            "customer_tier": customer_tier,
            "product": product,
            "region": region,
            "description": description,
            "category": category,
            "priority": priority,
            "regimes": _split(regime),
            "tags": _split(tags),
            "filed_at": filed_at,
        }
        ctx = context(workspace, actor, now)
        case = file_complaint(ctx, fields)
        print_case(ctx, case, as_json, case.id)
        tell_owner(ctx, case)

    @app.command(rich_help_panel="Cases")
    def assign(
        case_id: IdArg,
        to: Annotated[
            str | None, typer.Option("--to", help="New owner.", autocompletion=completion.people)
        ] = None,
        auto: Annotated[bool, typer.Option("--auto", help="Let rules.yaml routing choose.")] = False,
        reason: Annotated[str | None, typer.Option(help="Why (kept in the event).")] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Give a case an owner (or re-route it with --auto). The new owner is notified
        when rules.yaml has a notifications: section."""
        ctx = context(workspace, actor, now)
        if to and not auto:  # the common path skips loading rules.yaml
            from cmtool.services import lifecycle

            case = lifecycle.assign(ctx, case_id, to, reason)
        else:
            from cmtool.services.filing import assign_case

            case = assign_case(ctx, case_id, to, auto, reason)
        print_case(ctx, case, as_json, f"{case.id} assigned to {case.get('assignee')}")
        tell_owner(ctx, case)

    @app.command(rich_help_panel="Cases")
    def note(
        case_id: IdArg,
        text: Annotated[str, typer.Argument(help="What happened, e.g. 'Called the customer'.")],
        internal: Annotated[
            bool, typer.Option("--internal", help="An internal note: not a contact with the customer.")
        ] = False,
        holding_reply: Annotated[
            bool,
            typer.Option(
                "--holding-reply",
                help="This note is a holding reply (why the final response is delayed, and when it "
                "will come): stops a regime's holding-reply clock. Exit 4 once that clock fell due, "
                "unless --late.",
            ),
        ] = False,
        late: Annotated[
            bool,
            typer.Option(
                "--late", help="With --holding-reply: it is late; record it anyway (needs --reason)."
            ),
        ] = False,
        reason: Annotated[
            str | None, typer.Option(help="With --late: why the holding reply is late.")
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Record a contact with the customer (the first one stops the first-response clock)."""
        if holding_reply:
            if internal:
                raise UsageError("a holding reply goes to the customer: drop --internal")
            from cmtool.services.sla_actions import holding_reply as send_holding_reply

            ctx = context(workspace, actor, now)
            case = send_holding_reply(ctx, case_id, text, late, reason)
            late_note = " (late)" if case.events[-1].details.get("late") else ""
            print_case(
                ctx, case, as_json, f"{case.id} holding reply recorded{late_note} ({case.status.value})"
            )
            return
        if late or reason:
            raise UsageError("--late and --reason go with --holding-reply")
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.note(ctx, case_id, text, internal)
        print_case(ctx, case, as_json, f"{case.id} noted ({case.status.value})")

    @app.command(rich_help_panel="Cases")
    def wait(
        case_id: IdArg,
        reason: Annotated[str, typer.Option(help="What we wait for from the customer.")],
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Mark a case as waiting on the customer (SLA clocks may pause)."""
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.wait(ctx, case_id, reason)
        print_case(ctx, case, as_json, f"{case.id} waiting: {reason}")

    @app.command(rich_help_panel="Cases")
    def resume(
        case_id: IdArg,
        note_text: Annotated[str | None, typer.Option("--note", help="What came in.")] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """The customer answered: a waiting case is in progress again."""
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.resume(ctx, case_id, note_text)
        print_case(ctx, case, as_json, f"{case.id} in progress again")

    @app.command(rich_help_panel="Cases")
    def escalate(
        case_id: IdArg,
        to: Annotated[str, typer.Option("--to", help="Who takes it over.", autocompletion=completion.people)],
        reason: Annotated[str, typer.Option(help="Why it is escalated.")],
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Escalate a case to someone more senior (notified when rules.yaml has a
        notifications: section)."""
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.escalate(ctx, case_id, to, reason)
        print_case(ctx, case, as_json, f"{case.id} escalated to {to} (level {case.get('escalation_level')})")
        tell_owner(ctx, case)

    @app.command(rich_help_panel="Cases")
    def edit(
        case_id: IdArg,
        title: Annotated[str | None, typer.Option()] = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option()] = None,
        channel: Annotated[str | None, typer.Option()] = None,
        customer: Annotated[str | None, typer.Option()] = None,
        contact: Annotated[str | None, typer.Option()] = None,
        customer_tier: Annotated[str | None, typer.Option()] = None,
        product: Annotated[str | None, typer.Option()] = None,
        region: Annotated[str | None, typer.Option()] = None,
        team: Annotated[str | None, typer.Option()] = None,
        root_cause: Annotated[str | None, typer.Option()] = None,
        regime: Annotated[str | None, typer.Option(help="Comma-separated presets.")] = None,
        tags: Annotated[str | None, typer.Option(help="Comma-separated.")] = None,
        reason: Annotated[str | None, typer.Option(help="Why (kept in the event).")] = None,
        correct: Annotated[
            bool,
            typer.Option(
                "--correct", help="The old value was a mistake: record a correction (needs --reason)."
            ),
        ] = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Change descriptive fields; the event records old -> new."""
        from cmtool.services import lifecycle

        given = {
            "title": title,
            "priority": priority,
            "category": category,
            "channel": channel,
            "customer": customer,
            "contact": contact,
            "customer_tier": customer_tier,
            "product": product,
            "region": region,
            "team": team,
            "root_cause": root_cause,
            "regimes": _split(regime),
            "tags": _split(tags),
        }
        updates = {k: v for k, v in given.items() if v is not None}
        ctx = context(workspace, actor, now)
        case = lifecycle.edit(ctx, case_id, updates, reason, correct)
        print_case(ctx, case, as_json, f"{case.id} edited: {', '.join(updates)}")

    @app.command(rich_help_panel="Cases")
    def resolve(
        case_id: IdArg,
        resolution: Annotated[str, typer.Option(help="What was done for the customer.")],
        remedy: Annotated[
            str | None, typer.Option(help="e.g. refund, replacement, repair, apology, explanation.")
        ] = None,
        redress: Annotated[
            str | None,
            typer.Option(help="Money paid or credited: 800, or with its currency: '800 CNY'."),
        ] = None,
        currency: Annotated[
            str | None,
            typer.Option(
                help="ISO 4217 code of --redress (default: the case's regime's, else the workspace's)."
            ),
        ] = None,
        upheld: Annotated[
            bool | None, typer.Option("--upheld/--not-upheld", help="Was the complaint upheld?")
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Record the resolution given to the customer."""
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.resolve(ctx, case_id, resolution, remedy, redress, upheld, currency)
        print_case(ctx, case, as_json, f"{case.id} resolved")

    @app.command(rich_help_panel="Cases")
    def close(
        case_id: IdArg,
        note_text: Annotated[str | None, typer.Option("--note")] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Close a resolved case."""
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.close(ctx, case_id, note_text)
        print_case(ctx, case, as_json, f"{case.id} closed")

    @app.command(rich_help_panel="Cases")
    def reopen(
        case_id: IdArg,
        reason: Annotated[str, typer.Option(help="Why it is reopened.")],
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Reopen a resolved or closed case (back to in progress)."""
        from cmtool.services import lifecycle

        ctx = context(workspace, actor, now)
        case = lifecycle.reopen(ctx, case_id, reason)
        print_case(ctx, case, as_json, f"{case.id} reopened")
