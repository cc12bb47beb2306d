"""CloudFormation intrinsic functions, evaluated locally.

The resolver knows parameters, mappings and conditions itself and asks a `ResourceLookup` for what a
`Ref` or `Fn::GetAtt` of a resource returns, so names and ARNs can be computed lazily (an explicit
`QueueName: !Sub "${AWS::StackName}-jobs"` needs the resolver before the queue's own identity exists).
Every error names the resource (or output/condition) whose value contained the bad expression.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from endurance_local.model import ACCOUNT_ID, REGION, TemplateError


class _NoValue:
    """`Ref: AWS::NoValue`: the enclosing key or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

PSEUDO_PARAMETERS_STATIC = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}

AVAILABILITY_ZONES = [f"{REGION}a", f"{REGION}b", f"{REGION}c"]

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class ResourceLookup(Protocol):
    """What the resolver needs to know about the template's resources."""

    def has_resource(self, logical_id: str) -> bool: ...

    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str, owner: str) -> Any: ...


class Resolver:
    """Evaluates intrinsic functions in template values."""

    def __init__(
        self,
        *,
        stack_name: str,
        parameters: Mapping[str, Any],
        mappings: Mapping[str, Any],
        conditions: Mapping[str, Any],
        resources: ResourceLookup,
    ) -> None:
        self._pseudo = {
            **PSEUDO_PARAMETERS_STATIC,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local",
        }
        self._parameters = dict(parameters)
        self._mappings = mappings
        self._condition_exprs = conditions
        self._condition_values: dict[str, bool] = {}
        self._conditions_in_progress: set[str] = set()
        self._resources = resources
        self._functions: dict[str, Callable[[Any, str], Any]] = {
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": self._and,
            "Fn::Or": self._or,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::GetAZs": lambda _args, _owner: list(AVAILABILITY_ZONES),
        }

    # -- public -------------------------------------------------------------------------------------

    def resolve(self, value: Any, owner: str) -> Any:
        """Resolve every intrinsic in `value`; `owner` names the resource for error messages.

        A top-level `AWS::NoValue` comes back as `NO_VALUE`; nested ones remove their key or item.
        """
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, args),) = value.items()
                if key == "Ref":
                    return self._ref(args, owner)
                if key in self._functions:
                    return self._functions[key](args, owner)
                if key.startswith("Fn::"):
                    raise TemplateError(f"intrinsic function {key} is not supported locally", owner)
            resolved_map = {}
            for key, item in value.items():
                resolved = self.resolve(item, owner)
                if resolved is not NO_VALUE:
                    resolved_map[key] = resolved
            return resolved_map
        if isinstance(value, list):
            return [r for r in (self.resolve(item, owner) for item in value) if r is not NO_VALUE]
        return value

    def condition(self, name: str, owner: str) -> bool:
        """The value of a named condition from the Conditions section."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self._condition_exprs:
            raise TemplateError(f"condition {name!r} is not defined in Conditions", owner)
        if name in self._conditions_in_progress:
            raise TemplateError(f"condition {name!r} refers to itself", owner)
        self._conditions_in_progress.add(name)
        try:
            result = self._evaluate_condition(self._condition_exprs[name], f"Condition {name}")
        finally:
            self._conditions_in_progress.discard(name)
        self._condition_values[name] = result
        return result

    def parameter_names(self) -> list[str]:
        return list(self._parameters)

    # -- Ref / GetAtt / Sub ---------------------------------------------------------------------------

    def _ref(self, name: Any, owner: str) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref needs a name, got {name!r}", owner)
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if self._resources.has_resource(name):
            return self._resources.ref(name)
        raise TemplateError(f"Ref to {name!r}, which is not a parameter or resource of the template", owner)

    def _get_att(self, args: Any, owner: str) -> Any:
        if isinstance(args, str):
            resource, _, attribute = args.partition(".")
            args = [resource, attribute]
        if not (isinstance(args, list) and len(args) == 2):
            raise TemplateError(f"Fn::GetAtt needs [resource, attribute], got {args!r}", owner)
        resource, attribute = args[0], self.resolve(args[1], owner)
        if not isinstance(resource, str) or not isinstance(attribute, str) or not attribute:
            raise TemplateError(f"Fn::GetAtt needs [resource, attribute], got {args!r}", owner)
        if not self._resources.has_resource(resource):
            raise TemplateError(f"Fn::GetAtt of {resource!r}, which is not a resource of the template", owner)
        return self._resources.get_att(resource, attribute, owner)

    def _sub(self, args: Any, owner: str) -> str:
        variables: dict[str, Any] = {}
        if isinstance(args, list):
            if len(args) != 2 or not isinstance(args[1], dict):
                raise TemplateError("Fn::Sub needs a string or [string, {variables}]", owner)
            text, raw_vars = args
            variables = {k: self.resolve(v, owner) for k, v in raw_vars.items()}
        else:
            text = args
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub needs a string, got {text!r}", owner)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                return _as_text(variables[name], owner)
            if "." in name and name.partition(".")[0] not in self._parameters:
                resource, _, attribute = name.partition(".")
                return _as_text(self._get_att([resource, attribute], owner), owner)
            return _as_text(self._ref(name, owner), owner)

        return _SUB_PLACEHOLDER.sub(replace, text)

    # -- list and string functions --------------------------------------------------------------------

    def _join(self, args: Any, owner: str) -> str:
        if not (isinstance(args, list) and len(args) == 2):
            raise TemplateError("Fn::Join needs [delimiter, [values]]", owner)
        delimiter = self.resolve(args[0], owner)
        values = self.resolve(args[1], owner)
        if not isinstance(delimiter, str) or not isinstance(values, list):
            raise TemplateError("Fn::Join needs [delimiter, [values]]", owner)
        return delimiter.join(_as_text(v, owner) for v in values)

    def _select(self, args: Any, owner: str) -> Any:
        if not (isinstance(args, list) and len(args) == 2):
            raise TemplateError("Fn::Select needs [index, [values]]", owner)
        index = self.resolve(args[0], owner)
        values = self.resolve(args[1], owner)
        try:
            return values[int(index)]
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise TemplateError(f"Fn::Select index {index!r} is not valid for {values!r}", owner) from exc

    def _split(self, args: Any, owner: str) -> list[str]:
        if not (isinstance(args, list) and len(args) == 2):
            raise TemplateError("Fn::Split needs [delimiter, string]", owner)
        delimiter = self.resolve(args[0], owner)
        text = self.resolve(args[1], owner)
        if not isinstance(delimiter, str) or not isinstance(text, str):
            raise TemplateError("Fn::Split needs [delimiter, string]", owner)
        return text.split(delimiter)

    def _base64(self, args: Any, owner: str) -> str:
        text = self.resolve(args, owner)
        return base64.b64encode(_as_text(text, owner).encode()).decode()

    def _find_in_map(self, args: Any, owner: str) -> Any:
        if not (isinstance(args, list) and len(args) in (3, 4)):
            raise TemplateError("Fn::FindInMap needs [map, top-level key, second-level key]", owner)
        map_name, top, second = (self.resolve(a, owner) for a in args[:3])
        try:
            return self._mappings[map_name][top][second]
        except (KeyError, TypeError) as exc:
            if len(args) == 4 and isinstance(args[3], dict) and "DefaultValue" in args[3]:
                return self.resolve(args[3]["DefaultValue"], owner)
            raise TemplateError(f"Fn::FindInMap: no {map_name}/{top}/{second} in Mappings", owner) from exc

    # -- conditions ------------------------------------------------------------------------------------

    def _if(self, args: Any, owner: str) -> Any:
        if not (isinstance(args, list) and len(args) == 3 and isinstance(args[0], str)):
            raise TemplateError("Fn::If needs [condition name, value if true, value if false]", owner)
        branch = args[1] if self.condition(args[0], owner) else args[2]
        return self.resolve(branch, owner)

    def _equals(self, args: Any, owner: str) -> bool:
        if not (isinstance(args, list) and len(args) == 2):
            raise TemplateError("Fn::Equals needs two values", owner)
        left, right = (self.resolve(a, owner) for a in args)
        # CloudFormation compares strings: a Number parameter "5" equals 5.
        return _as_comparable(left) == _as_comparable(right)

    def _not(self, args: Any, owner: str) -> bool:
        if not (isinstance(args, list) and len(args) == 1):
            raise TemplateError("Fn::Not needs one condition", owner)
        return not self._evaluate_condition(args[0], owner)

    def _and(self, args: Any, owner: str) -> bool:
        if not isinstance(args, list) or not args:
            raise TemplateError("Fn::And needs a list of conditions", owner)
        return all(self._evaluate_condition(a, owner) for a in args)

    def _or(self, args: Any, owner: str) -> bool:
        if not isinstance(args, list) or not args:
            raise TemplateError("Fn::Or needs a list of conditions", owner)
        return any(self._evaluate_condition(a, owner) for a in args)

    def _evaluate_condition(self, expr: Any, owner: str) -> bool:
        if isinstance(expr, dict) and set(expr) == {"Condition"}:
            return self.condition(expr["Condition"], owner)
        value = self.resolve(expr, owner)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TemplateError(f"condition expression {expr!r} is not a boolean", owner)


def _as_comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


def _as_text(value: Any, owner: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"expected a string value, got {value!r}", owner)


def map_strings(value: Any, transform: Callable[[str], str]) -> Any:
    """Apply `transform` to every string inside a resolved value (keys are left alone)."""
    if isinstance(value, str):
        return transform(value)
    if isinstance(value, dict):
        return {k: map_strings(v, transform) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, transform) for v in value]
    return value
