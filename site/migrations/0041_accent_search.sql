-- Names and words regardless of accents and case ("muller" finds "Müller", "zoe" finds
-- "Zoë"): a word index beside the trigram one, kept in step by the same kind of triggers.
-- The trigram tokenizer folds accents only from SQLite 3.45; unicode61 has done so for long.
CREATE VIRTUAL TABLE proof_search_folded USING fts5 (
    customer_name, customer_email, texts, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER proof_search_folded_insert AFTER INSERT ON proofs
BEGIN
    INSERT INTO proof_search_folded (rowid, customer_name, customer_email, texts)
    VALUES (new.id, new.customer_name, new.customer_email, new.text);
END;
CREATE TRIGGER proof_search_folded_update AFTER UPDATE OF customer_name, customer_email, text ON proofs
BEGIN
    DELETE FROM proof_search_folded WHERE rowid = old.id;
    INSERT INTO proof_search_folded (rowid, customer_name, customer_email, texts)
    VALUES (new.id, new.customer_name, new.customer_email,
            new.text || char(10) || coalesce((SELECT group_concat(text, char(10)) FROM revisions
                                               WHERE proof_id = new.id), ''));
END;
CREATE TRIGGER proof_search_folded_revision AFTER INSERT ON revisions
BEGIN
    DELETE FROM proof_search_folded WHERE rowid = new.proof_id;
    INSERT INTO proof_search_folded (rowid, customer_name, customer_email, texts)
    SELECT p.id, p.customer_name, p.customer_email,
           p.text || char(10) || coalesce((SELECT group_concat(text, char(10)) FROM revisions
                                           WHERE proof_id = p.id), '')
    FROM proofs p WHERE p.id = new.proof_id;
END;
CREATE TRIGGER proof_search_folded_delete AFTER DELETE ON proofs
BEGIN
    DELETE FROM proof_search_folded WHERE rowid = old.id;
END;
INSERT INTO proof_search_folded (rowid, customer_name, customer_email, texts)
SELECT p.id, p.customer_name, p.customer_email,
       p.text || char(10) || coalesce((SELECT group_concat(text, char(10)) FROM revisions
                                       WHERE proof_id = p.id), '')
FROM proofs p;
