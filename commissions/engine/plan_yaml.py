"""Reading a plan written in YAML (or JSON, which is YAML) into a document for ``parse_plan``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from commissions.engine.errors import PlanIssue, PlanValidationError

if TYPE_CHECKING:
    import yaml

MAX_DOCUMENT_DEPTH = 64  # a plan is a few levels deep; thousands of levels would exhaust the stack
_NOT_A_MAPPING = PlanIssue(None, "document", "a plan is a mapping of fields (name, currency, ...)")
_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def load_plan_document(text: str) -> dict[str, Any]:
    """Read a plan written in YAML (or JSON, which is YAML) keeping decimals exact."""
    import yaml  # imported lazily: the engine itself needs no YAML

    try:
        document = yaml.load(text, Loader=_loader_class())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanValidationError([PlanIssue(None, where, f"not valid YAML: {problem}")]) from None
    if not isinstance(document, dict):
        raise PlanValidationError([_NOT_A_MAPPING])
    return document


def _loader_class() -> type[yaml.SafeLoader]:
    """A safe loader reading YAML 1.2 booleans (only true/false: YAML 1.1 would read the key
    `on:` as True), floats as exact decimals, and at most ``MAX_DOCUMENT_DEPTH`` nested
    collections (composing and constructing are recursive)."""
    import yaml

    class _Loader(yaml.SafeLoader):
        _depth = 0

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            self._depth += 1
            try:
                if self._depth > MAX_DOCUMENT_DEPTH:
                    raise yaml.composer.ComposerError(
                        None,
                        None,
                        f"nested more than {MAX_DOCUMENT_DEPTH} levels deep (a plan needs a few)",
                        self.peek_event().start_mark,  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
                    )
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    def decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
        raw = str(loader.construct_scalar(node)).replace("_", "")
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise yaml.constructor.ConstructorError(None, None, f"{raw!r} is not a number", node.start_mark) from None

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    _Loader.add_constructor("tag:yaml.org,2002:float", decimal_float)
    return _Loader


def issue_line(text: str, issue: PlanIssue) -> int | None:
    """The line of the plan's text an issue is about (1-based): the line of its field, or of the nearest
    enclosing field the document has (a required field that is missing: its component's line). None when
    the text is not YAML or the issue is about the whole document."""
    import yaml

    try:
        node = yaml.compose(text, Loader=_loader_class())
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    line: int | None = None
    if issue.component is not None:
        components = _value_of(node, "components")
        named = [
            item
            for item in (components.value if isinstance(components, yaml.SequenceNode) else [])
            if isinstance(item, yaml.MappingNode) and _scalar(_value_of(item, "name")) == issue.component
        ]
        if not named:
            return None
        node, line = named[0], named[0].start_mark.line + 1
    for key, index in _PATH_STEP.findall(issue.field):
        if index:
            if not isinstance(node, yaml.SequenceNode) or int(index) >= len(node.value):
                break
            node = node.value[int(index)]
            line = node.start_mark.line + 1
            continue
        found = next(
            ((k, v) for k, v in node.value if _scalar(k) == key) if isinstance(node, yaml.MappingNode) else iter(()),
            None,
        )
        if found is None:
            break
        line, node = found[0].start_mark.line + 1, found[1]
    return line


def _value_of(node: yaml.Node | None, key: str) -> yaml.Node | None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if _scalar(k) == key), None)


def _scalar(node: yaml.Node | None) -> str | None:
    import yaml

    return str(node.value) if isinstance(node, yaml.ScalarNode) else None
