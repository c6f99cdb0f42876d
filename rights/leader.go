package rights

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"gorm.io/gorm"
)

// DefaultLeaseDuration is how long the ledger lease lasts without renewal. The leader renews it
// every third of that; a standby tries to take it every sixth. When the leader dies, another
// process takes over at most a lease and a standby poll later: 3.5 s with the defaults, inside
// the 5 s that deployments are promised.
const DefaultLeaseDuration = 3 * time.Second

// errLeaseLost ends a term of leadership; Run then stands by again.
var errLeaseLost = errors.New("rights: ledger lease lost")

// newHolder names this process in the lease row: host and pid for the operator, a random
// suffix so that a restarted process with a reused pid is a different holder.
func newHolder() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Leading reports whether this process holds the ledger lease now, for health pages and
// metrics. A Log that is driven directly (no Run) never leads.
func (l *Log) Leading() bool {
	l.leaseMu.Lock()
	defer l.leaseMu.Unlock()
	return l.epoch > 0 && time.Now().Before(l.validUntil)
}

// Holder is this process's name in the lease row.
func (l *Log) Holder() string { return l.holder }

func (l *Log) setEpoch(epoch int64, validUntil time.Time) {
	l.leaseMu.Lock()
	l.elected, l.epoch, l.validUntil = true, epoch, validUntil
	l.leaseMu.Unlock()
}

// dbNowUS is the SQL for "now" in microseconds since 1970 and its arguments. PostgreSQL reads
// its own clock, so all instances measure leases against one clock; SQLite's instances share a
// machine, whose clock is passed in.
func (l *Log) dbNowUS() (string, []any) {
	if l.postgres {
		return `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT`, nil
	}
	return `?`, []any{time.Now().UnixMicro()}
}

// checkLease is the fence of every transaction that writes the tree or a checkpoint: the lease
// row must still name this process with its epoch and be unexpired. FOR SHARE holds the row, so
// a takeover (an UPDATE) waits until this transaction ends: the old leader's last write commits
// before the new leader's first, or not at all. A Log driven directly, without Run, is not
// fenced: tools and tests integrate by hand.
func (l *Log) checkLease(tx *gorm.DB) error {
	l.leaseMu.Lock()
	elected, epoch := l.elected, l.epoch
	l.leaseMu.Unlock()
	if !elected {
		return nil
	}
	if epoch == 0 {
		return fmt.Errorf("%w: this process stands by", ErrNotLeader)
	}
	now, args := l.dbNowUS()
	q := `SELECT epoch FROM ledger_leader WHERE id = 1 AND holder = ? AND epoch = ? AND expires_us >= ` + now
	if l.postgres {
		q += ` FOR SHARE`
	}
	var got []int64
	if err := tx.Raw(q, append([]any{l.holder, epoch}, args...)...).Scan(&got).Error; err != nil {
		return fmt.Errorf("check ledger lease: %w", err)
	}
	if len(got) != 1 {
		return fmt.Errorf("%w: the lease of epoch %d has expired or passed to another process", ErrNotLeader, epoch)
	}
	return nil
}

// tryAcquire takes the lease if it is free or expired and returns the new epoch, or 0 when
// another process holds it.
func (l *Log) tryAcquire(ctx context.Context) (int64, error) {
	now, args := l.dbNowUS()
	q := `UPDATE ledger_leader SET holder = ?, epoch = epoch + 1, expires_us = ` + now + ` + ?, acquired_at = ?
		WHERE id = 1 AND expires_us < ` + now + ` RETURNING epoch`
	all := []any{l.holder}
	all = append(all, args...)
	all = append(all, l.lease.Microseconds(), time.Now().UTC())
	all = append(all, args...)
	var epochs []int64
	if err := l.db.WithContext(ctx).Raw(q, all...).Scan(&epochs).Error; err != nil {
		return 0, fmt.Errorf("acquire ledger lease: %w", err)
	}
	if len(epochs) != 1 {
		return 0, nil
	}
	return epochs[0], nil
}

