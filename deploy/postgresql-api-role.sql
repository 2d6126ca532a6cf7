-- The role the API and the worker connect as: it reads and writes rows and owns nothing, so it
-- can neither change the schema nor TRUNCATE, and it may only add to the audit log.
-- Run as the owner of the tables, in the nighthawk database, after every `nighthawk migrate`
-- (new tables need their grants). Create the role first, with a password of your own:
--     CREATE ROLE nighthawk_api LOGIN PASSWORD '...';
GRANT USAGE ON SCHEMA public TO nighthawk_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO nighthawk_api;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO nighthawk_api;
-- The audit log is append-only for the API; its triggers refuse UPDATE, DELETE and TRUNCATE
-- even to the owner.
REVOKE UPDATE, DELETE ON audit FROM nighthawk_api;
-- The schema's version is the owner's to move.
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM nighthawk_api;
