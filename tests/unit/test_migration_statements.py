"""A no-transaction migration runs statement by statement: the script is split at top-level
semicolons only, never inside strings, quoted names, dollar-quoted bodies or comments."""
from __future__ import annotations

from unionops.migrate import Migration, split_statements


def test_a_script_splits_at_top_level_semicolons_only():
    script = """-- unionops: no-transaction
-- a comment; with a semicolon
DROP INDEX CONCURRENTLY IF EXISTS ledgers_name;
CREATE INDEX CONCURRENTLY IF NOT EXISTS ledgers_name ON ledgers (name) WHERE name <> 'it''s; here';
CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;
/* a block; /* nested; */ comment */ SELECT "odd;name" FROM ledgers WHERE id = $1
"""
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[0].endswith("DROP INDEX CONCURRENTLY IF EXISTS ledgers_name")
    assert statements[1].endswith("'it''s; here'")
    assert statements[2].startswith("CREATE FUNCTION") and statements[2].endswith("LANGUAGE plpgsql")
    assert statements[3].endswith('SELECT "odd;name" FROM ledgers WHERE id = $1')


def test_comments_and_blank_lines_after_the_last_statement_are_no_statement():
    assert split_statements("SELECT 1;\n\n-- the end; really\n/* done */\n") == ["SELECT 1"]
    assert split_statements("-- only a comment\n") == []


def test_only_a_first_line_marker_takes_a_file_out_of_the_transaction(tmp_path):
    marked = tmp_path / "002_index.sql"
    marked.write_text("-- unionops: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n", encoding="utf-8")
    later = tmp_path / "003_index.sql"
    later.write_text("SELECT 1;\n-- unionops: no-transaction\n", encoding="utf-8")
    assert Migration("service/002_index.sql", marked, "").no_transaction
    assert not Migration("service/003_index.sql", later, "").no_transaction
