-- The staff search's index: one row per word a visit or document can be found by, folded
-- (lower case, accents dropped) and prefixed with what it is: `n:` a word of a name, `p:` the
-- digits of a phone (whole, and its last ten and eight), `4:` the last four symbols of a
-- document number, `r:` a visit's reference and `t:` a document's tracking number (so the
-- start-up backfill can tell what is indexed). A search reads one range of the primary key
-- (`term >= 'n:lop' AND term < 'n:loq'`), newest first. Written in the transaction that writes
-- the visit or document; rows written before this migration are indexed at start-up.
-- COLLATE "C": the range must compare bytes, whatever the database's collation.
CREATE TABLE search_terms (
    post_code TEXT NOT NULL,
    term      TEXT COLLATE "C" NOT NULL,
    target    TEXT NOT NULL CHECK (target IN ('visit', 'document')),
    target_id BIGINT NOT NULL,
    PRIMARY KEY (post_code, term, target, target_id)
);
-- Every word of one visit or document: the other words of a several-word search, and the
-- backfill's "already indexed?".
CREATE INDEX search_terms_target ON search_terms (target, target_id, post_code, term);
