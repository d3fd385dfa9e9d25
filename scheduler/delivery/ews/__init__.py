"""The ``ews`` backend: meetings and plain messages through Exchange Web Services.

For on-premises Exchange, and for Exchange Online tenants that allow-list the app until EWS
is switched off there on 1 Apr 2027 (tech.md section 0.1; Graph is the M365 default). The
meeting is a CalendarItem created in the organiser's mailbox with its attendees, so Exchange
sends the invitations, updates and cancellations and collects the answers (ports.py).

``EwsMailer`` here owns one Account per organiser mailbox, creating each meeting once
(looked up by our UID before and after an unanswered CreateItem) and sending each plain
message once (our outbox key on it, looked up in Sent Items and the Outbox when an earlier
attempt ended uncertain). The modules: ``configuration`` the exchangelib Configuration (a
fixed ``service_endpoint``, a pinned ``version``, no autodiscover) and its TLS, ``faults``
the retry policy and the mapping of EWS faults to DeliveryRejected / DeliveryUnavailable,
``items`` our meetings and messages as exchangelib items, ``fields`` the extended
properties, ``availability`` free/busy through GetUserAvailability, ``redaction`` keeping
secrets (password, client secret, access token, Authorization headers) out of exception text
and out of the log records exchangelib and requests-oauthlib write at DEBUG. What EWS shares
with Graph is in ``..exchange``.

Nothing here changes exchangelib or logging when imported: an EwsMailer sets up what it
needs when it is made (``fields.register_fields``, ``redaction.install_common``) or first
configured (its own redaction, its own non-verifying protocol), and ``close`` removes what
is its own.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any, ClassVar

from exchangelib import (  # type: ignore[import-untyped]
    IMPERSONATION,
    UID,
    Account,
    CalendarItem,
    EWSTimeZone,
    FolderCollection,
    Message,
)
from exchangelib import errors as ews_errors
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY  # type: ignore[import-untyped]

from scheduler.delivery import exchange
from scheduler.delivery.ports import (
    AnswerReader,
    Answers,
    CalendarEvent,
    DeliveryError,
    DeliveryRejected,
    DeliveryUnavailable,
    EventKeeper,
    EventReceipt,
    FreeBusyReader,
    MessageSender,
    Person,
    Receipt,
)

from .availability import busy_times
from .configuration import (
    AccessType,
    Auth,
    UnverifiedProtocol,
    access_type_for,
    make_configuration,
    make_credentials,
    pinned_version,
)
from .faults import AnswerLost, Calls, maybe_sent, no_blind_resend
from .fields import GOID_FIELD, KEY_FIELD, register_fields
from .items import EVENT_FIELDS, HELSINKI, answers, fill, message_fields
from .redaction import Redaction, install_common, redact

log = logging.getLogger(__name__)


class EwsMailer(MessageSender, EventKeeper, FreeBusyReader, AnswerReader):
    name: ClassVar[str] = "ews"

    def __init__(
        self,
        service_endpoint: str = "",
        auth: Auth = "oauth2",
        username: str = "",
        password_file: str = "",
        tenant_id: str = "",
        client_id: str = "",
        client_secret_file: str = "",
        version: str = "Exchange2016",
        timeout: float = 30.0,
        retry_seconds: int = 60,
        verify_tls: bool = True,
        access_type: AccessType = "",
        token_url: str = "",
    ) -> None:
        if auth not in ("oauth2", "ntlm", "basic"):
            raise ValueError(f"ews: auth must be oauth2, ntlm or basic, not {auth!r}")
        if not service_endpoint:
            raise ValueError("ews: service_endpoint is required (autodiscover is not used)")
        self.service_endpoint, self.auth = service_endpoint, auth
        self.username, self.tenant_id, self.client_id = username, tenant_id, client_id
        self.timeout, self.retry_seconds = timeout, retry_seconds
        self.access_type, self.token_url = access_type, token_url
        self.verify_tls = verify_tls
        self._password_file, self._client_secret_file = password_file, client_secret_file
        self._version = pinned_version(version)
        if not verify_tls:
            log.warning("ews: TLS certificates of %s are not verified", service_endpoint)
        self._config: Any = None
        self._accounts: dict[str, Any] = {}
        self._accounts_lock = threading.Lock()
        self._redaction = Redaction()  # this mailer's own secrets, once read (_configuration)
        self._calling = Calls(service_endpoint, self._who, self._redact)
        # The set-up exchangelib and logging need, done here rather than on import.
        register_fields()
        install_common()

    # -- the ports -------------------------------------------------------------------------

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """CreateItem with SendAndSaveCopy, ``key`` on the message as an extended property
        (fields.OutboxKey). CreateItem has no idempotency key, so a request that may have
        reached Exchange without its answer reaching us (a timeout, a dropped connection, a
        503) is neither re-sent by exchangelib (no_blind_resend) nor taken for lost: it ends
        "uncertain", and the next attempt (``again``) looks for the key first."""
        sender = exchange.sender(message)
        exchange.refuse_calendar_part(message, "ews")
        fields = message_fields(message)
        receipt = Receipt(str(message["Message-ID"]))
        with self._calling("send a message", sender):
            account = self._account(sender)
            if again and self._already_sent(account, key):
                log.info("ews: a message from %s: the earlier attempt had gone; not sent again",
                         sender)
                return receipt
            item = Message(account=account, folder=account.sent, **fields, **{KEY_FIELD: key})
            try:
                with no_blind_resend():
                    item.send_and_save()
            except Exception as exc:
                if not maybe_sent(exc):
                    raise  # refused, or never connected: _calling says which
                reason = str(exc) if isinstance(exc, AnswerLost) else exc.__class__.__name__
                raise DeliveryUnavailable(
                    f"ews: no answer to sending a message from {sender} ({reason}); "
                    "Exchange may have sent it, so the next attempt looks for it in Sent Items "
                    "and the Outbox before sending", uncertain=True) from None
        return receipt

    def _already_sent(self, account: Any, key: str) -> bool:
        """Whether a message carrying ``key`` is in the sender's Sent Items (the copy
        SendAndSaveCopy saves once transport has taken the message) or still in its Outbox:
        one FindItem over both folders ("an unlimited number of folders can be defined for
        the search", ParentFolderIds) with an IsEqualTo restriction on fields.OutboxKey. Not
        the whole mailbox: "FindItem only supports shallow or soft-deleted traversals of a
        folder. To perform deep traversals, use search folders" (FindItemType.Traversal),
        and the AllItems search folder is not a distinguished one. exchangelib asks for the
        Outbox folder's id once per Account (GetFolder)."""
        folders = FolderCollection(account=account, folders=[account.sent, account.outbox])
        return bool(folders.filter(**{KEY_FIELD: key}).exists())

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        # EWS has no transactionId: our UID is the idempotency key. A retry of this row (same
        # key, same UID) finds the item an earlier, unanswered CreateItem made; so does the
        # look-up right after a CreateItem whose answer was lost.
        del key
        with self._calling("create the meeting", event.organizer.email):
            account = self._account(event.organizer.email)
            found = self._find_by_uid(account, event.uid)
            if found is not None:
                return EventReceipt(found.id, ical_uid=found.uid or event.uid)
            item = CalendarItem(account=account, folder=account.calendar, uid=event.uid)
            fill(item, event, existing={})
            try:
                with no_blind_resend():
                    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
            except (AnswerLost, ews_errors.ErrorTimeoutExpired) as exc:
                found = self._find_by_uid(account, event.uid)
                if found is None:
                    # Not there (yet): the outbox tries again later, and looks up first.
                    reason = str(exc) if isinstance(exc, AnswerLost) else "a timeout"
                    raise DeliveryUnavailable(
                        f"ews: no answer to creating {event.uid!r} in {event.organizer.email} "
                        f"({reason}) and no such item there yet") from None
                return EventReceipt(found.id, ical_uid=found.uid or event.uid)
        return EventReceipt(item.id, ical_uid=item.uid or event.uid)

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Busy, OOF and Tentative blocks per mailbox, as aware UTC datetimes, merged where
        they overlap (availability.busy_times). A mailbox the server answers with an error is
        not left out: the whole answer is refused (DeliveryUnavailable when that error is
        transient, DeliveryRejected naming every such mailbox otherwise), because a missing
        calendar would be read as a free one and a meeting planned over the convener's busy
        time. The caller then plans without calendars and says so (scheduler.__main__)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("ews: free_busy needs aware start and end datetimes")
        wanted = list(dict.fromkeys(mailboxes))
        if not wanted or start >= end:
            return {m: [] for m in wanted}
        asked = wanted[0] if len(wanted) == 1 else f"{len(wanted)} mailboxes"
        with self._calling("read free/busy", asked):
            # Whom the request acts as: an app-only token must name a mailbox in the
            # ExchangeImpersonation header (exchangelib#735); the first convener's will do.
            account = self._account(wanted[0])
            identity = account.identity if account.access_type == IMPERSONATION else None
            return busy_times(account.protocol, identity, wanted, start, end)

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        del key
        with self._calling("update the meeting", event.organizer.email):
            item = self._fetch(remote_id, event.organizer.email)
            existing = {a.mailbox.email_address.lower(): a for a in item.required_attendees or []}
            fill(item, event, existing=existing)
            item.save(update_fields=EVENT_FIELDS,
                      send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
        return EventReceipt(item.id, ical_uid=item.uid or event.uid)

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str, key: str) -> Receipt:
        del key
        with self._calling("cancel the meeting", event.organizer.email):
            item = self._fetch(remote_id, event.organizer.email)
            item.cancel(body=comment)  # CancelCalendarItem: the attendees get the comment
        return Receipt(remote_id)

    def responses(self, remote_id: str, organizer: Person) -> dict[str, str]:
        with self._calling("read the answers", organizer.email):
            return answers(self._fetch(remote_id, organizer.email))

    def read_answers(self, events: Sequence[tuple[str, Person]]
                     ) -> dict[str, Answers | DeliveryError]:
        """``responses`` for each event, one GetItem at a time; a failure is that event's."""
        got: dict[str, Answers | DeliveryError] = {}
        for remote_id, organizer in events:
            try:
                got[remote_id] = self.responses(remote_id, organizer)
            except (DeliveryRejected, DeliveryUnavailable) as exc:
                got[remote_id] = exc
        return got

    def close(self) -> None:
        if self._config is not None:
            with contextlib.suppress(Exception):  # closing never fails a run
                next(iter(self._accounts.values())).protocol.close()
        self._accounts.clear()
        self._redaction.remove()

    # -- inside -----------------------------------------------------------------------------

    def _find_by_uid(self, account: Any, uid: str) -> Any:
        """The organiser's calendar item with our iCalendar UID, or None (FindItem with an
        IsEqualTo restriction on PidLidGlobalObjectId, fields.GlobalObjectId)."""
        try:
            # Plain bytes: the QuerySet deep-copies its filter, and a copied UID is encoded a
            # second time (UID.__new__ takes the UID text), so nothing would ever match.
            value = bytes(UID(uid))
        except UnicodeEncodeError:  # exchangelib's UID helper writes the UID as ASCII
            raise DeliveryRejected(f"ews: UID {uid!r} is not ASCII; it cannot be looked up, "
                                   "so it is not created either") from None
        found = list(account.calendar.filter(**{GOID_FIELD: value}).only("uid"))
        if len(found) > 1:
            log.warning("ews: %d items with UID %r in %s; using the first", len(found), uid,
                        account.primary_smtp_address)
        return found[0] if found else None

    def _fetch(self, remote_id: str, mailbox: str) -> Any:
        account = self._account(mailbox)
        [item] = list(account.fetch(ids=[(remote_id, None)], folder=account.calendar))
        if isinstance(item, Exception):  # GetItem returns item-level errors, not raises them
            raise item
        if not isinstance(item, CalendarItem):
            raise DeliveryRejected(f"ews: {remote_id!r} in {mailbox} is not a calendar item")
        return item

    def _account(self, mailbox: str) -> Any:
        key = mailbox.lower()
        # Delivery workers call from several threads; one Configuration and one Account per
        # mailbox, or connections would be opened twice and one set never closed.
        with self._accounts_lock:
            if key not in self._accounts:
                if self._config is None:
                    self._config = self._configuration()
                self._redaction.install()  # again after a close()
                account = Account(
                    mailbox, config=self._config, autodiscover=False,
                    access_type=access_type_for(self.access_type, self.auth, self.username, key),
                    default_timezone=EWSTimeZone(HELSINKI))
                if not self.verify_tls:
                    # This Configuration's own protocol, not exchangelib's process-wide
                    # HTTP_ADAPTER_CLS (configuration.UnverifiedProtocol).
                    account.protocol = UnverifiedProtocol(config=self._config)
                # exchangelib has no per-Configuration timeout; the Protocol is shared by all
                # accounts on this endpoint and these credentials.
                account.protocol.TIMEOUT = self.timeout
                self._accounts[key] = account
            return self._accounts[key]

    def _configuration(self) -> Any:
        if self.auth == "oauth2":
            if not self.client_id:
                raise DeliveryRejected("ews: auth is oauth2 but client_id is not set")
            secret = exchange.read_secret("ews", self._client_secret_file, "client_secret_file")
        else:
            if not self.username:
                raise DeliveryRejected(f"ews: auth is {self.auth} but username is not set")
            secret = exchange.read_secret("ews", self._password_file, "password_file")
        self._redaction = Redaction([secret])
        credentials = make_credentials(self.auth, secret, username=self.username,
                                       client_id=self.client_id, tenant_id=self.tenant_id,
                                       token_url=self.token_url)
        return make_configuration(self.service_endpoint, self.auth, credentials, self._version,
                                  self.retry_seconds)

    @property
    def _who(self) -> str:
        # Not repr() for the user: it would double the backslash of an NTLM DOMAIN\\user
        # and name an account that does not exist.
        return f"client id {self.client_id!r}" if self.auth == "oauth2" else f"'{self.username}'"

    def _redact(self, text: str) -> str:
        return redact(text, self._redaction.secrets)


__all__ = ["EwsMailer"]
