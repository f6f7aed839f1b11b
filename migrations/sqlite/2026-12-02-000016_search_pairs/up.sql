-- The search index gains a term per pair of words of one person's name (`m:lop maria`), so a
-- two-word search reads one range. Emptying the index makes the start-up backfill write every
-- visit's and document's terms again, pairs included; until it has run, a search finds only
-- what is indexed so far (a million visits take about three minutes).
DELETE FROM search_terms;
