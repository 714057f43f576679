"""Layers import one way, down: cli -> services -> reports -> sla/rules/calendar -> store -> model."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cmtool"
# Lower number = lower layer. A module may import its own layer or any lower one.
LAYERS = {
    "errors": 0,
    "model": 1,
    "store": 2,
    "notify": 2,  # a way out, beside store/
    "calendar": 3,
    "rules": 3,
    "sla": 3,
    "importing": 3,
    "exporting": 4,
    "audit": 3,
    "reports": 4,
    "services": 5,
    "cli": 6,
    "intake": 6,  # ways in, beside cli/
}
PURE = {"model", "calendar", "rules", "sla"}  # no file, YAML or git access at all
READERS = {"cmtool/rules/loader.py"}  # reads rules.yaml through the store's YAML reader


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "cmtool" else ""


def imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def test_every_package_has_a_layer():
    names = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if not p.name.startswith("_") and p.name != "bundled" and (p.is_dir() or p.suffix == ".py")
    }
    assert names <= set(LAYERS), f"give these a layer: {sorted(names - set(LAYERS))}"


def test_imports_point_down():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        own = layer_of(module_name(path))
        if own not in LAYERS:
            continue
        for target, line in imports(path):
            other = layer_of(target)
            if other in LAYERS and LAYERS[other] > LAYERS[own]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({own}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_pure_layers_do_no_io():
    io_modules = {"subprocess", "git", "sqlite3", "yaml", "ruamel", "openpyxl", "shutil"}
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        if layer_of(module_name(path)) not in PURE:
            continue
        for target, line in imports(path):
            reader = str(path.relative_to(PACKAGE.parent)) in READERS
            if target.split(".")[0] in io_modules or (layer_of(target) == "store" and not reader):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)