// renew extends the lease of epoch; false means it is gone (expired or taken). An expired lease
// is never renewed, even if nobody took it: the next term starts with a new epoch.
func (l *Log) renew(ctx context.Context, epoch int64) (bool, error) {
	now, args := l.dbNowUS()
	q := `UPDATE ledger_leader SET expires_us = ` + now + ` + ? WHERE id = 1 AND holder = ? AND epoch = ? AND expires_us >= ` + now
	all := append([]any{}, args...)
	all = append(all, l.lease.Microseconds(), l.holder, epoch)
	all = append(all, args...)
	res := l.db.WithContext(ctx).Exec(q, all...)
	if res.Error != nil {
		return false, fmt.Errorf("renew ledger lease: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// release gives the lease up at once, so that a standby need not wait for it to expire.
func (l *Log) release(epoch int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.db.WithContext(ctx).Exec(`UPDATE ledger_leader SET expires_us = 0 WHERE id = 1 AND holder = ? AND epoch = ?`,
		l.holder, epoch).Error
	if err != nil {
		l.logger.Warn("ledger: could not release the lease; it expires by itself", "epoch", epoch, "err", err)
	}
}

// awaitLease polls until this process holds the lease or ctx ends. It returns the epoch and
// the latest time the lease can be valid until by this process's clock: a lease from the
// moment the winning request was sent.
func (l *Log) awaitLease(ctx context.Context) (int64, time.Time, error) {
	standingBy := false
	for {
		sent := time.Now()
		epoch, err := l.tryAcquire(ctx)
		if err == nil && epoch > 0 {
			return epoch, sent.Add(l.lease), nil
		}
		if err != nil && ctx.Err() == nil {
			l.logger.WarnContext(ctx, "ledger: lease check failed; retrying", "err", err)
		}
		if err == nil && !standingBy {
			standingBy = true
			l.logger.InfoContext(ctx, "ledger: another process leads; standing by", "holder", l.holder)
		}
		t := time.NewTimer(l.lease / 6)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, time.Time{}, ctx.Err()
		case <-t.C:
		}
	}
}

// keepLease renews the lease until ctx ends (nil) or the lease is lost (errLeaseLost). While
// renewals fail for a reason other than loss, such as a database restart, it keeps trying
// until the lease would have expired by this process's clock, counted from the last renewal
// that was sent before it succeeded, so it never believes in a lease longer than the database.
func (l *Log) keepLease(ctx context.Context, epoch int64, validUntil time.Time) error {
	every := l.lease / 3
	for {
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		sent := time.Now()
		rctx, cancel := context.WithDeadline(ctx, validUntil)
		ok, err := l.renew(rctx, epoch)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil && ok:
			validUntil = sent.Add(l.lease)
			l.setEpoch(epoch, validUntil)
		case err == nil:
			return errLeaseLost
		case time.Now().After(validUntil):
			l.logger.ErrorContext(ctx, "ledger: lease could not be renewed before it expired", "epoch", epoch, "err", err)
			return errLeaseLost
		default:
			l.logger.WarnContext(ctx, "ledger: lease renewal failed; retrying", "epoch", epoch, "err", err)
		}
	}
}

// lead runs one term: the sequencer and the publisher, while keepLease holds the lease.
func (l *Log) lead(ctx context.Context, epoch int64, validUntil time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.setEpoch(epoch, validUntil)
	l.logger.InfoContext(ctx, "ledger: leading", "epoch", epoch, "holder", l.holder)
	errc := make(chan error, 3)
	go func() { errc <- l.RunSequencer(ctx) }()
	go func() { errc <- l.RunPublisher(ctx) }()
	go func() { errc <- l.keepLease(ctx, epoch, validUntil) }()
	var errs []error
	for range 3 {
		errs = append(errs, <-errc)
		cancel()
	}
	l.setEpoch(0, time.Time{})
	l.release(epoch)
	return errors.Join(errs...)
}

// WaitSettled waits until every committed entry is integrated and a signed checkpoint covers
// the whole tree, whichever process leads, and returns that checkpoint. Tools that write entries
// (seeding, imports) call it before they report success.
func (l *Log) WaitSettled(ctx context.Context) (SignedCheckpoint, error) {
	for {
		var pending int64
		if err := l.db.WithContext(ctx).Raw(`SELECT count(*) FROM ledger_entries WHERE idx IS NULL`).Scan(&pending).Error; err != nil {
			return SignedCheckpoint{}, fmt.Errorf("count queued ledger entries: %w", err)
		}
		if pending == 0 {
			st, err := l.Tree(ctx)
			if err != nil {
				return SignedCheckpoint{}, err
			}
			c, err := l.Checkpoint(ctx)
			if err == nil && c.Size == st.Size {
				return c, nil
			}
			if err != nil && !errors.Is(err, ErrPending) {
				return SignedCheckpoint{}, err
			}
		}
		t := time.NewTimer(l.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return SignedCheckpoint{}, ctx.Err()
		case <-t.C:
		}
	}
}
