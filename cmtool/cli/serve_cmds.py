"""`cmtool serve`: the web complaint form, the JSON API and the customer status page."""

import gc
from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import WorkspaceOpt, echo, warn


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Cases")
    def serve(
        host: Annotated[
            str, typer.Option(help="Address to listen on (keep 127.0.0.1 behind a proxy).")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port (0: any free one, printed).")] = 8080,
        workspace: WorkspaceOpt = None,
    ) -> None:
        """Serve the complaint form (English and Chinese, no JavaScript needed) at /, the JSON
        endpoint POST /api/complaints (bearer token from the variable intake.web.token_env names)
        and the customer status page at /status. Each submission is one case, filed as
        web-intake. Settings: intake.web in rules.yaml. Ctrl-C stops.

        Exit codes: 0 stopped, 2 bad settings or the port is taken."""
        from cmtool.errors import UsageError
        from cmtool.intake.web import serve as make_server
        from cmtool.rules.loader import load_rules
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        settings = load_rules(ws.rules_path).intake.web
        try:
            server = make_server(Path(ws.root), host, port, settings)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        if server.token is None:
            warn("the JSON API is off: set intake.web.token_env in rules.yaml and that variable")
        if host not in ("127.0.0.1", "::1", "localhost"):
            warn(f"listening on {host}: put a TLS reverse proxy in front (docs/channels.md)")
        bound_host, bound_port = server.server_address[:2]
        echo(f"serving http://{bound_host}:{bound_port}/ for {ws.root} (Ctrl-C stops)")
        gc.enable()  # off for short commands (cli/app.py); a server runs for days
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
