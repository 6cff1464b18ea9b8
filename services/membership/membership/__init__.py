"""Membership: the organisation tree and real-name members (组织与会员)."""
