-- Kept in step with migrations/sqlite: a lower-cased copy of the display
-- name for account search, written by the application on every change.

ALTER TABLE accounts ADD COLUMN display_name_lower TEXT NOT NULL DEFAULT '';
UPDATE accounts SET display_name_lower = LOWER(display_name);
