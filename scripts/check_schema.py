#!/usr/bin/env python3
"""Checks schemas/workflow.schema.json against the workflows and fixtures of this repository.

    python3 scripts/check_schema.py

1. The schema itself must be a valid JSON Schema (draft 2020-12 metaschema), and every property it
   declares must carry a `description` (editors show them on hover).
2. Every `workflows/*.yaml` must be accepted by the schema.
3. Every YAML file under `Tests/StepwiseLanguageTests/Fixtures/invalid/` must declare in its header
   comment exactly one of `# schema: reject` or `# schema: accept` (`accept`: the problem is semantic,
   beyond a JSON Schema, e.g. a reference to a later step), and the schema's verdict must match. A
   fixture whose YAML does not load counts as rejected.

YAML is read the way the Stepwise loader reads it: YAML 1.2 core types (`on`, `yes`, `no`, `off`
stay strings; no timestamps; `010` is ten), mapping keys are strings, duplicate keys are errors, and
a document may not expand to more than 100,000 nodes nor nest more than 64 levels.

Prints one line per file and a final `N passed, N failed` line; exits 1 on any failure.
Requires: jsonschema (4.18 or later), PyYAML.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

try:
    import jsonschema
    import yaml
    from jsonschema.exceptions import ValidationError
except ImportError as missing:  # pragma: no cover - environment problem
    sys.exit(f"error: {missing.name} is not installed (pip install jsonschema PyYAML)")

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "schemas" / "workflow.schema.json"
WORKFLOWS_DIR = ROOT / "workflows"
FIXTURES_DIR = ROOT / "Tests" / "StepwiseLanguageTests" / "Fixtures" / "invalid"

MAX_NODES = 100_000
MAX_DEPTH = 64
VERDICT_LINE = re.compile(r"^#\s*schema:\s*(\S+)\s*$")


# --------------------------------------------------------------------------------------------
# YAML 1.2 core loading


class LoadError(Exception):
    """The file is not a loadable YAML document (for the schema check: rejected)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line else ""
        return f"{where}{self.message}"


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types instead of YAML 1.1's.

    `yes`, `no`, `on`, `off` (any case) stay strings, only true/True/TRUE/false/False/FALSE are
    booleans; there are no implicit timestamps; ints are decimal, 0o octal or 0x hex (`010` is 10).
    """


Yaml12Loader.yaml_implicit_resolvers = {}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: Yaml12Loader, node: yaml.ScalarNode) -> int:
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _construct_float(loader: Yaml12Loader, node: yaml.ScalarNode) -> float:
    value = loader.construct_scalar(node).lower()
    if value.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if value == ".nan":
        return float("nan")
    return float(value)


def _construct_mapping(loader: Yaml12Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[str, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain string, not a collection", key_node.start_mark)
        if key_node.value in seen:
            first = seen[key_node.value].start_mark
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key '{key_node.value}' (first at {first.line + 1}:{first.column + 1})",
                key_node.start_mark)
        seen[key_node.value] = key_node
    loader.flatten_mapping(node)
    mapping = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain string, not a collection", key_node.start_mark)
        mapping[key_node.value] = loader.construct_object(value_node, deep=deep)
    return mapping


def _construct_map_document(loader: Yaml12Loader, node: yaml.MappingNode):
    data: dict = {}
    yield data
    data.update(_construct_mapping(loader, node))


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
Yaml12Loader.add_constructor("tag:yaml.org,2002:map", _construct_map_document)


def _check_size(root: yaml.Node) -> None:
    """Rejects documents that expand (through aliases) to too many nodes or nest too deeply."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    active: set[int] = set()

    def children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.MappingNode):
            return [part for pair in node.value for part in pair]
        return []

    def visit(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key], depths[key]
        if key in active:
            raise LoadError("recursive alias: the document refers to itself",
                            node.start_mark.line + 1, node.start_mark.column + 1)
        active.add(key)
        size, depth = 1, 0
        for child in children(node):
            child_size, child_depth = visit(child)
            size += child_size
            depth = max(depth, child_depth)
            if size > MAX_NODES:
                raise LoadError(f"the document expands to more than {MAX_NODES:,} nodes")
        depth += 1
        if depth > MAX_DEPTH:
            raise LoadError(f"the document nests more than {MAX_DEPTH} levels",
                            node.start_mark.line + 1, node.start_mark.column + 1)
        active.discard(key)
        sizes[key], depths[key] = size, depth
        return size, depth

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    visit(root)


