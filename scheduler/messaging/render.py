"""Names and sentences for a language: display names of ids, meeting titles, reasons and
problems, and a body's meetings as feed events. Pure: reads plain values, renders text."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.catalogue.model import Body, Catalogue
from scheduler.planning.planner import Meeting, PlanProblem

from .ical import FeedEvents
from .texts import render


class Renderer:
    """Names and sentences for one catalogue in one language."""

    def __init__(self, catalogue: Catalogue, language: str) -> None:
        self.catalogue, self.language = catalogue, language
        self._names: dict[str, str] = {}
        self._reasons: dict[str, list[str]] = {}

    def name(self, ident: str) -> str:
        """The display name of an organisation, body or group id (the id if unknown)."""
        if ident not in self._names:
            self._names[ident] = self._lookup(ident)
        return self._names[ident]

    def _lookup(self, ident: str) -> str:
        if ident in self.catalogue.organisations:
            return self.catalogue.organisations[ident].name.get(self.language)
        if ident in self.catalogue.bodies:
            return self.catalogue.bodies[ident].name.get(self.language)
        if ident in self.catalogue.groupings:
            return self.catalogue.groupings[ident].name.get(self.language)
        member = self.catalogue.member_of(ident)
        return member.name.get(self.language) if member else ident

    def title(self, meeting: Meeting) -> str:
        title = f"{self.name(meeting.body)} {meeting.start.year}"
        return f"{title}, {self.name(meeting.group)}" if meeting.group else title

    def reasons(self, meeting: Meeting) -> list[str]:
        """Rendered once per meeting: the JSON and the .ics of one run share them."""
        if meeting.uid not in self._reasons:
            self._reasons[meeting.uid] = [
                render(r.key, r.params, self.language, self.name) for r in meeting.reasons
            ]
        return self._reasons[meeting.uid]

    def problem(self, problem: PlanProblem) -> str:
        return render(problem.key, problem.params, self.language, self.name)

    def participants(self, meeting: Meeting) -> str:
        """Who is invited, as the body's data names them: "Keski-Suomen kunnat", not 22 names."""
        body = self.catalogue.bodies[meeting.body]
        names = [self.name(c) for c in meeting.conveners]
        for member in body.members:
            ident = member.organisation or member.group or ""
            if meeting.group and member.group and meeting.group in self.catalogue.group_members_ids(ident):
                ident = meeting.group
            names.append(self.name(ident))
        return ", ".join(dict.fromkeys(names))

    def location(self, body: Body) -> str | None:
        return body.shape.location.get(self.language) if body.shape.location else None

NO_CONVENER = {"fi": "(ei nimetty)", "sv": "(inte namngiven)", "en": "(not named)"}


def feed_events(meetings: list[Meeting], renderer: Renderer, events: FeedEvents) -> Iterator[bytes]:
    """The VEVENTs of one body's meetings for its feed (``ical.write_feed``)."""
    body = renderer.catalogue.bodies[meetings[0].body]
    location = renderer.location(body)
    for meeting in meetings:
        yield events.event(meeting, title=renderer.title(meeting),
                           description=_description(meeting, renderer), location=location)


_DESCRIPTION_LABELS = {
    "fi": ("Koollekutsuja", "Osallistujat", "Perusteet"),
    "sv": ("Sammankallare", "Deltagare", "Grunder"),
    "en": ("Convener", "Participants", "Reasons"),
}


def _description(meeting: Meeting, renderer: Renderer) -> str:
    conv, orgs, why = _DESCRIPTION_LABELS[renderer.language]
    conveners = ", ".join(renderer.name(c) for c in meeting.conveners) or NO_CONVENER[renderer.language]
    return "\n".join([
        f"{conv}: {conveners}",
        f"{orgs}: {renderer.participants(meeting)}",
        f"{why}:",
        *(f"- {line}" for line in renderer.reasons(meeting)),
    ])


