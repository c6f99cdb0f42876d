-- Bytes per licence and per download row on PostgreSQL, for docs/scaling.md:
--   .ci/with-postgres bash -c 'psql "$ZIYUAN_TEST_POSTGRES" -q -f docs/scaling-rowsize.sql'
-- The tables as market/schema/postgres/0002_resources.sql creates them, without the foreign
-- keys (they take no space); 1,000,000 rows each with UUID text ids as the application writes.
\set ON_ERROR_STOP 1
CREATE TABLE licenses (
    id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, holder_id TEXT NOT NULL,
    scope TEXT NOT NULL, source TEXT NOT NULL, license TEXT NOT NULL,
    price_fen BIGINT NOT NULL DEFAULT 0, order_id TEXT, status TEXT NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ, revoke_reason TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX licenses_one_claim ON licenses(resource_id, holder_id) WHERE source IN ('claim','enrolment');
CREATE INDEX licenses_holder ON licenses(holder_id, status);
CREATE INDEX licenses_resource ON licenses(resource_id, status);
CREATE TABLE downloads (id BIGSERIAL PRIMARY KEY, resource_id TEXT NOT NULL, user_id TEXT NOT NULL, sha256 TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
CREATE INDEX downloads_resource_user ON downloads(resource_id, user_id);
CREATE EXTENSION IF NOT EXISTS pgcrypto;
-- 1,000,000 licences over 50,000 resources and 200,000 holders, ids as the app writes them (UUID text)
INSERT INTO licenses (id, resource_id, holder_id, scope, source, license, status, granted_at)
SELECT gen_random_uuid()::text, md5((i % 50000)::text)::uuid::text, md5('u' || ((i::bigint * 7919) % 200000)::text || ':' || (i / 200000))::uuid::text,
       'free', 'claim', 'CC-BY-NC-4.0', 'active', now()
FROM generate_series(1, 1000000) i;
INSERT INTO downloads (resource_id, user_id, sha256, at)
SELECT md5((i % 50000)::text)::uuid::text, md5('u' || (i % 200000)::text)::uuid::text, encode(sha256(i::text::bytea), 'hex'), now()
FROM generate_series(1, 1000000) i;
VACUUM ANALYZE licenses; VACUUM ANALYZE downloads;
SELECT 'licenses' t, pg_total_relation_size('licenses') / 1000000.0 AS bytes_per_row
UNION ALL SELECT 'downloads', pg_total_relation_size('downloads') / 1000000.0;
