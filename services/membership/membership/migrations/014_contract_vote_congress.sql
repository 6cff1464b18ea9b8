-- The workers' congress that voted on a draft collective contract (NULL: all workers voted, or a
-- vote recorded before congresses were linked to contracts).
ALTER TABLE collective_contracts ADD COLUMN vote_congress_id uuid REFERENCES congresses (id);
