"""The factory of MemberContactChanged (admission, re-joining, profile changes and imports raise
it): a member's whole contact, sealed under their data key, the key wrapped under the contact
key ring (`membership.member-contact.v2`; only notify holds the ring). Pure: no I/O."""
from __future__ import annotations

import uuid

from contracts.events import MemberContactChanged
from unionops.pii import DataKey, KeyRing, b64


def member_contact_changed(ring: KeyRing, dek: DataKey, member_id: uuid.UUID, name: str, email: str | None,
                           phone: str | None) -> MemberContactChanged:
    """The member's whole contact (latest wins at notify), sealed under their DEK."""
    return MemberContactChanged(
        member_id=member_id, name=name, data_key=b64(ring.wrap(dek)), data_key_id=dek.key_id,
        email_sealed=b64(dek.seal("email", email)) if email else None,
        phone_sealed=b64(dek.seal("phone", phone)) if phone else None)
