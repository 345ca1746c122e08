"""The catalog policy a service works with: the parameter schema and the change rules, packaged or a deployment's."""

from __future__ import annotations

import os
from dataclasses import dataclass

from obslab.catalog.changes.change_rules import ChangeRules, default_change_rules, load_change_rules
from obslab.catalog.parameter_schema import ParameterSchema, default_parameter_schema, load_parameter_schema


@dataclass(frozen=True)
class Policy:
    """The schema and rules a service call works with (the packaged ones unless a deployment passes its own)."""

    schema: ParameterSchema
    rules: ChangeRules

    @classmethod
    def default(cls) -> Policy:
        return cls(default_parameter_schema(), default_change_rules())

    @classmethod
    def from_files(
        cls, schema_file: str | os.PathLike[str] | None = None, rules_file: str | os.PathLike[str] | None = None
    ) -> Policy:
        """Read and check a deployment's files (None: the packaged one); the rules are checked against the schema."""
        if schema_file is None and rules_file is None:
            return cls.default()
        schema = load_parameter_schema(schema_file) if schema_file is not None else default_parameter_schema()
        return cls(schema, load_change_rules(rules_file, schema))
