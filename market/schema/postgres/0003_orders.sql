-- Orders buy licences; prices are copied from the offer when the order is made.
CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    buyer_id         TEXT NOT NULL REFERENCES users(id),
    institution_id   TEXT REFERENCES institutions(id),
    provider         TEXT NOT NULL CHECK (provider IN ('invoice','stripe')),
    status           TEXT NOT NULL CHECK (status IN ('pending','paid','refunded','partially_refunded','expired','cancelled','failed')),
    amount_fen       BIGINT NOT NULL,
    refunded_fen     BIGINT NOT NULL DEFAULT 0,
    currency         TEXT NOT NULL DEFAULT 'CNY',
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    purchase_order   TEXT NOT NULL DEFAULT '',
    session_id       TEXT NOT NULL DEFAULT '',
    checkout_url     TEXT NOT NULL DEFAULT '',
    instructions     TEXT NOT NULL DEFAULT '',
    payment_ref      TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    paid_at          TIMESTAMPTZ,
    expires_at       TIMESTAMPTZ,
    UNIQUE (buyer_id, idempotency_key)
);
CREATE INDEX orders_buyer ON orders(buyer_id, created_at);
CREATE INDEX orders_institution ON orders(institution_id, status);

CREATE TABLE order_items (
    order_id      TEXT NOT NULL REFERENCES orders(id),
    position      INTEGER NOT NULL,
    resource_id   TEXT NOT NULL REFERENCES resources(id),
    title         TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('personal','classroom','institution','course')),
    quantity      INTEGER NOT NULL,
    unit_fen      BIGINT NOT NULL,
    amount_fen    BIGINT NOT NULL,
    seller_id     TEXT NOT NULL REFERENCES users(id),
    seller_kind   TEXT NOT NULL,
    fee_fen       BIGINT NOT NULL,
    seller_fen    BIGINT NOT NULL,
    beneficiaries TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (order_id, position)
);
CREATE INDEX order_items_seller ON order_items(seller_id);

-- Provider events, stored once by their ID before they are applied: a crash after answering
-- the provider loses nothing, and a replay changes nothing.
CREATE TABLE payment_events (
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    type          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    order_id      TEXT NOT NULL DEFAULT '',
    payload       TEXT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    processed_at  TIMESTAMPTZ,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payment_events_pending ON payment_events(processed_at, received_at);

-- Institution licences cover every member of the institution.
ALTER TABLE licenses ADD COLUMN holder_institution_id TEXT REFERENCES institutions(id);
CREATE INDEX licenses_institution ON licenses(holder_institution_id, resource_id, status);

-- Sellers' payout accounts with a provider (Stripe Connect).
CREATE TABLE seller_accounts (
    user_id          TEXT PRIMARY KEY REFERENCES users(id),
    provider         TEXT NOT NULL,
    account_id       TEXT NOT NULL UNIQUE,
    payouts_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Seller balances are append-only transactions: sales, refunds, payouts and adjustments.
CREATE TABLE balance_transactions (
    id          BIGSERIAL PRIMARY KEY,
    seller_id   TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('sale','refund','payout','adjustment')),
    amount_fen  BIGINT NOT NULL,
    order_id    TEXT NOT NULL DEFAULT '',
    reference   TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (seller_id, kind, order_id, reference)
);
CREATE INDEX balance_transactions_seller ON balance_transactions(seller_id, id);
CREATE FUNCTION balance_transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'balance_transactions is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER balance_transactions_no_change BEFORE UPDATE OR DELETE ON balance_transactions
    FOR EACH ROW EXECUTE FUNCTION balance_transactions_append_only();
CREATE TRIGGER balance_transactions_no_truncate BEFORE TRUNCATE ON balance_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION balance_transactions_append_only();
