"""Read and check ``bodies/``: the edge where hand-edited YAML becomes a :class:`Catalogue`.

Every problem of a run is collected (file, line, key path, value, what was expected) and
raised together as one :class:`UserError`; nothing past this module validates again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import Problem, UserError
from .model import Body, Catalogue, Frozen, Grouping, Organisation, Precedes, Region, Round
from .yamlsource import Document, KeyPath, YamlProblems, load_yaml

REGION_FILE = "region.yaml"
ORGANISATIONS_FILE = "organisations.yaml"
GROUPS_FILE = "groups.yaml"
_RESERVED = {REGION_FILE, ORGANISATIONS_FILE, GROUPS_FILE}

_M = TypeVar("_M", bound=BaseModel)


class OrganisationsFile(Frozen):
    organisations: list[Organisation]


class GroupsFile(Frozen):
    groupings: list[Grouping]


def load_catalogue(directory: Path) -> Catalogue:
    """Read ``directory`` (``bodies/``) or raise one :class:`UserError` with every problem."""
    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory of bodies (see --bodies)")
    problems: list[Problem] = []
    region = _read(directory / REGION_FILE, Region, problems)
    orgs_file = _read(directory / ORGANISATIONS_FILE, OrganisationsFile, problems)
    groups_file = _read(directory / GROUPS_FILE, GroupsFile, problems)
    bodies: dict[str, tuple[Body, Document]] = {}
    for path in sorted(directory.glob("*.y*ml")):
        if path.name in _RESERVED:
            continue
        loaded = _read_with_document(path, Body, problems)
        if loaded is not None:
            _add_body(path, loaded, bodies, problems)
    if region is None or orgs_file is None or groups_file is None:
        raise UserError(f"{directory}: the catalogue has problems", problems)
    catalogue = Catalogue(
        region=region[0],
        organisations=_index(orgs_file, "organisations", problems),
        groupings=_index(groups_file, "groupings", problems),
        bodies={key: body for key, (body, _) in sorted(bodies.items())},
    )
    problems.extend(_cross_check(catalogue, orgs_file[1], groups_file[1], bodies))
    if problems:
        raise UserError(f"{directory}: the catalogue has problems", problems)
    return catalogue


def _read(path: Path, model: type[_M], problems: list[Problem]) -> tuple[_M, Document] | None:
    if not path.is_file():
        problems.append(Problem(str(path), "missing: every catalogue needs this file"))
        return None
    return _read_with_document(path, model, problems)


def _read_with_document(
    path: Path, model: type[_M], problems: list[Problem]
) -> tuple[_M, Document] | None:
    try:
        document = load_yaml(path)
    except YamlProblems as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(document.data, dict):
        problems.append(Problem(document.file, "expected a mapping of keys at the top", 1))
        return None
    try:
        return model.model_validate(document.data), document
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, document))
        return None


def _add_body(
    path: Path,
    loaded: tuple[Body, Document],
    bodies: dict[str, tuple[Body, Document]],
    problems: list[Problem],
) -> None:
    body, document = loaded
    if body.id != path.stem:
        problems.append(document.problem(("id",), f"{body.id!r} must equal the file name {path.stem!r}"))
    elif body.id in bodies:
        problems.append(document.problem(("id",), f"body {body.id!r} is defined twice"))
    else:
        bodies[body.id] = loaded


def _index(loaded: tuple[Any, Document], key: str, problems: list[Problem]) -> dict[str, Any]:
    model, document = loaded
    result: dict[str, Any] = {}
    for i, item in enumerate(getattr(model, key)):
        if item.id in result:
            problems.append(document.problem((key, i, "id"), f"{item.id!r} is defined twice"))
        result[item.id] = item
    return result


# -- messages for pydantic errors -------------------------------------------------------------

_FRIENDLY = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (check the spelling against the documentation)",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "date_type": "expected a date written YYYY-MM-DD",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
}


def describe_validation_error(exc: ValidationError, document: Document) -> Iterator[Problem]:
    """Turn pydantic's errors into problems naming file, line, key path, value and expectation."""
    for error in exc.errors(include_url=False):
        path = _data_path(document.data, error["loc"])
        yield document.problem(path, _message(error))


def _message(error: Any) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"expected text, got the number {value!r}; write it in quotes, e.g. \"{value}\""
    if kind == "value_error":
        text = str(error["ctx"]["error"])
    elif kind in _FRIENDLY:
        text = _FRIENDLY[kind]
    else:
        text = error["msg"].replace("Input should be", "expected")
    if kind in {"missing", "extra_forbidden"} or kind == "value_error" and isinstance(value, dict):
        return text
    return f"{text}; got {_short(value)}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _data_path(data: Any, loc: Iterable[int | str]) -> KeyPath:
    """Pydantic's location without the tags it inserts for unions (``per-year``, ``str``)."""
    path: list[int | str] = []
    node = data
    for part in loc:
        if _has(node, part):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not part[:1].isdigit():
            path.append(part)  # a missing or unknown key: name it
            break
        else:
            continue
        path.append(part)
    return tuple(path)


# -- cross-references -------------------------------------------------------------------------


def _cross_check(
    catalogue: Catalogue,
    orgs_doc: Document,
    groups_doc: Document,
    bodies: dict[str, tuple[Body, Document]],
) -> list[Problem]:
    problems = list(_check_groupings(catalogue, groups_doc))
    for body, document in bodies.values():
        problems.extend(_check_body(catalogue, body, document))
    problems.extend(_check_precedence_cycles(catalogue, bodies))
    del orgs_doc  # organisations reference nothing else
    return problems