class Positions:
    """Source positions (1-based line:col) of the values and keys of a loaded document, by path."""

    def __init__(self, root: yaml.Node | None):
        self.values: dict[tuple, tuple[int, int]] = {}
        self.keys: dict[tuple, tuple[int, int]] = {}
        if root is not None:
            self._walk(root, ())

    @staticmethod
    def _mark(node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        if path in self.values:
            return
        self.values[path] = self._mark(node)
        if isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                self._walk(child, path + (index,))
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    self.keys.setdefault(path + (key_node.value,), self._mark(key_node))
                    self._walk(value_node, path + (key_node.value,))

    def of_value(self, path: tuple) -> tuple[int, int] | None:
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path)

    def of_key(self, path: tuple) -> tuple[int, int] | None:
        return self.keys.get(path) or self.of_value(path)


def load_yaml(text: str):
    """Loads one YAML document the way Stepwise does; returns (data, positions)."""
    loader = Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Positions(None)
        _check_size(node)
        return loader.construct_document(node), Positions(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or str(error)
        if mark is not None:
            raise LoadError(problem, mark.line + 1, mark.column + 1) from None
        raise LoadError(problem) from None
    except yaml.YAMLError as error:
        raise LoadError(str(error)) from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------------
# Schema checks


def load_schema() -> dict:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


SUBSCHEMA_KEYWORDS = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "not",
                      "contains", "propertyNames", "if", "then", "else")
SUBSCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
SUBSCHEMA_MAP_KEYWORDS = ("$defs", "patternProperties", "dependentSchemas")


def undocumented_properties(schema, path: str = "#") -> list[str]:
    """Paths of the properties declared (under `properties`, anywhere) without a `description`."""
    found: list[str] = []
    if not isinstance(schema, dict):
        return found
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                if not (isinstance(sub, dict) and isinstance(sub.get("description"), str) and sub["description"]):
                    found.append(f"{path}/properties/{name}")
                found.extend(undocumented_properties(sub, f"{path}/properties/{name}"))
        elif key in SUBSCHEMA_KEYWORDS:
            found.extend(undocumented_properties(value, f"{path}/{key}"))
        elif key in SUBSCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for index, sub in enumerate(value):
                found.extend(undocumented_properties(sub, f"{path}/{key}/{index}"))
        elif key in SUBSCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for name, sub in value.items():
                found.extend(undocumented_properties(sub, f"{path}/{key}/{name}"))
    return found


def format_path(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def resolve_local(schema: dict, reference: str):
    """The subschema a local `#/...` JSON pointer reference names (None when absent)."""
    node = schema
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def explain(error: ValidationError, validator) -> tuple[str, tuple]:
    """A readable message for a schema error, and the path whose position to report."""
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "oneOf" and all(
            isinstance(branch, dict) and branch.get("required") for branch in error.validator_value):
        options = [branch["required"] for branch in error.validator_value]
        keys = [key for option in options for key in option]
        present = [key for key in dict.fromkeys(keys) if isinstance(error.instance, dict) and key in error.instance]
        choices = ", ".join(" + ".join(option) for option in options)
        if present and len(options) > 2:
            return f"exactly one of these keys is allowed, found {len(present)}: {', '.join(present)}", path
        if len(options) > 2:
            return f"needs exactly one of these keys: {choices}", path
        return f"must be exactly one of these forms: {' | '.join('{' + ', '.join(o) + '}' for o in options)}", path
    if error.validator == "pattern" and schema.get("patternErrorMessage"):
        return f"{error.instance!r}: {schema['patternErrorMessage']}", path
    if error.validator == "not":
        target = error.validator_value
        if isinstance(target, dict) and str(target.get("$ref", "")).startswith("#/"):
            target = resolve_local(validator.schema, target["$ref"])
        description = target.get("description") if isinstance(target, dict) else None
        if description:
            return f"not allowed here: {description}", path
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed]
        if extra:
            known = ", ".join(sorted(allowed)) if allowed else "none"
            return (f"unknown key '{extra[0]}'" + (f" (allowed: {known})" if len(allowed) <= 25 else "")), path + (extra[0],)
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return explain(best, validator)
    return error.message, path


