-- Contests as a federation announces them (seed 001, plan 3): organiser, host and co-organisers
-- (主办, 承办, 协办), date and place, events, a registration window, team rules, and a lifecycle
-- draft → open → closed → judging → published.

-- 会员状态: retired members whose unit closed are "retained" by a parent union; only active
-- members are fielded in a team. Kept from MemberStatusChanged; a row without one is active.
ALTER TABLE members ADD COLUMN status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'retained', 'left'));

ALTER TABLE contests
    ADD COLUMN ends_on            date,
    ADD COLUMN host_name          text,                        -- 承办单位
    ADD COLUMN host_org_id        uuid,                        -- when the host is a unit of the tree
    ADD COLUMN co_organisers      jsonb NOT NULL DEFAULT '[]', -- 协办单位: [{"name": ..., "org_id": ...|null}]
    ADD COLUMN status             text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'open', 'closed', 'judging', 'published')),
    ADD COLUMN opens_at           timestamptz,                 -- 报名时间, shown in Beijing time
    ADD COLUMN closes_at          timestamptz,                 -- exclusive
    ADD COLUMN team_based         boolean NOT NULL DEFAULT false,
    ADD COLUMN min_team_size      integer NOT NULL DEFAULT 4 CHECK (min_team_size >= 1),
    ADD COLUMN max_team_size      integer CHECK (max_team_size IS NULL OR max_team_size >= 1),
    ADD COLUMN min_women          integer NOT NULL DEFAULT 1 CHECK (min_women >= 0),
    ADD COLUMN team_cap           integer CHECK (team_cap IS NULL OR team_cap >= 1),
    ADD COLUMN max_teams_per_unit integer CHECK (max_teams_per_unit IS NULL OR max_teams_per_unit >= 1),
    ADD COLUMN status_changed_at  timestamptz,
    ADD COLUMN status_changed_by  text,
    ADD CONSTRAINT contests_window CHECK (closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at),
    ADD CONSTRAINT contests_dates CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on),
    ADD CONSTRAINT contests_team_sizes CHECK (max_team_size IS NULL OR max_team_size >= min_team_size);

-- 比赛项目: skill events (技能项目) and fun events (趣味项目), in the announcement's order.
CREATE TABLE contest_events (
    id         uuid PRIMARY KEY,
    contest_id uuid NOT NULL REFERENCES contests (id),
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('skill', 'fun')),
    position   integer NOT NULL CHECK (position >= 1),
    UNIQUE (contest_id, position),
    UNIQUE (contest_id, name)
);

-- A unit's team (参赛队). Order of arrival (seq) settles the waiting list: first come, first served.
CREATE TABLE contest_teams (
    id               uuid PRIMARY KEY,
    contest_id       uuid NOT NULL REFERENCES contests (id),
    seq              bigserial NOT NULL,
    name             text NOT NULL,
    union_id         uuid NOT NULL,            -- the registering unit
    union_name       text NOT NULL,
    org_path         uuid[] NOT NULL,          -- the registering unit's path
    leader_member_id uuid NOT NULL,
    member_ids       uuid[] NOT NULL,          -- as registered; kept after a withdrawal
    status           text NOT NULL CHECK (status IN ('registered', 'waitlisted', 'withdrawn')),
    promoted_at      timestamptz,              -- moved up from the waiting list
    registered_at    timestamptz NOT NULL DEFAULT now(),
    registered_by    text NOT NULL,
    withdrawn_at     timestamptz,
    withdrawn_by     text
);
CREATE INDEX contest_teams_contest ON contest_teams (contest_id, status, seq);
CREATE INDEX contest_teams_org_path ON contest_teams USING gin (org_path);

-- Who is in a team that still stands (registered or waiting): one team per person per contest.
-- Rows go when their team withdraws; the team keeps member_ids.
CREATE TABLE contest_team_members (
    team_id     uuid NOT NULL REFERENCES contest_teams (id),
    contest_id  uuid NOT NULL REFERENCES contests (id),
    member_id   uuid NOT NULL,
    member_name text NOT NULL,
    gender      text NOT NULL,
    union_id    uuid NOT NULL,                -- the member's union when registered, for their entry
    union_name  text NOT NULL,
    org_path    uuid[] NOT NULL,
    is_leader   boolean NOT NULL,
    event_id    uuid REFERENCES contest_events (id),
    PRIMARY KEY (team_id, member_id),
    UNIQUE (contest_id, member_id)
);
CREATE UNIQUE INDEX contest_team_members_one_leader ON contest_team_members (team_id) WHERE is_leader;

-- Per-person entries are what judges score: a registered team's members each have one (a waiting
-- team's members get theirs when it moves up; a withdrawn team's are removed).
ALTER TABLE contest_entries
    ADD COLUMN team_id  uuid REFERENCES contest_teams (id),
    ADD COLUMN event_id uuid REFERENCES contest_events (id);
CREATE INDEX contest_entries_team ON contest_entries (team_id);
CREATE INDEX contest_entries_event ON contest_entries (contest_id, event_id);
