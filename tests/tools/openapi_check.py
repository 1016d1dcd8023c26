#!/usr/bin/python3
"""openapi_check.py: validates recorded HTTP responses against api/openapi.yaml.

usage: openapi_check.py OPENAPI_YAML RECORDS_JSONL
       openapi_check.py --body OPENAPI_YAML SCHEMA_NAME FILE...

The second form checks request bodies instead: for each FILE it prints "valid FILE" or
"invalid FILE: why", as the named schema of components/schemas judges the JSON in it.

Each line of RECORDS_JSONL is {"method", "path", "status", "content_type", "body_file"}: "method"
and "path" name the operation of the document (its path template), "body_file" holds the body.
A record passes when the operation documents its status, with the media type that came back, and
the body is valid against that media type's schema (JSON Schema 2020-12, as OpenAPI 3.1 says).
Every failure is printed; the exit status is 1 if there was one. Uses Debian's python3-jsonschema
and python3-yaml, not a re-implementation: the point is a validator that the document's authors
did not write.
"""
import json
import sys

import jsonschema
import yaml
from jsonschema import Draft202012Validator, RefResolver


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def check(doc, resolver, rec):
    op = doc["paths"].get(rec["path"], {}).get(rec["method"].lower())
    if op is None:
        return "the document has no operation %s %s" % (rec["method"], rec["path"])
    responses = op.get("responses", {})
    status = str(rec["status"])
    resp = responses.get(status) or responses.get(status[0] + "XX")
    if resp is None:
        return "status %s is not documented (documented: %s)" % (status, ", ".join(sorted(responses)))
    resp = resolve(doc, resp)
    content = resp.get("content", {})
    with open(rec["body_file"], "rb") as f:
        body = f.read()
    if not content:
        return None if body == b"" else "a body came with a response documented without one"
    media = (rec.get("content_type") or "").split(";")[0].strip().lower()
    if media not in content:
        return "media type %r is not documented for %s (documented: %s)" % (media, status, ", ".join(content))
    schema = content[media].get("schema")
    if schema is None:
        return None
    if media != "application/json":
        return None if schema.get("type") == "string" else "non-JSON body with a non-string schema"
    try:
        value = json.loads(body)
    except ValueError as e:
        return "the body is not JSON: %s" % e
    errors = sorted(Draft202012Validator(schema, resolver=resolver).iter_errors(value), key=str)
    if errors:
        e = errors[0]
        return "body does not match the schema: %s at %s (%d errors); body: %s" % (
            e.message, "/".join(str(p) for p in e.absolute_path) or "(root)", len(errors), body[:300])
    return None


def check_bodies(spec, name, files):
    with open(spec) as f:
        doc = yaml.safe_load(f)
    resolver = RefResolver(base_uri="", referrer=doc)
    validator = Draft202012Validator(doc["components"]["schemas"][name], resolver=resolver)
    for path in files:
        with open(path, "rb") as f:
            value = json.loads(f.read())
        errors = sorted(validator.iter_errors(value), key=str)
        if errors:
            e = errors[0]
            print("invalid %s: %s at %s" % (path, e.message[:200], "/".join(str(p) for p in e.absolute_path) or "(root)"))
        else:
            print("valid %s" % path)
    return 0


def main():
    if sys.argv[1] == "--body":
        return check_bodies(sys.argv[2], sys.argv[3], sys.argv[4:])
    with open(sys.argv[1]) as f:
        doc = yaml.safe_load(f)
    # Every schema of the document must itself be valid 2020-12 JSON Schema.
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    resolver = RefResolver(base_uri="", referrer=doc)
    failures = checked = 0
    seen = set()
    with open(sys.argv[2]) as f:
        for line in f:
            rec = json.loads(line)
            checked += 1
            problem = check(doc, resolver, rec)
            key = "%s %s %s" % (rec["method"], rec["path"], rec["status"])
            seen.add(key)
            if problem:
                failures += 1
                print("FAIL %s: %s" % (key, problem))
    print("checked %d responses (%d distinct operation and status pairs), %d failed" % (checked, len(seen), failures))
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
