-- Payouts to sellers' Stripe Connect accounts, and refunds by order line. (The orders' status
-- CHECK has allowed 'partially_refunded' since 0003, so orders keep their table.)

-- What each line has had refunded (buyer money) and how much of that the seller bore, so that
-- partial refunds know what is left of a line and successive ones sum exactly to it.
ALTER TABLE order_items ADD COLUMN refunded_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_items ADD COLUMN seller_refunded_fen BIGINT NOT NULL DEFAULT 0;
-- Refunds recorded before lines were tracked: a full refund took everything back; a partial
-- one (a provider's notification) was borne in proportion, as its debits show.
UPDATE order_items SET refunded_fen = amount_fen, seller_refunded_fen = seller_fen
    WHERE order_id IN (SELECT id FROM orders WHERE status = 'refunded');
UPDATE order_items SET
    refunded_fen = FLOOR(order_items.amount_fen * (SELECT orders.refunded_fen::numeric / GREATEST(orders.amount_fen, 1) FROM orders WHERE orders.id = order_items.order_id)),
    seller_refunded_fen = -(SELECT COALESCE(SUM(b.amount_fen), 0) FROM balance_transactions b
        WHERE b.order_id = order_items.order_id AND b.seller_id = order_items.seller_id AND b.kind = 'refund'
          AND b.reference LIKE CAST(order_items.position AS TEXT) || ':%')
    WHERE order_id IN (SELECT id FROM orders WHERE status = 'partially_refunded');

-- The order line a licence was bought with: refunding that line revokes it. Licences granted
-- before lines were recorded take the first line of their order with the same item and scope.
ALTER TABLE licenses ADD COLUMN order_position INTEGER;
UPDATE licenses SET order_position = (SELECT MIN(i.position) FROM order_items i
        WHERE i.order_id = licenses.order_id AND i.resource_id = licenses.resource_id AND i.scope = licenses.scope)
    WHERE source = 'order' AND order_id IS NOT NULL;
CREATE INDEX licenses_order ON licenses(order_id, order_position);

-- Every refund of an order: requested here (by line) or reported by the provider (an amount
-- refunded elsewhere, spread over the lines). A requested refund is written before the
-- provider is asked, so a crash between the two is finished by the payment worker with the
-- same idempotency key; at most one per order is unapplied at a time.
CREATE TABLE order_refunds (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL REFERENCES orders(id),
    amount_fen       BIGINT NOT NULL CHECK (amount_fen > 0),
    positions        TEXT NOT NULL DEFAULT '[]',
    source           TEXT NOT NULL CHECK (source IN ('request','provider')),
    provider_ref     TEXT NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    locked_until     TIMESTAMPTZ,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    applied_at       TIMESTAMPTZ
);
CREATE UNIQUE INDEX order_refunds_one_open ON order_refunds(order_id) WHERE applied_at IS NULL;

-- One transfer of a seller's share per paid order, queued in the transaction that marks the
-- order paid when the seller's account could take payouts, made by the payment worker (which
-- claims a row by moving next_attempt_at past its call) and recorded with Stripe's ID.
-- rejections counts refusals: each starts a fresh idempotency key, as Stripe replays a refused
-- request's answer for its key.
CREATE TABLE seller_transfers (
    order_id         TEXT NOT NULL REFERENCES orders(id),
    seller_id        TEXT NOT NULL REFERENCES users(id),
    account_id       TEXT NOT NULL,
    amount_fen       BIGINT NOT NULL CHECK (amount_fen > 0),
    currency         TEXT NOT NULL,
    transfer_id      TEXT UNIQUE,
    reversed_fen     BIGINT NOT NULL DEFAULT 0 CHECK (reversed_fen >= 0 AND reversed_fen <= amount_fen),
    attempts         INTEGER NOT NULL DEFAULT 0,
    rejections       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    transferred_at   TIMESTAMPTZ,
    PRIMARY KEY (order_id, seller_id)
);
CREATE INDEX seller_transfers_due ON seller_transfers(next_attempt_at) WHERE transfer_id IS NULL;

-- The part of a transfer a refund takes back from the seller: one reversal per refund and
-- seller, made once the transfer exists.
CREATE TABLE transfer_reversals (
    refund_id        TEXT NOT NULL REFERENCES order_refunds(id),
    seller_id        TEXT NOT NULL REFERENCES users(id),
    order_id         TEXT NOT NULL,
    amount_fen       BIGINT NOT NULL CHECK (amount_fen > 0),
    reversal_id      TEXT UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    rejections       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    reversed_at      TIMESTAMPTZ,
    PRIMARY KEY (refund_id, seller_id),
    FOREIGN KEY (order_id, seller_id) REFERENCES seller_transfers(order_id, seller_id)
);
CREATE INDEX transfer_reversals_due ON transfer_reversals(next_attempt_at) WHERE reversal_id IS NULL;
