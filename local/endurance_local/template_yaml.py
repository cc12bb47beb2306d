"""Load a CloudFormation/SAM template from YAML or JSON, including the short-form intrinsic tags.

PyYAML's safe loader rejects unknown tags such as `!Ref` or `!GetAtt`; CloudFormation documents them as
shorthand for the `{"Ref": ...}` / `{"Fn::GetAtt": ...}` mappings, so each tag is rewritten into that
long form here and the resolver only ever sees one shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from endurance_local.model import TemplateError

_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "ToJsonString",
    "Length",
)


class _TemplateLoader(yaml.SafeLoader):
    """A SafeLoader that also knows CloudFormation's short-form tags."""


def _construct_any(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _long_form(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_any(loader, node)}

    return construct


def _construct_getatt(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_any(loader, node)
    # `!GetAtt Res.Attr` is a string; the long form is a two-item list. Attribute names may contain
    # dots themselves (e.g. Endpoint.Address), so only the first dot separates the resource.
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


_TemplateLoader.add_constructor("!Ref", _long_form("Ref"))
_TemplateLoader.add_constructor("!Condition", _long_form("Condition"))
_TemplateLoader.add_constructor("!GetAtt", _construct_getatt)
for _name in _FN_TAGS:
    _TemplateLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def _no_datetimes(loader_cls: type[yaml.SafeLoader]) -> None:
    # CloudFormation treats unquoted dates (e.g. AWSTemplateFormatVersion: 2010-09-09) as strings.
    loader_cls.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in loader_cls.yaml_implicit_resolvers.copy().items()
    }


_no_datetimes(_TemplateLoader)


def loads_template(text: str, source: str = "<template>") -> dict[str, Any]:
    """Parse template text (YAML or JSON) into plain dicts with long-form intrinsics."""
    try:
        data = yaml.load(text, Loader=_TemplateLoader)
    except yaml.YAMLError as exc:
        raise TemplateError(f"{source}: not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"{source}: a template must be a mapping at the top level")
    return data


def load_template(path: Path) -> dict[str, Any]:
    """Read and parse a template file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise TemplateError(f"{path}: a template must be a mapping at the top level")
        return data
    return loads_template(text, str(path))
