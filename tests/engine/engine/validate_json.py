#!/usr/bin/env python3
"""Checks JSON documents against a JSON Schema (draft 2020-12), formats included (used by
envelope_schema_test.cpp).

Usage: validate_json.py SCHEMA FILE
FILE holds one JSON document per line (JSON Lines). For each line N (1-based) it prints either
  OK N
or one line per problem, sorted by place:
  INVALID N at "<json pointer>": <message>
where the pointer (RFC 6901, "" = the whole document) names the offending member; for a missing member it
names where the member should be (/meta/sequence), for a member the schema does not allow, that member
(/extra). A line that is not JSON prints
  ERROR N: <message>
Exit status: 0 when every line is valid, 1 when any is not, 2 when the tools are missing, the schema is not
a valid draft 2020-12 schema, or it uses a format this script cannot check (a format that is not checked
would pass anything silently).
"""
import datetime
import json
import re
import sys

try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError as e:  # pragma: no cover - reported to the C++ test
    print(f"MISSING python module: {e} (install python3-jsonschema >= 4)")
    sys.exit(2)

RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$")


def is_rfc3339_date_time(value):
    """RFC 3339 `date-time` (what JSON Schema's format means). Debian's jsonschema checks it only when
    rfc3339-validator is installed, so nurt brings its own check."""
    if not isinstance(value, str):
        return True
    m = RFC3339.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    if second > 60 or (m.group(9) and (int(m.group(10)) > 23 or int(m.group(11)) > 59)):
        return False
    return True


def format_checker():
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(is_rfc3339_date_time)
    return checker


def formats_used(schema):
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            yield schema["format"]
        for value in schema.values():
            yield from formats_used(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from formats_used(value)


def pointer(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def problems(error):
    """(pointer, message) pairs for one error; `required` and `additionalProperties` name the member."""
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        return [(pointer(path + [name]), f"required member {name!r} is missing")
                for name in error.validator_value if name not in error.instance]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = [k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)]
        if extra:
            return [(pointer(path + [k]), f"member {k!r} is not allowed here") for k in extra]
    return [(pointer(path), " ".join(error.message.split()))]


def main(argv):
    if len(argv) != 3:
        print("usage: validate_json.py SCHEMA FILE")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # noqa: BLE001 - any schema error fails the run
        print(f"BAD SCHEMA {argv[1]}: {' '.join(str(e).split()[:40])}")
        return 2
    checker = format_checker()
    unchecked = sorted(set(formats_used(schema)) - set(checker.checkers))
    if unchecked:
        print(f"BAD SCHEMA {argv[1]}: formats {unchecked} cannot be checked here")
        return 2
    validator = Draft202012Validator(schema, format_checker=checker)
    failed = False
    with open(argv[2], encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            try:
                document = json.loads(line)
            except ValueError as e:
                print(f"ERROR {number}: not JSON: {e}")
                failed = True
                continue
            found = set()
            for error in validator.iter_errors(document):
                found.update(problems(error))
            if not found:
                print(f"OK {number}")
                continue
            failed = True
            for where, message in sorted(found):
                print(f"INVALID {number} at {json.dumps(where, ensure_ascii=False)}: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
