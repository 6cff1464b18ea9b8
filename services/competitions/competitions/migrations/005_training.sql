-- Training (培训班) beside the skill contests (issue 14): programmes the work plans name
-- (集体协商指导员, 职代会代表, 工会干部, 就业/技能培训), organised by a unit for members of its
-- subtree: enrolment from the member register, attendance per session, completion by a rule,
-- certificates. Completion travels to membership's member file as TrainingCompleted.

-- The reason of a member's latest status change (MemberStatusChanged.reason): a member retained
-- (会籍保留) as `unemployed` may take 就业培训. Members retained before this column existed have
-- no reason here until their status changes again.
ALTER TABLE members ADD COLUMN status_reason text;

CREATE TABLE training_programmes (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL,
    kind                text NOT NULL
        CHECK (kind IN ('bargaining_instructor', 'congress_delegate', 'union_officer', 'job_skills', 'other')),
    org_id              uuid NOT NULL,           -- the organising unit
    org_path            uuid[] NOT NULL,         -- its path: who manages the programme, whom it may enrol
    starts_on           date NOT NULL,           -- Beijing days
    ends_on             date NOT NULL,
    place               text,
    sessions            integer NOT NULL CHECK (sessions BETWEEN 1 AND 500),   -- 课次
    min_sessions        integer NOT NULL,        -- 结业: attended at least this many
    assessment_required boolean NOT NULL DEFAULT false,                        -- and passed the 考核
    capacity            integer CHECK (capacity IS NULL OR capacity >= 1),
    unemployed_only     boolean NOT NULL DEFAULT false,                        -- 就业培训 for the unemployed
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'running', 'finished')),
    finished_on         date,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    status_changed_at   timestamptz,
    status_changed_by   text,
    CONSTRAINT training_dates CHECK (ends_on >= starts_on),
    CONSTRAINT training_min_sessions CHECK (min_sessions BETWEEN 1 AND sessions),
    CONSTRAINT training_unemployed_only CHECK (NOT unemployed_only OR kind = 'job_skills')
);
CREATE INDEX training_programmes_org_path ON training_programmes USING gin (org_path);
CREATE INDEX training_programmes_starts ON training_programmes (starts_on, id);

-- One row per member enrolled; union and path as they were at enrolment (figures count a member
-- where they were trained). Completion is decided once, when the programme finishes.
CREATE TABLE training_enrolments (
    programme_id      uuid NOT NULL REFERENCES training_programmes (id),
    member_id         uuid NOT NULL,
    member_name       text NOT NULL,
    union_id          uuid NOT NULL,
    union_name        text NOT NULL,
    org_path          uuid[] NOT NULL,
    seq               bigserial NOT NULL,        -- order of arrival
    enrolled_at       timestamptz NOT NULL DEFAULT now(),
    enrolled_by       text NOT NULL,
    assessment_passed boolean,                   -- NULL: not assessed
    completed         boolean,                   -- NULL until the programme finishes
    completed_on      date,
    certificate_no    text UNIQUE,               -- 结业证书编号, only for those who completed
    PRIMARY KEY (programme_id, member_id),
    CHECK (certificate_no IS NULL OR completed)
);
CREATE INDEX training_enrolments_member ON training_enrolments (member_id);
CREATE INDEX training_enrolments_org_path ON training_enrolments USING gin (org_path);

-- Attendance (出勤): who was present at each session, recorded as one list per session.
CREATE TABLE training_attendance (
    programme_id uuid NOT NULL,
    session      integer NOT NULL CHECK (session >= 1),
    member_id    uuid NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL,
    PRIMARY KEY (programme_id, session, member_id),
    FOREIGN KEY (programme_id, member_id) REFERENCES training_enrolments (programme_id, member_id)
);
CREATE INDEX training_attendance_member ON training_attendance (programme_id, member_id);

-- Serial of certificate numbers (PX-<year>-<kind code>-<serial>): unique, never reused.
CREATE SEQUENCE training_certificate_serial;
