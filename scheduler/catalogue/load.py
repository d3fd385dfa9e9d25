"""Read and check ``bodies/``: the edge where hand-edited YAML becomes a :class:`Catalogue`.

Every problem of a run is collected (file, line, key path, value, what was expected) and
raised together as one :class:`UserError`; nothing past this module validates again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scheduler.errors import Problem, UserError

from .model import (
    Body,
    Catalogue,
    Frozen,
    Grouping,
    Measure,
    Organisation,
    PerTerm,
    PerYear,
    Precedes,
    Region,
    Round,
    SourceDocument,
    cited,
)
from .validation import explain
from .yamlsource import Document, KeyPath, YamlProblems, load_yaml

REGION_FILE = "region.yaml"
ORGANISATIONS_FILE = "organisations.yaml"
GROUPS_FILE = "groups.yaml"
DOCUMENTS_FILE = "documents.yaml"  # optional: the source documents and their validity
MEASURES_FILE = "measures.yaml"  # optional: the measures of the plan and their indicators
_RESERVED = {REGION_FILE, ORGANISATIONS_FILE, GROUPS_FILE, DOCUMENTS_FILE, MEASURES_FILE}

_M = TypeVar("_M", bound=BaseModel)


class OrganisationsFile(Frozen):
    organisations: list[Organisation]


class GroupsFile(Frozen):
    groupings: list[Grouping]


class DocumentsFile(Frozen):
    documents: list[SourceDocument]


class MeasuresFile(Frozen):
    measures: list[Measure]


def load_catalogue(directory: Path) -> Catalogue:
    """Read ``directory`` (``bodies/``) or raise one :class:`UserError` with every problem."""
    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory of bodies (see --bodies)")
    problems: list[Problem] = []
    region = _read(directory / REGION_FILE, Region, problems)
    orgs_file = _read(directory / ORGANISATIONS_FILE, OrganisationsFile, problems)
    groups_file = _read(directory / GROUPS_FILE, GroupsFile, problems)
    documents_file = _read_optional(directory / DOCUMENTS_FILE, DocumentsFile, problems)
    measures_file = _read_optional(directory / MEASURES_FILE, MeasuresFile, problems)
    bodies: dict[str, tuple[Body, Document]] = {}
    unreadable: set[str] = set()  # bodies whose files exist but failed: not "unknown"
    for path in sorted(directory.glob("*.y*ml")):
        if path.name in _RESERVED:
            continue
        loaded = _read_with_document(path, Body, problems)
        if loaded is not None:
            _add_body(path, loaded, bodies, problems)
        else:
            unreadable.add(path.stem)
    if region is None or orgs_file is None or groups_file is None:
        raise UserError(f"{directory}: the catalogue has problems", problems)
    catalogue = Catalogue(
        region=region[0],
        organisations=_index(orgs_file, "organisations", problems),
        groupings=_index(groups_file, "groupings", problems),
        bodies={key: body for key, (body, _) in sorted(bodies.items())},
        documents=_index(documents_file, "documents", problems) if documents_file else {},
        measures=_index(measures_file, "measures", problems) if measures_file else {},
    )
    problems.extend(_cross_check(catalogue, groups_file[1], bodies, unreadable))
    if measures_file:
        problems.extend(_check_measures(catalogue, measures_file[1], unreadable))
    if documents_file:
        cited_in = [loaded[1] for loaded in (region, orgs_file, groups_file, measures_file) if loaded]
        cited_in.extend(document for _, document in bodies.values())
        problems.extend(_check_citations(catalogue, cited_in))
    if problems:
        raise UserError(f"{directory}: the catalogue has problems", problems)
    return catalogue


def _read(path: Path, model: type[_M], problems: list[Problem]) -> tuple[_M, Document] | None:
    if not path.is_file():
        problems.append(Problem(str(path), "missing: every catalogue needs this file"))
        return None
    return _read_with_document(path, model, problems)


def _read_optional(path: Path, model: type[_M], problems: list[Problem]
                   ) -> tuple[_M, Document] | None:
    """A file a catalogue may leave out (another region without measures)."""
    return _read_with_document(path, model, problems) if path.is_file() else None


def _check_measures(catalogue: Catalogue, document: Document,
                    unreadable: set[str]) -> Iterator[Problem]:
    """Every body and organisation a measure names exists. A body whose own file has
    problems is not "unknown" here: its file's problems are reported already."""
    for i, measure in enumerate(catalogue.measures.values()):
        for j, body in enumerate(measure.bodies):
            if body not in catalogue.bodies and body not in unreadable:
                yield document.problem(("measures", i, "bodies", j), _unknown("body", body))
        for j, indicator in enumerate(measure.indicators):
            if indicator.body in unreadable:
                continue
            if indicator.body is not None and indicator.body not in catalogue.bodies:
                yield document.problem(("measures", i, "indicators", j, "body"),
                                       _unknown("body", indicator.body))
            elif indicator.kind == "count" and indicator.body is not None:
                found = _count_mismatch(catalogue, indicator.body, indicator.per,
                                        indicator.min, indicator.max)
                if found:
                    yield document.problem(("measures", i, "indicators", j), found)
        for j, party in enumerate(measure.responsible):
            if party.organisation and party.organisation not in catalogue.organisations:
                yield document.problem(("measures", i, "responsible", j, "organisation"),
                                       _unknown("organisation", party.organisation))
            if party.group and party.group not in _group_ids(catalogue):
                yield document.problem(("measures", i, "responsible", j, "group"),
                                       _unknown("grouping", party.group))


