"""The catalogue is true to its source documents (issue 11): each document's validity, the
five measures of the 2026 plan as data, rules that rest only on the expired framework
agreement, what the documents say was held, and the warnings ``check`` gives for them."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from scheduler.catalogue.load import load_catalogue
from scheduler.catalogue.model import Catalogue, Months, PerTerm, PerYear, Precedes, cited
from scheduler.cli import main
from scheduler.errors import UserError
from scheduler.messaging.texts import LANGUAGES, render
from scheduler.service.check import catalogue_warnings
from tests.conftest import ROOT, body, make_catalogue

AUDIT = date(2026, 12, 2)  # the audit of the catalogue (December 2026)
BEFORE = date(2025, 6, 1)  # 001 was still in force
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def yaml_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- documents.yaml ---------------------------------------------------------------------------


def test_every_seed_is_a_document_with_its_validity(real_catalogue: Catalogue) -> None:
    documents = real_catalogue.documents
    assert sorted(documents) == ["000", "001", "002", "003", "004"]
    framework = documents["001"]
    assert (framework.valid_from, framework.valid_until) == (date(2023, 1, 1), date(2025, 12, 31))
    assert "1.1.2023-31.12.2025" in framework.note.fi if framework.note else False
    assert documents["000"].issued == date(2026, 3, 2)
    assert documents["003"].issued == date(2025, 5, 27)
    for number in ("000", "002", "003", "004"):  # they state no validity: left open, said so
        document = documents[number]
        assert document.valid_from is None and document.valid_until is None, number
        assert document.note is not None and document.valid_on(AUDIT), number
    assert not framework.valid_on(AUDIT) and framework.valid_on(BEFORE)


def test_every_source_cites_a_known_document_or_none(real_catalogue: Catalogue) -> None:
    texts = [s for b in real_catalogue.bodies.values() for s in b.sources]
    texts += [r.source for b in real_catalogue.bodies.values() for r in b.cadence]
    texts += [p.source for b in real_catalogue.bodies.values() for p in b.conveners if p.source]
    assert texts and all(set(cited(t)) <= set(real_catalogue.documents) for t in texts)
    # a rule's source names its document first, so that its validity can be told
    for b in real_catalogue.bodies.values():
        for rule in b.cadence:
            assert cited(rule.source), (b.id, rule.source)


# -- measures.yaml ----------------------------------------------------------------------------


def test_the_five_measures_as_the_plan_gives_them(real_catalogue: Catalogue) -> None:
    measures = real_catalogue.measures
    assert [m.number for m in measures.values()] == [1, 2, 3, 4, 5]
    assert [m.id for m in measures.values()] == [f"toimenpide-{n}" for n in range(1, 6)]
    assert [m.title.fi for m in measures.values()] == [  # as 002 lists them
        "Asumisen kehittämisen työryhmä",
        "Vuorovaikutuksen sekä ennakollisen yhteistyön lisääminen",
        "Tietopohjan sisällön määrittäminen tilannekuvan pohjaksi",
        "Yhteinen edunvalvonnan ydinviesti",
        "Maakunnallisen valmiusharjoituksen toteuttaminen",
    ]
    for measure in measures.values():
        assert measure.title.sv and measure.title.en and measure.responsible
        assert cited(measure.source)[:1] == ("000",)
        assert all(cited(indicator.source) == ("000",) for indicator in measure.indicators)


def test_measure_1_housing_group_and_its_report(real_catalogue: Catalogue) -> None:
    measure = real_catalogue.measures["toimenpide-1"]
    assert measure.responsible[0].organisation == "hva"
    assert measure.responsible[1].group == "kunnat"
    working, report = measure.indicators
    assert (working.kind, working.body) == ("milestone", "asumisen-tyoryhma")
    assert report.kind == "milestone" and "Jyväskylän seudun" in report.title.fi
    assert report.deadline is not None and report.deadline.fi == "vuoden 2026 aikana"
    assert report.due == date(2026, 12, 31)


def test_measure_2_is_followed_by_external_indicators_without_a_meeting(
        real_catalogue: Catalogue) -> None:
    measure = real_catalogue.measures["toimenpide-2"]
    assert {i.kind for i in measure.indicators} == {"external"}
    assert all(i.body is None for i in measure.indicators)
    titles = " ".join(i.title.fi for i in measure.indicators)
    for words in ("Hyvinvointialueen strategian mittarit", "Kuntien strategiamittarit",
                  "Keski-Suomen strategian mittarit", "HYTE-kertoimen"):
        assert words in titles


def test_measure_3_has_the_four_milestones(real_catalogue: Catalogue) -> None:
    indicators = real_catalogue.measures["toimenpide-3"].indicators
    assert [i.id for i in indicators] == ["tietotarpeet-kartoitettu", "sisalto-maaritetty",
                                          "aikataulu-sovittu", "jakamisen-valine-sovittu"]
    assert {i.kind for i in indicators} == {"milestone"}


def test_measure_4_counts_the_advocacy_group_two_to_three_a_year(real_catalogue: Catalogue) -> None:
    [indicator] = real_catalogue.measures["toimenpide-4"].indicators
    assert (indicator.kind, indicator.body, indicator.min, indicator.max, indicator.per) == (
        "count", "vaikuttamisryhma", 2, 3, "year")
    [rule] = real_catalogue.bodies["vaikuttamisryhma"].rules_of(PerYear)
    assert (rule.min, rule.max) == (indicator.min, indicator.max)


def test_measure_5_exercise_is_due_by_the_end_of_the_term(real_catalogue: Catalogue) -> None:
    measure = real_catalogue.measures["toimenpide-5"]
    [indicator] = measure.indicators
    term_end = real_catalogue.region.terms[0].end
    assert (indicator.kind, indicator.body) == ("milestone", "valmiusharjoitus")
    assert indicator.deadline is not None and indicator.deadline.fi == "valtuustokauden aikana"
    assert indicator.due == measure.due == term_end == date(2029, 5, 31)
    assert "varautumisen-yhteistyoryhma" in measure.bodies


# -- rules resting on the expired framework agreement ------------------------------------------


def test_cited_reads_the_document_numbers_a_source_starts_with() -> None:
    assert cited("000 yhdyspintasuunnitelma 2026, luku 6") == ("000",)
    assert cited("000 ja 001: ”Puheenjohtajana on maakuntajohtaja”") == ("000", "001")
    assert cited("001/002 x") == ("001", "002")
    assert cited("612/2021 6–7 §: laki") == ()  # a statute, not document 612
    assert cited("Laki hyvinvointialueesta 611/2021 14 §") == ()


def test_kuntakokous_cadence_rests_only_on_the_expired_agreement(real_catalogue: Catalogue) -> None:
    kuntakokous = real_catalogue.bodies["kuntakokous"]
    [rule] = kuntakokous.rules_of(PerYear)
    assert cited(rule.source) == ("001",)
    assert real_catalogue.expired_only([rule.source], AUDIT) is True
    assert real_catalogue.expired_only([rule.source], BEFORE) is False
    [convener] = kuntakokous.conveners
    assert real_catalogue.expired_only([convener.source or ""], AUDIT) is True
    months = real_catalogue.bodies["seurantakokous"].rules_of(Months)[0]
    assert real_catalogue.expired_only([months.source], AUDIT) is True


def test_rules_the_2026_documents_confirm_are_not_expired(real_catalogue: Catalogue) -> None:
    [chair] = real_catalogue.bodies["ksturva"].conveners
    assert "000" in cited(chair.source or "")
    assert real_catalogue.expired_only([chair.source or ""], AUDIT) is False
    [convener] = real_catalogue.bodies["sivistysjohtajien-verkosto"].conveners
    assert real_catalogue.expired_only([convener.source or ""], AUDIT) is False
    yearly = real_catalogue.bodies["seurantakokous"].rules_of(PerYear)[0]
    assert real_catalogue.expired_only([yearly.source], AUDIT) is False
    assert real_catalogue.expired_only(["Laki 612/2021"], AUDIT) is False  # cites no document


def test_check_names_what_rests_only_on_001(real_catalogue: Catalogue) -> None:
    found = {(p.body, p.key) for p in catalogue_warnings(real_catalogue, AUDIT)}
    assert {("kuntakokous", "expired-rule"), ("kuntakokous", "expired-convener"),
            ("kuntakokous", "expired-co-preparer"), ("seurantakokous", "expired-rule"),
            ("strateginen-foorumi", "expired-convener"), ("strateginen-foorumi", "expired-rule"),
            ("kuntajohtajakokous", "expired-rule"), ("kansanedustajakokous", "expired-body"),
            ("verkosto-ict", "expired-body")} <= found
    assert not {key for body_id, key in found if body_id in ("ksturva", "sivistysjohtajien-verkosto",
                                                             "vaikuttamisryhma", "hyte-neuvottelut")
                and key.startswith("expired")}
    assert all(p.severity == "warning" for p in catalogue_warnings(real_catalogue, AUDIT))
    while_valid = catalogue_warnings(real_catalogue, BEFORE)
    assert not [p for p in while_valid if p.key.startswith("expired")]


def test_the_expired_rule_warning_reads_well_in_every_language(real_catalogue: Catalogue) -> None:
    [warning] = [p for p in catalogue_warnings(real_catalogue, AUDIT)
                 if (p.body, p.key) == ("kuntakokous", "expired-rule")]
    texts = {lang: render(warning.key, warning.params, lang, str) for lang in LANGUAGES}
    assert texts["fi"].startswith("Sääntö ”vähintään 1 kokous vuodessa” perustuu vain "
                                  "asiakirjaan 001, joka oli voimassa 31.12.2025 saakka")
    assert ("rests only on document 001 (valid until 31.12.2025); applied as the last agreed "
            "rule") in texts["en"]
    assert "som gällde till och med 31.12.2025" in texts["sv"]


# -- remote bodies without a join link ---------------------------------------------------------


def test_check_warns_for_a_remote_body_without_online_url() -> None:
    rule = [{"kind": "per-year", "min": 1, "source": "test"}]
    catalogue = make_catalogue([
        body("etana", rule, shape={"mode": "remote"}),
        body("linkki", rule, shape={"mode": "remote", "online_url": "https://meet.example.org/x"}),
        body("hybridi", rule, shape={"mode": "hybrid"}),
        body("paikan-paalla", rule, shape={"mode": "in-person"}),
        body("ei-rytmia", [], shape={"mode": "remote"}, gaps={"cadence": {"fi": "ei"}}),
    ])
    found = {(p.body, p.key) for p in catalogue_warnings(catalogue, AUDIT)}
    assert found == {("etana", "no-online-url-remote"), ("hybridi", "no-online-url-hybrid")}


def test_check_prints_the_warnings_and_passes(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("YHDYSPINTA_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    code = main(["--lang", "en", "check"], now=NOW)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[warning] hyte-neuvottelut: The meetings are remote, but no online meeting address" in out
    assert ("[warning] kuntakokous: The rule “at least 1 meeting a year” rests only on document "
            "001 (valid until 31.12.2025); applied as the last agreed rule") in out


# -- what the documents say happened -----------------------------------------------------------


def test_the_kuntakokous_of_18_2_2026_was_held(real_catalogue: Catalogue) -> None:
    [known] = real_catalogue.bodies["kuntakokous"].meetings
    assert (known.date, known.status) == (date(2026, 2, 18), "held")
    assert cited(known.source) == ("002",) and "18.2.2026" in known.source


def test_the_14_paragraph_negotiation_is_no_meeting_of_its_own(real_catalogue: Catalogue) -> None:
    negotiation = real_catalogue.bodies["hva-kunta-neuvottelu"]
    assert negotiation.cadence == [] and negotiation.meetings == []
    assert negotiation.gaps.cadence is not None and "18.2.2026" in negotiation.gaps.cadence.fi


def test_no_separate_negotiation_meeting_is_planned_on_18_2_2026(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("YHDYSPINTA_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    code = main(["plan", "--from", "2025-06-01", "--to", "2029-05-31", "--format", "json"],
                now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    out, err = capsys.readouterr()
    assert code == 0, err
    meetings = json.loads(out)["meetings"]
    assert not [m for m in meetings if m["body"] == "hva-kunta-neuvottelu"]
    on_the_day = [(m["body"], m["start"][11:16], m["status"]) for m in meetings
                  if m["start"].startswith("2026-02-18")]
    assert on_the_day == [("kuntakokous", "12:00", "held")]
    exercise = [m for m in meetings if m["body"] == "valmiusharjoitus"]
    preparation = [m for m in meetings if m["body"] == "varautumisen-yhteistyoryhma"]
    assert len(exercise) == 1 and len(preparation) == 1
    assert preparation[0]["start"] < exercise[0]["start"]


# -- details the documents do not give ---------------------------------------------------------


def test_details_not_in_the_documents_are_gone_or_marked(real_catalogue: Catalogue) -> None:
    bodies = real_catalogue.bodies
    [per_term] = bodies["valmiusharjoitus"].rules_of(PerTerm)
    assert (per_term.min, per_term.max) == (1, None)
    assert bodies["hyte-suunnittelukokoukset"].level != "statutory"
    [members] = bodies["vaikuttamisryhma"].members
    assert members.role is not None and "vaihtelee" in members.role.fi
    assert members.note is not None and members.note.fi.startswith("Oletus:")
    assert not any("palvelualueiden johtajat" in yaml_text(path)
                   for path in (ROOT / "bodies").glob("*.yaml"))
    note = real_catalogue.groupings["hyte-kuntaryhmat"].note
    assert note is not None and note.fi.startswith("Oletus:") and "esimerkiksi" in note.fi
    [precedes] = bodies["varautumisen-yhteistyoryhma"].rules_of(Precedes)
    assert precedes.body == "valmiusharjoitus"
    assert precedes.note is not None and precedes.note.fi.startswith("Oletus:")


def test_bodies_and_members_the_2026_plan_names(real_catalogue: Catalogue) -> None:
    named = {"varautumisen-yhteistyoryhma", "mal-tyoryhma", "ehkaisevan-tyon-verkosto",
             "ravitsemusryhma", "elamantapaohjaajien-verkosto", "liikunnan-tyoryhma",
             "ehkaisevan-paihdetyon-tyoryhma", "perhekeskus-yhdyshenkiloverkosto",
             "opiskeluhuollon-ohjausryhma", "tym-yhdyspintaverkosto",
             "tyollisyysalueiden-yhteistyopalaverit", "tyokyvyn-tuen-kehittajaryhma",
             "jyvaskylan-maahanmuuton-viranomaisverkosto", "kotoutumistyoryhma-aanekoski",
             "kotoutumistyoryhma-jamsa", "kotoutumistyoryhma-joutsa", "kumppanuuspoyta",
             "lvv-valmiustoimikunta"}
    assert named <= set(real_catalogue.bodies)
    for ident in named:
        found = real_catalogue.bodies[ident]
        assert all(cited(s) == ("000",) for s in found.sources), ident
        if not found.conveners:
            assert found.gaps.conveners is not None, ident
        if not found.members:
            assert found.gaps.members is not None, ident
    paperittomat = real_catalogue.bodies["paperittomat-verkosto"]
    invited = {p.organisation or p.group for p in paperittomat.members}
    assert invited == {"kunnat", "hva", "tyollisyysalueet", "kela", "kotokunta",
                       "jyvaskylan-seurakunta", "jarjestot"}


# -- bad measures and citations fail with file, line and key -----------------------------------


@pytest.fixture
def bodies(tmp_path: Path) -> Path:
    root = tmp_path / "bodies"
    shutil.copytree(ROOT / "bodies", root)
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_catalogue(root)
    return [str(problem) for problem in caught.value.problems]


def replace_once(path: Path, old: str, new: str) -> int:
    text = yaml_text(path)
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def test_a_measure_naming_an_unknown_body_fails_with_file_line_and_key(bodies: Path) -> None:
    path = bodies / "measures.yaml"
    line = replace_once(path, "bodies: [vaikuttamisryhma]", "bodies: [vaikutusryhma]")
    [problem] = problems_of(bodies)
    assert problem.startswith(f"{path}:{line}: measures[3].bodies[0]: ")
    assert "unknown body 'vaikutusryhma'" in problem


def test_a_count_indicator_must_agree_with_its_bodys_rule(bodies: Path) -> None:
    path = bodies / "measures.yaml"
    replace_once(path, "        min: 2\n        max: 3\n        per: year",
                 "        min: 1\n        max: 3\n        per: year")
    [problem] = problems_of(bodies)
    assert f"{path}:" in problem and "measures[3].indicators[0]" in problem
    assert "min 1 and max 3 differ from the 'per-year' rule of 'vaikuttamisryhma'" in problem


def test_a_source_citing_an_unknown_document_fails(bodies: Path) -> None:
    path = bodies / "valmiusharjoitus.yaml"
    line = replace_once(path, '    source: "000 yhdyspintasuunnitelma 2026, toimenpide 5: ”Toteutetaan',
                        '    source: "007 yhdyspintasuunnitelma 2026, toimenpide 5: ”Toteutetaan')
    [problem] = problems_of(bodies)
    assert problem.startswith(f"{path}:{line}: cadence[0].source: cites document '007'")


def test_a_document_valid_until_before_it_starts_fails(bodies: Path) -> None:
    replace_once(bodies / "documents.yaml", "valid_until: 2025-12-31", "valid_until: 2022-12-31")
    [problem] = problems_of(bodies)
    assert "documents.yaml" in problem and "documents[1]" in problem
    assert "valid_until 2022-12-31 is before valid_from 2023-01-01" in problem
