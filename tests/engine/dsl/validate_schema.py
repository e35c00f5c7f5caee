#!/usr/bin/env python3
"""Checks workflow YAML files against schemas/nurt-machine.schema.json (used by schema_test.cpp).

Usage: validate_schema.py SCHEMA FILE...
Prints, per file, either
  OK <file>
or one line per problem the schema finds:
  INVALID <file> <line>:<col>-<line>:<col> <json pointer>: <message>
where the range (1-based, inclusive) is the YAML text the problem is about: for an unknown or badly named
key the key itself, for a missing key the key of the object that lacks it (or the object's first
character), otherwise the offending value together with its key. anyOf/oneOf failures are
reported through the branches that got past the type check (a transition written as a map is reported
with the map branch's errors, not "is not of type 'string'"), so each range is as narrow as possible.
or, when the file is not readable YAML,
  ERROR <file>: <message>
Exit status: 0 when every file was checked (whatever the verdicts), 2 when python3-yaml or
python3-jsonschema (with Draft202012Validator) is missing or the schema itself is not valid.

YAML is read the way nurt's loader and the editors read it (YAML 1.2 core schema), not PyYAML's default
YAML 1.1: `on`, `yes`, `no` stay text, `012` is 12, and mapping keys are kept exactly as written.
"""
import json
import re
import sys

try:
    import yaml
    from jsonschema import Draft202012Validator
except ImportError as e:  # pragma: no cover - reported to the C++ test
    print(f"MISSING python module: {e} (install python3-yaml and python3-jsonschema >= 4)")
    sys.exit(2)


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars and literal mapping keys."""


CoreLoader.yaml_implicit_resolvers = {}


def _resolver(tag, pattern, first):
    CoreLoader.add_implicit_resolver(tag, re.compile(pattern), list(first))


_resolver("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_resolver("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolver("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolver("tag:yaml.org,2002:float",
          r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+0123456789.")


def _int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _float(loader, node):
    return float(loader.construct_scalar(node))


def _bool(loader, node):
    return loader.construct_scalar(node) in ("true", "True", "TRUE")


def _mapping(loader, node, deep=False):
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
    result = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = key_node.value
        else:
            key = json.dumps(loader.construct_object(key_node, deep=True))
        result[key] = loader.construct_object(value_node, deep=deep)
    return result


CoreLoader.add_constructor("tag:yaml.org,2002:int", _int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _float)
CoreLoader.add_constructor("tag:yaml.org,2002:bool", _bool)
CoreLoader.construct_mapping = _mapping


def pointer(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def leaves(error):
    """The errors that say what is wrong, looking through anyOf/oneOf into the branches that matter."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        relevant = [b for b in branches.values()
                    if not all(e.validator == "type" and len(e.relative_path) == 0 for e in b)]
        if not relevant:
            yield error
            return
        for branch in relevant:
            for sub in branch:
                yield from leaves(sub)
        return
    yield error


def locate(root, path):
    """(key node or None, value node) at `path` in the composed YAML."""
    key, node = None, root
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                    found = (k, v)
            if found is None:
                return key, node
            key, node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            key, node = None, node.value[step]
        else:
            return key, node
    return key, node


def span(start, end):
    return f"{start.line + 1}:{start.column + 1}-{end.line + 1}:{max(end.column, 1)}"


def ranges(root, error):
    """Text ranges an error is about."""
    if root is None:
        return ["1:1-999999:999999"]
    key, node = locate(root, list(error.absolute_path))
    if isinstance(node, yaml.MappingNode) and isinstance(error.instance, dict):
        if error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            keys = [k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value not in known]
            if keys:
                return [span(k.start_mark, k.end_mark) for k in keys]
    if isinstance(node, yaml.MappingNode) and error.validator is None and error.relative_schema_path and \
            error.relative_schema_path[-1] == "properties":
        # A `false` subschema under `properties` (a key not allowed here): jsonschema 4.10 reports it at the
        # parent object with the property's value as instance, so find the property by its value.
        keys = [k for k, v in node.value
                if isinstance(k, yaml.ScalarNode) and CoreLoader("").construct_document(v) == error.instance]
        if keys:
            return [span(k.start_mark, k.end_mark) for k in keys]
    if isinstance(node, yaml.MappingNode) and error.validator == "pattern" and isinstance(error.instance, str):
        # propertyNames: the key itself
        keys = [k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value == error.instance]
        if keys:
            return [span(k.start_mark, k.end_mark) for k in keys]
    if error.validator == "required":
        # About the object as a whole: its key (or, without one, where the object starts), not all its text.
        if key is not None:
            return [span(key.start_mark, key.end_mark)]
        at = node.start_mark
        return [f"{at.line + 1}:{at.column + 1}-{at.line + 1}:{at.column + 1}"]
    start = key.start_mark if key is not None else node.start_mark
    return [span(start, node.end_mark)]


def main(argv):
    if len(argv) < 2:
        print("usage: validate_schema.py SCHEMA FILE...")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # noqa: BLE001 - any schema error fails the run
        print(f"BAD SCHEMA {argv[1]}: {e}")
        return 2
    validator = Draft202012Validator(schema)
    for path in argv[2:]:
        try:
            with open(path, encoding="utf-8") as f:
                root = yaml.compose(f, Loader=CoreLoader)
            document = CoreLoader("").construct_document(root) if root is not None else None
        except (OSError, yaml.YAMLError) as e:
            print(f"ERROR {path}: {' '.join(str(e).split())}")
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        if not errors:
            print(f"OK {path}")
            continue
        for error in errors:
            for leaf in leaves(error):
                for where in ranges(root, leaf):
                    print(f"INVALID {path} {where} {pointer(leaf.absolute_path)}: {' '.join(leaf.message.split())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
