"""libyaml with limits: no aliases, bounded size, depth and node count, no crash on odd scalars.

Case files and rules.yaml arrive from other clones, so a file may be built to
hurt: a 2 KB "billion laughs" alias bomb expands to gigabytes in whatever walks
the data, a thousand nested brackets exhaust Python's recursion, a 5,000-digit
integer or a date like ``2025-13-45`` makes PyYAML's constructors raise
``ValueError``. cmtool never writes anchors or aliases, so any alias is refused;
everything else over a limit, or that cannot be constructed, becomes a
``yaml.YAMLError`` with the line it is on, which the caller turns into a data error.
A key twice in one mapping is refused too: YAML requires keys to be unique, and
libyaml would silently keep the last, so a reviewer reading the first
``status:`` of a diff would not see the value cmtool reads.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

from cmtool.store.safefile import MAX_BYTES

MAX_NODES = 1_000_000
MAX_DEPTH = 32  # a case file nests 6 deep (events > changes > [old, new] > tags)
MAX_INT_DIGITS = 30


class LimitError(yaml.YAMLError):
    """A document over a limit, using an alias or repeating a key; ``problem_mark`` says where."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


def _guarded(construct: Any) -> Any:
    def run(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError) as exc:
            shown = str(node.value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ConstructorError(None, None, f"cannot read {shown!r} ({exc})", node.start_mark) from None

    return run


def _construct_int(loader: yaml.BaseLoader, node: yaml.Node) -> int:
    if sum(ch.isdigit() for ch in str(node.value)) > MAX_INT_DIGITS:
        raise ConstructorError(
            None, None, f"a number with more than {MAX_INT_DIGITS} digits", node.start_mark
        )
    return yaml.SafeLoader.construct_yaml_int(loader, node)  # type: ignore[arg-type]


class Loader(yaml.CSafeLoader):
    """The safe C loader whose scalar constructors fail with a line, never a ValueError."""

    yaml_constructors = dict(yaml.CSafeLoader.yaml_constructors)


for _tag in (
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:binary",
):
    Loader.yaml_constructors[_tag] = _guarded(Loader.yaml_constructors[_tag])
Loader.yaml_constructors["tag:yaml.org,2002:int"] = _guarded(_construct_int)


def check_nodes(root: yaml.Node, lines: dict[str, int] | None) -> None:
    """Refuse aliases, deep nesting and too many nodes; fill ``lines`` (key path ->
    1-based line, e.g. ``events[2].at``) when given. Iterative: no recursion limit."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if id(node) in seen:
            raise LimitError("anchors and aliases (&name, *name) are not allowed", node.start_mark)
        seen.add(id(node))
        if len(seen) > MAX_NODES:
            raise LimitError(f"more than {MAX_NODES:,} values in one file", node.start_mark)
        if depth > MAX_DEPTH:
            raise LimitError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
        if lines is not None and path not in lines:
            lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in keys:
                        raise LimitError(f"the key {key_node.value!r} appears twice", key_node.start_mark)
                    keys.add(key_node.value)
                child = f"{path}.{key_node.value}" if path else str(key_node.value)
                if lines is not None:
                    lines[child] = key_node.start_mark.line + 1  # the key's line reads best
                stack.append((key_node, "", depth + 1))
                stack.append((value_node, child, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(node.value))


def load_checked(text: str, lines: dict[str, int] | None = None) -> Any:
    """The data of a YAML document within the limits; raises ``yaml.YAMLError``."""
    if len(text) > MAX_BYTES:
        raise LimitError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", None)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_nodes(node, lines)
        return loader.construct_document(node)
    finally:
        loader.dispose()
