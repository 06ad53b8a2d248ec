-- Settings the app keeps about itself (e.g. that the demo was seeded).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
