"""Shared loading of the project's SAM template, raw and transformed to plain CloudFormation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import load as load_cfn_yaml
from samtranslator.parser import parser as sam_parser
from samtranslator.translator.translator import Translator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


def load_template() -> dict[str, Any]:
    """The template as plain data, short-form tags (!Ref, !Sub ...) in their long form."""
    # cfn-lint's loader knows every CloudFormation tag; JSON round-trip drops its node subclasses.
    return json.loads(json.dumps(load_cfn_yaml(str(TEMPLATE_PATH))))


def transform_template(template: dict[str, Any]) -> dict[str, Any]:
    """Expand the SAM transform offline, the way `sam validate` does before it lints.

    The translator only accepts S3 locations for code, so local paths are swapped for dummy ones, and
    the state machine definition file is inlined (SAM then renders it with its substitutions).
    """
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://endurance-artifacts/function.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://endurance-artifacts/layer.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in properties:
            definition_path = ROOT / properties.pop("DefinitionUri")
            properties["Definition"] = json.loads(definition_path.read_text(encoding="utf-8"))
    translator = Translator(managed_policy_map=None, sam_parser=sam_parser.Parser(), plugins=[])
    return translator.translate(sam_template=sam, parameter_values={}, get_managed_policy_map=dict)


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        # The translator asks boto3 for the region (for ARNs); no AWS call is made.
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        return transform_template(template)