def _group_ids(catalogue: Catalogue) -> set[str]:
    ids = set(catalogue.groupings)
    for grouping in catalogue.groupings.values():
        ids.update(member.id for member in grouping.members)
    return ids


def _check_groupings(catalogue: Catalogue, document: Document) -> Iterator[Problem]:
    orgs = catalogue.organisations
    for g, grouping in enumerate(catalogue.groupings.values()):
        for i, org in enumerate(grouping.organisations):
            if org not in orgs:
                yield document.problem(("groupings", g, "organisations", i), _unknown("organisation", org))
        for m, member in enumerate(grouping.members):
            for i, org in enumerate(member.organisations):
                if org not in orgs:
                    path = ("groupings", g, "members", m, "organisations", i)
                    yield document.problem(path, _unknown("organisation", org))
        if grouping.partition_of:
            yield from _check_partition(catalogue, grouping, document, ("groupings", g))


def _check_partition(
    catalogue: Catalogue, grouping: Grouping, document: Document, path: KeyPath
) -> Iterator[Problem]:
    assert grouping.partition_of is not None
    if grouping.partition_of not in catalogue.groupings:
        yield document.problem((*path, "partition_of"), _unknown("grouping", grouping.partition_of))
        return
    whole = catalogue.group_members(grouping.partition_of)
    counts = dict.fromkeys(whole, 0)
    for member in grouping.members:
        for org in member.organisations:
            counts[org] = counts.get(org, 0) + 1
    for org, count in counts.items():
        if count != 1:
            where = "in no member" if count == 0 else f"in {count} members"
            if org not in whole:
                where = f"not in {grouping.partition_of!r}"
            yield document.problem(
                (*path, "members"),
                f"{org!r} is {where}; every organisation of {grouping.partition_of!r} "
                "must be in exactly one member",
            )


def _check_body(catalogue: Catalogue, body: Body, document: Document) -> Iterator[Problem]:
    orgs, groups = catalogue.organisations, _group_ids(catalogue)
    for key, participants in (("conveners", body.conveners), ("members", body.members)):
        for i, participant in enumerate(participants):
            if participant.organisation and participant.organisation not in orgs:
                yield document.problem((key, i, "organisation"), _unknown("organisation", participant.organisation))
            if participant.group and participant.group not in groups:
                yield document.problem((key, i, "group"), _unknown("group", participant.group))
    for i, prep in enumerate(body.co_preparers):
        if prep.organisation and prep.organisation not in orgs:
            yield document.problem(("co_preparers", i, "organisation"), _unknown("organisation", prep.organisation))
        if prep.body and prep.body not in catalogue.bodies:
            yield document.problem(("co_preparers", i, "body"), _unknown("body", prep.body))
    yield from _check_rules(catalogue, body, document)
    yield from _check_known_meetings(catalogue, body, document)


def _check_rules(catalogue: Catalogue, body: Body, document: Document) -> Iterator[Problem]:
    for i, rule in enumerate(body.cadence):
        if isinstance(rule, Round):
            grouping = catalogue.groupings.get(rule.grouping)
            if grouping is None or not grouping.members:
                yield document.problem(
                    ("cadence", i, "grouping"),
                    _unknown("grouping with members", rule.grouping),
                )
        elif isinstance(rule, Precedes):
            if rule.body not in catalogue.bodies:
                yield document.problem(("cadence", i, "body"), _unknown("body", rule.body))
            elif rule.body == body.id:
                yield document.problem(("cadence", i, "body"), "a body cannot precede itself")
    kinds = [rule.kind for rule in body.cadence]
    for kind in ("round", "months", "precedes"):
        if kinds.count(kind) > 1:
            yield document.problem(("cadence",), f"at most one {kind!r} rule per body")


def _check_known_meetings(catalogue: Catalogue, body: Body, document: Document) -> Iterator[Problem]:
    round_groupings = {rule.grouping for rule in body.rules_of(Round)}
    precedes = body.rules_of(Precedes)
    for pre in precedes:
        target = catalogue.bodies.get(pre.body)
        if target and pre.per_group:
            round_groupings.update(rule.grouping for rule in target.rules_of(Round))
    allowed = {
        member.id
        for grouping_id in round_groupings
        if grouping_id in catalogue.groupings
        for member in catalogue.groupings[grouping_id].members
    }
    for i, meeting in enumerate(body.meetings):
        if meeting.group is not None and meeting.group not in allowed:
            expected = ", ".join(sorted(allowed)) or "none: this body meets as a whole"
            yield document.problem(
                ("meetings", i, "group"),
                f"unknown group {meeting.group!r} for this body; expected one of {expected}",
            )


def _check_precedence_cycles(
    catalogue: Catalogue, bodies: dict[str, tuple[Body, Document]]
) -> Iterator[Problem]:
    for body_id, (body, document) in bodies.items():
        seen, current = {body_id}, body
        while (rules := current.rules_of(Precedes)) and rules[0].body in catalogue.bodies:
            nxt = rules[0].body
            if nxt in seen:
                yield document.problem(("cadence",), f"'precedes' rules form a cycle through {nxt!r}")
                break
            seen.add(nxt)
            current = catalogue.bodies[nxt]


def _unknown(kind: str, value: str) -> str:
    return f"unknown {kind} {value!r}; expected an id defined in the catalogue"
