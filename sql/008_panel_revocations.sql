-- Admin panel sessions that were logged out: a copied cookie dies with its session. Rows go once
-- the session would have expired anyway.
CREATE TABLE panel_revocations (
    nonce text PRIMARY KEY CHECK (char_length(nonce) BETWEEN 1 AND 100),
    expires_at timestamptz NOT NULL
);
CREATE INDEX panel_revocations_expiry_idx ON panel_revocations (expires_at);
GRANT SELECT, INSERT, DELETE ON panel_revocations TO berth_app;
