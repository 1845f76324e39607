-- Console sessions carry the hash of their CSRF token (NULL for API tokens).
ALTER TABLE tokens ADD COLUMN csrf_hash TEXT;
