"""Members' contact details as notify keeps them: sealed under each member's data key (DEK), as
membership sent them on MemberContactChanged v2; the DEK wrapped under the contact key ring
(PII_CONTACT_KEYS, re-wrapped on receipt under its current KEK). Opened only by the dispatcher,
at send time (`open_contact`). The rows are written by `projections` (store, erase)."""
from __future__ import annotations

import uuid
from datetime import datetime

from contracts.events import EmployerContactChanged, MemberContactChanged
from unionops.pii import DataKey, KeyRing, mask_phone, unb64

# An employer side's address: sealed under the contact ring on the topic under this field, kept
# under the vault's field of the same name.
EMPLOYER_EMAIL_FIELD = EmployerContactChanged.email_field


def rows_from_events(ring: KeyRing, events: list[tuple[MemberContactChanged, datetime | None]]) -> list[tuple]:
    """(member_id, name, email_sealed, phone_sealed, phone_masked, key_id, wrapped_key, changed_at)
    per (event, the event's time). The masked phone (shown to staff) is the only thing opened here."""
    out = []
    for e, changed_at in events:
        dek = ring.unwrap(str(e.member_id), unb64(e.data_key))
        email, phone = unb64(e.email_sealed), unb64(e.phone_sealed)
        masked = mask_phone(dek.open("phone", phone)) if phone else None
        out.append((e.member_id, e.name, email, phone, masked, dek.key_id, ring.wrap(dek), changed_at))
    return out


def sealed_row(ring: KeyRing, member_id: uuid.UUID, name: str, email: str | None, phone: str | None,
               dek: DataKey | None = None) -> tuple:
    """A contact sealed under a data key made here (contacts from before v2; test fixtures), in
    the form of `rows_from_events`. No event time: taken as the latest word on the address."""
    dek = dek or DataKey.generate(str(member_id))
    return (member_id, name, dek.seal("email", email) if email else None,
            dek.seal("phone", phone) if phone else None, mask_phone(phone) if phone else None,
            dek.key_id, ring.wrap(dek), None)


def open_contact(ring: KeyRing, member_id: uuid.UUID, wrapped_key: bytes, field: str, sealed: bytes) -> str:
    """The dispatcher's one way to a member's address."""
    return ring.unwrap(str(member_id), bytes(wrapped_key)).open(field, bytes(sealed))
