-- The backfill rewrites the index at start-up; nothing to undo.
SELECT 1;
