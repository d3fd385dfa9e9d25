"""The two extended properties the ews backend reads and writes, and their registration on
exchangelib's item classes.

exchangelib's documented way to use an extended property is to register it as a field of the
item class (``CalendarItem.register``), which changes that class for the whole process.
``register_fields`` does it explicitly, once, when an EwsMailer is set up; importing this
package changes nothing in exchangelib.
"""

from __future__ import annotations

import threading

from exchangelib import CalendarItem, ExtendedProperty, Message  # type: ignore[import-untyped]

from scheduler.delivery.exchange import OUTBOX_KEY_NAME, OUTBOX_KEY_SET

GOID_FIELD = "yhdyspinta_global_object_id"  # on CalendarItem
KEY_FIELD = "yhdyspinta_outbox_key"  # on Message


class GlobalObjectId(ExtendedProperty):  # type: ignore[misc]
    """PidLidGlobalObjectId (PSETID_Meeting, LID 0x3, binary): where Exchange keeps a meeting's
    iCalendar UID, wrapped as "vCal-Uid" when the UID is not an Outlook one (MS-OXOCAL
    2.2.1.27, MS-OXCICAL UID). calendar:UID itself cannot be used in a restriction
    (exchangelib marks it not searchable); exchangelib's ``UID`` helper builds the value."""

    distinguished_property_set_id = "Meeting"
    property_id = 3
    property_type = "Binary"


class OutboxKey(ExtendedProperty):  # type: ignore[misc]
    """Our outbox key on every plain message, the same named property the graph backend sets
    (graph.KEY_PROPERTY): exchange.OUTBOX_KEY_NAME in PS_PUBLIC_STRINGS ([MS-OXPROPS]
    1.3.2), a string. CreateItem with SendAndSaveCopy keeps it on the copy saved in Sent
    Items, and FindItem can restrict on it (IsEqualTo with an ExtendedFieldURI, "Properties
    and extended properties in EWS")."""

    property_set_id = OUTBOX_KEY_SET
    property_name = OUTBOX_KEY_NAME
    property_type = "String"


_REGISTERING = threading.Lock()


def register_fields() -> None:
    """Register GlobalObjectId on CalendarItem and OutboxKey on Message, unless they are
    there already: idempotent, and safe from several threads setting up mailers at once."""
    with _REGISTERING:
        for item_class, field, prop in ((CalendarItem, GOID_FIELD, GlobalObjectId),
                                        (Message, KEY_FIELD, OutboxKey)):
            if field not in {f.name for f in item_class.FIELDS}:
                item_class.register(field, prop)  # exchangelib's documented way (UID)
