-- Account search matches display names in any letter case and any script.
-- SQLite's LOWER() folds ASCII only, so the store keeps a lower-cased copy
-- (as it does for usernames), written by the application on every change.

ALTER TABLE accounts ADD COLUMN display_name_lower TEXT NOT NULL DEFAULT '';
UPDATE accounts SET display_name_lower = LOWER(display_name);
