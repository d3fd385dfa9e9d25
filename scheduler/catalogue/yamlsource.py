"""Read hand-edited YAML safely: plain data with the line of every key, or every problem at once.

Owns the YAML traps so the rest of the code never sees them: duplicate keys, anchors and
aliases (no alias bombs), non-UTF-8 bytes, and unquoted scalars that YAML 1.1 tools read
differently from YAML 1.2 (``no`` -> false, ``12:30`` -> 750, ``00100`` -> 64). Such a
scalar is refused, because the same files are also read by other tools (linters, editors,
Ansible) that follow YAML 1.1, and the message gives the spellings every tool reads alike:
the text in quotes (``"12:30"``, which the schema accepts as a time of day) and, where a
yes/no value or a number may have been meant, that value written plainly (``false``, ``100``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from scheduler.errors import Problem

Key = str | int
KeyPath = tuple[Key, ...]

_INT_12 = re.compile(r"[-+]?(0|[1-9][0-9]*)$")
_FLOAT_12 = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_BOOL_12 = {"true": True, "false": False}
_NULL_12 = {"", "~", "null"}
_MAX_BYTES = 2_000_000
# The catalogue's schema nests a few levels; libyaml's composer recurses per level and
# crashes the process (SIGSEGV) somewhere past ten thousand, so deeper input is refused.
_MAX_DEPTH = 40

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_KIND_WORDS = {"float": "a number"}  # bool and int traps have messages of their own

try:  # libyaml is ~10x faster; the national-scale catalogue has thousands of files
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - wheels ship libyaml
    _Loader = yaml.SafeLoader


def format_path(path: KeyPath) -> str:
    """``('rules', 0, 'min')`` -> ``rules[0].min``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


@dataclass
class Document:
    """The plain data of one YAML file and the line (1-based) of every key path in it."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path`` or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.file, message, self.line_of(path), format_path(path))


class YamlProblems(Exception):
    """Raised by :func:`load_yaml` with every problem of one file."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def load_yaml(path: Path, display: str | None = None) -> Document:
    """Parse ``path`` into a :class:`Document` or raise :class:`YamlProblems`."""
    name = display or str(path)
    raw = path.read_bytes()
    if len(raw) > _MAX_BYTES:
        raise YamlProblems([Problem(name, f"file is larger than {_MAX_BYTES} bytes")])
    text = _decode(raw, name)
    try:
        _check_depth(text, name)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([_syntax_problem(exc, name)]) from None
    except yaml.reader.ReaderError as exc:
        # libyaml's position counts UTF-8 bytes, not characters: an "ä" earlier in the file
        # would move it on. The reader stops at the first such character, so find that.
        found = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line = text[: found if found >= 0 else exc.position].count("\n") + 1
        message = f"not valid YAML: control character #x{exc.character:04x} is not allowed"
        raise YamlProblems([Problem(name, message, line)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(name, f"not valid YAML: {exc}")]) from None
    builder = _Builder(name)
    data = builder.build(node, ()) if node is not None else None
    if builder.problems:
        raise YamlProblems(builder.problems)
    return Document(name, data, builder.lines)


def _syntax_problem(exc: yaml.MarkedYAMLError, name: str) -> Problem:
    line = exc.problem_mark.line + 1 if exc.problem_mark else None
    message = f"not valid YAML: {exc.problem}"
    if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
        # e.g. "while parsing a flow sequence" that opened on an earlier line
        message += f" ({exc.context} that began on line {exc.context_mark.line + 1})"
    return Problem(name, message, line)


def _check_depth(text: str, name: str) -> None:
    """Refuse nesting deeper than ``_MAX_DEPTH`` before libyaml's recursive composer sees it."""
    if text.count("[") + text.count("{") < _MAX_DEPTH and len(text) < 64_000:
        return  # cannot nest that deep in flow style, and block style needs long lines
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > _MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise _too_deep(name, line)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # PyYAML 6.0.4's scanner refuses deep flow nesting itself, ahead of the events
        if "nesting depth" not in str(exc.problem):
            raise
        raise _too_deep(name, exc.problem_mark.line + 1 if exc.problem_mark else None) from None


def _too_deep(name: str, line: int | None) -> YamlProblems:
    return YamlProblems([Problem(name, f"nested deeper than {_MAX_DEPTH} levels", line)])


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = (
            f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}; "
            "save the file as UTF-8"
        )
        raise YamlProblems([Problem(name, message, line)]) from None


