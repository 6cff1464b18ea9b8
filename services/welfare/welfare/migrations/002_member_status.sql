-- Membership status from MemberStatusChanged / MemberLeft: a member who left is not aided anew.
ALTER TABLE members ADD COLUMN status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'retained', 'left'));
