-- A judge's raw score is no news for a union's group chat (and not a result before publication):
-- contest_scored no longer has a group-chat variant, so no bot subscribes to it.
UPDATE webhook_bots SET notice_kinds = array_remove(notice_kinds, 'contest_scored')
WHERE 'contest_scored' = ANY(notice_kinds);