class _Builder:
    """Turns a composed node tree into plain values, recording lines and problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self._seen: set[int] = set()
        self._constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        # libyaml resolves an alias to the very node it names: meeting a node twice means an
        # alias, refused before it can expand (the "billion laughs" alias bomb).
        if id(node) in self._seen:
            problem = Problem(self.file, "anchors and aliases (&, *) are not supported; write it out",
                              self._nearest_line(path), format_path(path))
            self.problems.append(problem)
            return None
        self._seen.add(id(node))
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _nearest_line(self, path: KeyPath) -> int | None:
        # libyaml hands back the anchored node itself, so the alias's own position is lost;
        # the key it is the value of (or the nearest one above) is where the operator looks.
        for end in range(len(path), -1, -1):
            if (line := self.lines.get(path[:end])) is not None:
                return line
        return None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                self._add(key_node, path, "keys must be plain words (no merge keys or complex keys)")
                continue
            key = key_node.value
            key_path = (*path, key)
            if key in result:
                first = self.lines.get(key_path)
                self._add(key_node, key_path, f"duplicate key (first given on line {first})")
                continue
            self.lines[key_path] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, key_path)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        if node.tag not in _CORE_TAGS:
            self._add(node, path, f"tags such as {node.tag!r} are not supported; write plain values")
            return None
        if not node.style and node.value.lower() in ("y", "n"):
            # YAML 1.1 booleans too, though PyYAML's resolver leaves them as text
            self._trap(node, path, "bool")
            return None
        if node.style or node.tag == _STR_TAG:  # quoted, block text, or plain text
            return node.value
        text = node.value
        lowered = text.lower()
        if lowered in _NULL_12:
            return None
        if lowered in _BOOL_12:
            return _BOOL_12[lowered]
        if _INT_12.match(text):
            return int(text)
        if node.tag == _TIMESTAMP_TAG:
            return self._timestamp(node, path)
        if node.tag == _FLOAT_TAG and _FLOAT_12.match(text):
            return float(text)
        if node.tag != _STR_TAG:
            self._trap(node, path)
            return None
        return text

    def _timestamp(self, node: yaml.ScalarNode, path: KeyPath) -> date | datetime | None:
        try:
            value: date | datetime = self._constructor.construct_yaml_timestamp(node)
        except ValueError:
            self._add(node, path, f"{node.value!r} is not a real date (expected YYYY-MM-DD)")
            return None
        return value

    def _trap(self, node: yaml.ScalarNode, path: KeyPath, tag: str = "") -> None:
        tag = tag or node.tag.rsplit(":", 1)[-1]
        if tag == "bool":
            message = _bool_trap(node.value)
        elif tag == "int":
            message = _int_trap(node, self._constructor)
        else:
            message = _trap_message(node.value, _KIND_WORDS.get(tag, f"a {tag}"), "text")
        self._add(node, path, message)

    def _add(self, node: yaml.Node, path: KeyPath, message: str) -> None:
        self.problems.append(
            Problem(self.file, message, node.start_mark.line + 1, format_path(path))
        )


# -- what to write instead of a YAML 1.1 trap -------------------------------------------------
# Each message offers the spellings that every YAML tool reads alike, each as `write X`: the
# text in quotes and, where the operator may have meant a value (a yes/no, a number), that
# value written plainly. Which one fits depends on the key, which this module does not know,
# so both are offered; the schema then accepts the one that fits.

_YES_1_1 = {"y", "yes", "on", "true"}
_CLOCK_LIKE = re.compile(r"\d{1,2}:\d{2}$")


def _trap_message(text: str, reading: str, quoted_for: str, plain: str = "") -> str:
    message = (f"unquoted {text!r} is read as {reading} by YAML 1.1 tools; "
               f'write "{text}" in quotes for {quoted_for}')
    return f"{message}, or write {plain}" if plain else message


def _bool_trap(text: str) -> str:
    value = "true" if text.lower() in _YES_1_1 else "false"
    reading = f"a yes/no value ({value})"
    return _trap_message(text, reading, "text", f"{value} for the yes/no value")


def _int_trap(node: yaml.ScalarNode, constructor: yaml.SafeLoader) -> str:
    text = node.value
    try:
        reading = f"the number {constructor.construct_yaml_int(node)}"
    except ValueError:  # "0b_" and the like: a number to YAML 1.1, but none that Python reads
        reading = "a number"
    if ":" in text:  # sexagesimal, 12:30 -> 750: nobody means the number
        quoted_for = "a time of day or text" if _CLOCK_LIKE.match(text) else "text"
        return _trap_message(text, reading, quoted_for)
    quoted_for = "text such as a postcode" if text.isdigit() else "text"
    number = _meant_number(text)
    plain = "" if number is None else f"{number} for the number"
    return _trap_message(text, reading, quoted_for, plain)


def _meant_number(text: str) -> int | None:
    """The number someone writing ``text`` most likely means: ``00100`` is 100 (not octal 64)."""
    cleaned = text.replace("_", "")
    base = 0 if cleaned.lstrip("+-")[:2].lower() in ("0x", "0b") else 10
    try:
        return int(cleaned, base)
    except ValueError:
        return None
