#!/usr/bin/env python3
"""Counts the elements of Schema/schema.graphql that have no description.

An independent check of the Swift contract test, with graphql-core (the reference
implementation's Python port): builds the schema from the file, walks every named type
(introspection types and built-in scalars left out), its fields and their arguments,
its input fields and its enum values, prints the counts, and lists each undescribed
element. Exits 1 when any element lacks a description.

    python3 Tests/scripts/schema_descriptions.py [path/to/schema.graphql]
"""
import pathlib
import sys

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)
from graphql.type import specified_scalar_types

default = pathlib.Path(__file__).resolve().parents[2] / "Schema" / "schema.graphql"
path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else default
schema = build_schema(path.read_text(encoding="utf-8"))

counts = {kind: [0, 0] for kind in ("types", "fields", "arguments", "enum values", "input fields")}
missing = []


def note(kind, name, description):
    counts[kind][1] += 1
    if description and description.strip():
        counts[kind][0] += 1
    else:
        missing.append(f"{kind[:-1]} {name}")


for name, named in sorted(schema.type_map.items()):
    if name.startswith("__") or name in specified_scalar_types:
        continue
    note("types", name, named.description)
    if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
        for field_name, field in named.fields.items():
            note("fields", f"{name}.{field_name}", field.description)
            for arg_name, arg in field.args.items():
                note("arguments", f"{name}.{field_name}({arg_name}:)", arg.description)
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, field in named.fields.items():
            note("input fields", f"{name}.{field_name}", field.description)
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            note("enum values", f"{name}.{value_name}", value.description)

for kind, (described, total) in counts.items():
    print(f"{kind}: {described} of {total} described")
for element in missing:
    print(f"undescribed: {element}")
sys.exit(1 if missing else 0)
