"""Static checks on Amazon States Language definitions for what the local runtime can execute.

moto's ASL interpreter (5.2.5) runs JSONPath definitions only: JSONata (`QueryLanguage: JSONata`,
`{% ... %}` expressions), variables (`Assign`) and JSONPath filters joined with `&&` / `||` fail there at
run time, deep inside an execution. Catching them when the template is loaded gives a message that
names the state machine and the state instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from endurance_local.model import TemplateError

_TERMINAL_TYPES = {"Succeed", "Fail", "Choice"}
_JSONPATH_FIELDS = ("InputPath", "OutputPath", "ResultPath", "ItemsPath", "Variable")
_FILTER_WITH_LOGIC = re.compile(r"\[\?\(.*(&&|\|\|).*\)\]")


def check_asl(definition: dict[str, Any], logical_id: str) -> None:
    """Raise TemplateError naming the state machine and state for the first problems found."""
    problems = asl_problems(definition)
    if problems:
        raise TemplateError("; ".join(problems), logical_id)


def check_asl_text(text: str, logical_id: str) -> dict[str, Any]:
    """Parse a definition string and check it; returns the parsed definition."""
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the state machine definition is not valid JSON: {exc}", logical_id) from exc
    if not isinstance(definition, dict):
        raise TemplateError("the state machine definition must be a JSON object", logical_id)
    check_asl(definition, logical_id)
    return definition


def lint_asl_file(path: Path) -> list[str]:
    """All problems in an ASL file (JSON); an empty list means the local runtime can run it."""
    try:
        definition = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{path}: not valid JSON: {exc}"]
    if not isinstance(definition, dict):
        return [f"{path}: the definition must be a JSON object"]
    return asl_problems(definition)


def asl_problems(definition: dict[str, Any]) -> list[str]:
    """Every problem in a parsed definition, each naming the state it is in."""
    problems: list[str] = []
    if str(definition.get("QueryLanguage", "JSONPath")) == "JSONata":
        problems.append("QueryLanguage JSONata is not supported locally (use JSONPath)")
    _check_machine(definition, "", problems)
    return problems


def _check_machine(machine: dict[str, Any], scope: str, problems: list[str]) -> None:
    states = machine.get("States")
    start = machine.get("StartAt")
    where = f"{scope}: " if scope else ""
    if not isinstance(states, dict) or not states:
        problems.append(f"{where}States is missing or empty")
        return
    if not isinstance(start, str):
        problems.append(f"{where}StartAt is missing")
    elif start not in states:
        problems.append(f"{where}StartAt names state {start!r}, which does not exist")
    for name, state in states.items():
        if not isinstance(state, dict):
            problems.append(f"state {name!r}: must be an object")
            continue
        _check_state(name, state, states, problems)


def _check_state(name: str, state: dict[str, Any], states: dict[str, Any], problems: list[str]) -> None:
    label = f"state {name!r}"
    state_type = state.get("Type")
    if state.get("QueryLanguage") == "JSONata":
        problems.append(f"{label}: QueryLanguage JSONata is not supported locally")
    if "Assign" in state:
        problems.append(f"{label}: variables (Assign) are not supported locally")
    if _contains_jsonata(state):
        problems.append(f"{label}: JSONata expressions ({{% ... %}}) are not supported locally")

    targets: list[tuple[str, Any]] = []
    if "Next" in state:
        targets.append(("Next", state["Next"]))
    elif state_type not in _TERMINAL_TYPES and not state.get("End"):
        problems.append(f"{label}: needs Next or End")
    for catcher in state.get("Catch") or []:
        targets.append(("Catch Next", catcher.get("Next")))
    if state_type == "Choice":
        choices = state.get("Choices") or []
        if not choices:
            problems.append(f"{label}: a Choice state needs Choices")
        for choice in choices:
            targets.append(("Choice Next", choice.get("Next")))
            if _choice_uses_logical_filter(choice):
                problems.append(
                    f"{label}: JSONPath filters with && or || are not supported locally "
                    "(use And/Or choice rules)"
                )
        if "Default" in state:
            targets.append(("Default", state["Default"]))
    for field_name, target in targets:
        if target not in states:
            problems.append(f"{label}: {field_name} names state {target!r}, which does not exist")

    for path_field in _JSONPATH_FIELDS:
        value = state.get(path_field)
        if isinstance(value, str) and _FILTER_WITH_LOGIC.search(value) and state_type != "Choice":
            problems.append(
                f"{label}: {path_field} uses a JSONPath filter with && or ||, not supported locally"
            )

    for index, branch in enumerate(state.get("Branches") or []):
        _check_machine(branch, f"{label} branch {index}", problems)
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if isinstance(processor, dict):
        _check_machine(processor, f"{label} item processor", problems)


def _choice_uses_logical_filter(rule: Any) -> bool:
    if not isinstance(rule, dict):
        return False
    for key, value in rule.items():
        if (
            isinstance(value, str)
            and (key == "Variable" or key.endswith("Path"))
            and _FILTER_WITH_LOGIC.search(value)
        ):
            return True
        if key in ("And", "Or") and any(_choice_uses_logical_filter(r) for r in value or []):
            return True
        if key == "Not" and _choice_uses_logical_filter(value):
            return True
    return False


def _contains_jsonata(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().startswith("{%")
    if isinstance(value, dict):
        return any(
            _contains_jsonata(v)
            for k, v in value.items()
            if k not in ("Branches", "ItemProcessor", "Iterator")
        )
    if isinstance(value, list):
        return any(_contains_jsonata(v) for v in value)
    return False
