"""Shared fixtures: the real catalogue, and small catalogues built from plain dicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.catalogue.load import load_catalogue
from scheduler.catalogue.model import Body, Catalogue, Grouping, Organisation, Region

ROOT = Path(__file__).resolve().parent.parent
HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture(scope="session")
def real_catalogue() -> Catalogue:
    return load_catalogue(ROOT / "bodies")


def org(ident: str, kind: str = "municipality") -> dict[str, Any]:
    return {"id": ident, "kind": kind, "name": {"fi": ident, "sv": ident, "en": ident},
            "source": "test"}


def body(ident: str, cadence: list[dict[str, Any]], conveners: tuple[str, ...] = ("a",),
         **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ident, "name": {"fi": ident, "sv": ident, "en": ident}, "level": "network",
        "conveners": [{"organisation": c} for c in conveners], "cadence": cadence,
        "sources": ["test"],
    }
    if not conveners:
        data["gaps"] = {"conveners": {"fi": "ei nimetty"}}
    data.update(extra)
    return data


def make_catalogue(
    bodies: list[dict[str, Any]],
    organisations: tuple[str, ...] = ("a", "b", "c", "d", "e", "f"),
    groupings: list[dict[str, Any]] | None = None,
) -> Catalogue:
    region = Region.model_validate({
        "id": "test", "name": {"fi": "t", "sv": "t", "en": "t"}, "source": "test",
        "terms": [{"id": "2025-2029", "start": date(2025, 6, 1), "end": date(2029, 5, 31),
                   "source": "test"}],
    })
    orgs = {o: Organisation.model_validate(org(o)) for o in organisations}
    groups = {g["id"]: Grouping.model_validate(g) for g in groupings or []}
    parsed = {b["id"]: Body.model_validate(b) for b in bodies}
    return Catalogue(region, orgs, groups, parsed)


CatalogueFactory = Callable[..., Catalogue]