def _count_mismatch(catalogue: Catalogue, body_id: str, per: str | None,
                    low: int | None, high: int | None) -> str | None:
    """A count indicator and its body's rule must say the same: the plan meets the target."""
    body = catalogue.bodies[body_id]
    kind, rules = ("per-year", body.rules_of(PerYear)) if per == "year" else \
        ("per-term", body.rules_of(PerTerm))
    if not rules:
        return f"counts meetings of {body_id!r} per {per}, but that body has no {kind!r} rule"
    rule = rules[0]
    if (rule.min, rule.max) != (low, high):
        return (f"min {low} and max {high} differ from the {kind!r} rule of {body_id!r} "
                f"(min {rule.min}, max {rule.max}); keep them the same")
    return None


def _check_citations(catalogue: Catalogue, documents: Iterable[Document]) -> Iterator[Problem]:
    """Every ``source`` that cites a document by number cites one of ``documents.yaml``:
    its validity decides whether a rule is still agreed (issue 11)."""
    known = ", ".join(sorted(catalogue.documents))
    for document in documents:
        for path, text in _sources(document.data, ()):
            for number in cited(text):
                if number not in catalogue.documents:
                    yield document.problem(path, f"cites document {number!r}, which is not in "
                                                 f"{DOCUMENTS_FILE}; expected one of {known}")


def _sources(node: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """The ``source`` and ``sources`` texts anywhere in a file's data, with their key paths."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source" and isinstance(value, str):
                yield (*path, key), value
            elif key == "sources" and isinstance(value, list):
                yield from (((*path, key, i), text) for i, text in enumerate(value)
                            if isinstance(text, str))
            else:
                yield from _sources(value, (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _sources(item, (*path, i))


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

def describe_validation_error(exc: ValidationError, document: Document) -> Iterator[Problem]:
    """Turn pydantic's errors into problems naming file, line, key path, value and expectation."""
    for error in exc.errors(include_url=False):
        path = _data_path(document.data, error["loc"], error["type"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            path = (*path, error["ctx"]["discriminator"].strip("'"))
        yield document.problem(path, explain(error))


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _data_path(data: Any, loc: Iterable[int | str], kind: str) -> KeyPath:
    """Pydantic's location as a key path in the file, without the tags pydantic inserts for
    unions (``per-year``, ``function-after[...]``); a missing key is named."""
    path: list[int | str] = []
    node = data
    parts = list(loc)
    for i, part in enumerate(parts):
        if _has(node, part):
            node = node[part]
            path.append(part)
        elif kind == "missing" and i == len(parts) - 1 and isinstance(node, dict):
            path.append(part)
    return tuple(path)


# -- cross-references -------------------------------------------------------------------------


def _cross_check(
    catalogue: Catalogue,
    groups_doc: Document,
    bodies: dict[str, tuple[Body, Document]],
    unreadable: set[str],
) -> list[Problem]:
    problems = list(_check_groupings(catalogue, groups_doc))
    for body, document in bodies.values():
        problems.extend(
            p for p in _check_body(catalogue, body, document)
            if not any(p.message == _unknown("body", stem) for stem in unreadable)
        )
    problems.extend(_check_precedence_cycles(catalogue, bodies))
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
    yield from _check_gaps(body, document)
    for i, prep in enumerate(body.co_preparers):
        if prep.organisation and prep.organisation not in orgs:
            yield document.problem(("co_preparers", i, "organisation"), _unknown("organisation", prep.organisation))
        if prep.body and prep.body not in catalogue.bodies:
            yield document.problem(("co_preparers", i, "body"), _unknown("body", prep.body))
    yield from _check_rules(catalogue, body, document)
    yield from _check_known_meetings(catalogue, body, document)


def _check_gaps(body: Body, document: Document) -> Iterator[Problem]:
    """Silence in the documents must be stated, never left as an empty list (issue 2)."""
    if not body.conveners and body.gaps.conveners is None:
        yield document.problem(("conveners",), "is empty: say why under gaps.conveners, e.g. "
                               "gaps: {conveners: {fi: \"Asiakirjat eivät nimeä koollekutsujaa.\"}}")
    if not body.cadence and body.gaps.cadence is None:
        yield document.problem(("cadence",), "is empty: say why under gaps.cadence")
    for i, convener in enumerate(body.conveners):
        if convener.group:
            yield document.problem(("conveners", i, "group"), "conveners must be organisations, not groups")


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
    for kind in ("per-year", "per-term", "round", "months", "precedes"):
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
        chain, current = [body_id], body
        while (rules := current.rules_of(Precedes)) and rules[0].body in catalogue.bodies:
            chain.append(rules[0].body)
            if rules[0].body == body_id:
                index = next(i for i, r in enumerate(body.cadence) if isinstance(r, Precedes))
                names = " -> ".join(repr(b) for b in chain)
                yield document.problem(("cadence", index, "body"),
                                       f"'precedes' rules form a cycle: {names}")
                break
            if rules[0].body in chain[:-1]:
                break  # a cycle further on; reported in its own bodies
            current = catalogue.bodies[rules[0].body]


def _unknown(kind: str, value: str) -> str:
    return f"unknown {kind} {value!r}; expected an id defined in the catalogue"