def schema_errors(validator, data, positions: Positions) -> list[str]:
    """The schema's errors for a loaded document, as `LINE:COL: path: message`, in source order."""
    located = []
    for error in validator.iter_errors(data):
        message, path = explain(error, validator)
        is_key = error.validator == "additionalProperties"
        position = positions.of_key(path) if is_key else positions.of_value(path)
        where = f"{position[0]}:{position[1]}: " if position else ""
        located.append((position or (0, 0), f"{where}{format_path(path)}: {message}"))
    return [text for _, text in sorted(located)]


def verdict(validator, path: Path) -> tuple[bool, list[str]]:
    """(accepted, reasons) for one YAML file."""
    try:
        data, positions = load_yaml(path.read_text(encoding="utf-8"))
    except LoadError as error:
        return False, [f"does not load as YAML: {error}"]
    except UnicodeDecodeError as error:
        return False, [f"not UTF-8: {error}"]
    messages = schema_errors(validator, data, positions)
    return not messages, messages


def declared_verdict(path: Path) -> tuple[str | None, str | None]:
    """The `# schema: accept|reject` of a fixture's header comment, or (None, problem)."""
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        match = VERDICT_LINE.match(stripped)
        if match:
            found.append(match.group(1))
    if len(found) != 1:
        return None, f"the header comment needs exactly one '# schema: reject' or '# schema: accept' line, found {len(found)}"
    if found[0] not in ("accept", "reject"):
        return None, f"'# schema: {found[0]}': expected 'accept' or 'reject'"
    return found[0], None


def main() -> int:
    passed = failed = 0

    def report(ok: bool, name: str, text: str, details: list[str] = ()) -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {text}")
        for detail in details:
            print(f"       {detail}")

    relative = lambda p: p.relative_to(ROOT).as_posix()  # noqa: E731

    try:
        schema = load_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, json.JSONDecodeError) as error:
        report(False, relative(SCHEMA_PATH), f"cannot read the schema: {error}")
        print(f"{passed} passed, {failed} failed")
        return 1
    except jsonschema.exceptions.SchemaError as error:
        report(False, relative(SCHEMA_PATH), f"not a valid draft 2020-12 schema: {error.message} "
                                             f"(at {'/'.join(map(str, error.absolute_path))})")
        print(f"{passed} passed, {failed} failed")
        return 1
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        report(False, relative(SCHEMA_PATH), "$schema must be https://json-schema.org/draft/2020-12/schema")
    else:
        missing = undocumented_properties(schema)
        if missing:
            report(False, relative(SCHEMA_PATH), f"{len(missing)} properties lack a description", missing)
        else:
            report(True, relative(SCHEMA_PATH), "valid draft 2020-12 schema, every property described")

    validator = jsonschema.Draft202012Validator(schema)

    workflows = sorted(WORKFLOWS_DIR.glob("*.yaml")) + sorted(WORKFLOWS_DIR.glob("*.yml"))
    if not workflows:
        report(False, relative(WORKFLOWS_DIR), "no workflows found")
    for path in workflows:
        accepted, messages = verdict(validator, path)
        if accepted:
            report(True, relative(path), "accepted")
        else:
            report(False, relative(path), f"rejected: {messages[0]}", messages[1:])

    fixtures = sorted(FIXTURES_DIR.rglob("*.yaml")) + sorted(FIXTURES_DIR.rglob("*.yml")) if FIXTURES_DIR.is_dir() else []
    for path in fixtures:
        expected, problem = declared_verdict(path)
        if expected is None:
            report(False, relative(path), problem)
            continue
        accepted, messages = verdict(validator, path)
        actual = "accept" if accepted else "reject"
        if actual == expected:
            why = f" ({messages[0]})" if messages else ""
            report(True, relative(path), f"{'accepted' if accepted else 'rejected'} as declared{why}")
        elif accepted:
            report(False, relative(path), "declared '# schema: reject', but the schema accepts it")
        else:
            report(False, relative(path), f"declared '# schema: accept', but the schema rejects it: {messages[0]}",
                   messages[1:])

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
