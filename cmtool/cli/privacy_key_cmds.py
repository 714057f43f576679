"""`cmtool privacy keygen` and `cmtool privacy members add|remove|list|log` (docs/privacy.md)."""

from typing import Annotated

import typer

from cmtool.cli.common import ActorOpt, JsonOpt, NowOpt, WorkspaceOpt, context, echo, print_rows, warn

MEMBER_COLUMNS = ("name", "public_key", "added_at", "added_by", "you")
LOG_COLUMNS = ("seq", "at", "action", "name", "public_key", "by")


def register(privacy: typer.Typer) -> None:
    @privacy.command("keygen")
    def keygen() -> None:
        """Make your personal identity (an X25519 key pair, mode 0600) if you have none,
        and print its public key for a member to enrol you. The identity lives in
        $CMTOOL_IDENTITY, else $XDG_CONFIG_HOME/cmtool/identity, else
        ~/.config/cmtool/identity: keep it on your machine, never on the share."""
        from cmtool.services.privacy_keys import keygen as run

        public, path, made = run()
        warn(f"{'made' if made else 'your'} identity: {path}")
        echo(public)

    members = typer.Typer(
        help="Who can open the team's key store: each member's identity unwraps the key "
        "that seals every case key.",
        no_args_is_help=True,
    )
    privacy.add_typer(members, name="members")

    @members.command("list")
    def list_(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """The members of this workspace's key store (none: keys are kept unwrapped)."""
        from cmtool.services.privacy_keys import list_members
        from cmtool.store.workspace import find_workspace

        where, found = list_members(find_workspace(workspace))
        rows = [{**m.to_dict(), "you": "yes" if m.you else ""} for m in found]
        if as_json:
            print_rows([m.to_dict() for m in found], MEMBER_COLUMNS, True, False)
            return
        if not found:
            warn(f"key store {where} has no members: its keys are protected by file permissions alone")
        print_rows(rows, MEMBER_COLUMNS, False, False)

    @members.command("add")
    def add(
        name: Annotated[str, typer.Argument(help="The member's name, as the team knows them.")],
        public_key: Annotated[
            str, typer.Argument(help="Their public key, as `cmtool privacy keygen` printed it for them.")
        ],
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Enrol a member: wrap the team's key for their identity. You must be a member;
        the first member must be you (this seals every case key under the team's key)."""
        from cmtool.services.privacy_keys import add_member

        done = add_member(context(workspace, actor, now), name, public_key)
        sealed = f"; {done.keys} case key(s) sealed under the team's key" if done.keys else ""
        echo(f"added {done.member}: {done.members} member(s){sealed}")

    @members.command("remove")
    def remove(
        name: Annotated[str, typer.Argument(help="The member to remove.")],
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Remove a member: a new team key, every case key re-sealed under it and wrapped
        for the members who stay, in one step. Their identity opens nothing from then on."""
        from cmtool.services.privacy_keys import remove_member

        done = remove_member(context(workspace, actor, now), name)
        echo(
            f"removed {done.member}: a new team key, {done.keys} case key(s) re-sealed, "
            f"{done.members} member(s) left"
        )

    @members.command("log")
    def log(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Every enrolment and removal in this workspace's key store, oldest first: who
        could open the team's personal data, since when, and who said so."""
        from cmtool.services.privacy_keys import member_log
        from cmtool.store.workspace import find_workspace

        _where, entries = member_log(find_workspace(workspace))
        print_rows([e.to_dict() for e in entries], LOG_COLUMNS, as_json, False)
