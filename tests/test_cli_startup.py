"""Start-up: a command line imports and builds only the commands it names."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from cmtool.cli.app import COMMAND_MODULE, COMMAND_MODULES


def _names(module: str, hidden: bool = True) -> set[str]:
    app = typer.Typer()
    importlib.import_module(module).register(app)
    commands = {c.name or c.callback.__name__ for c in app.registered_commands if hidden or not c.hidden}
    return commands | {g.name or g.typer_instance.info.name for g in app.registered_groups}


def test_the_table_names_every_command_of_every_module():
    for module in COMMAND_MODULES:
        assert _names(module) == {name for name, owner in COMMAND_MODULE.items() if owner == module}
    assert set(COMMAND_MODULE.values()) == set(COMMAND_MODULES)


def _loaded_after(*args: str) -> tuple[str, set[str]]:
    probe = (
        "import contextlib, io, sys\n"
        "from cmtool.cli.app import run\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    run({list(args)!r})\n"
        "print(out.getvalue())\n"
        "names = ('cmtool.cli.', 'yaml', 'holidays')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(names))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    *out, modules = done.stdout.rstrip("\n").split("\n")
    return "\n".join(out), set(modules.split())


def test_a_command_imports_only_its_own_module():
    help_text, loaded = _loaded_after("note", "--help")
    assert "Usage: cmtool note" in help_text
    assert loaded & set(COMMAND_MODULES) == {"cmtool.cli.case_cmds"}
    assert not {m for m in loaded if m.startswith(("yaml", "holidays"))}


def test_help_and_unknown_commands_still_see_every_command():
    help_text, loaded = _loaded_after("--help")
    assert set(COMMAND_MODULES) <= loaded
    assert _loaded_after("--help", "file") == (help_text, loaded)
    for name in set().union(*(_names(module, hidden=False) for module in COMMAND_MODULES)):
        assert f"  {name} " in help_text or f"  {name}\n" in help_text, name
    done = subprocess.run([sys.executable, "-m", "cmtool", "fil"], capture_output=True, text=True)
    assert done.returncode == 2 and "No such command 'fil'" in done.stderr


def test_the_cyclic_collector_is_off_during_a_command_and_back_after():
    """A command runs without the cyclic GC (README, Speed); whoever called ``run``
    gets it back as it was, even when the command fails."""
    probe = (
        "import contextlib, gc\n"
        "from cmtool.cli import app\n"
        "seen = []\n"
        "def crash(argv):\n"
        "    seen.append(gc.isenabled())\n"
        "    raise RuntimeError('the command broke')\n"
        "app._run = crash\n"
        "with contextlib.suppress(RuntimeError):\n"
        "    app.run(['--version'])\n"
        "print(seen, gc.isenabled())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[False]", "True"]
