package market

import (
	"context"
	"math"
	"time"
)

// Login checks a password and returns the user. Five failures for one login within fifteen
// minutes lock it (rate_limited with a retry time) until the oldest of them leaves the window;
// a correct password does not lift a lock early, or the lock would be no obstacle to guessing.
// Every attempt is audited, failures too.
func (m *Market) Login(ctx context.Context, login, password string) (User, error) {
	ctx = context.WithoutCancel(ctx) // an attempt, once counted, is recorded whole
	l, err := normalizeLogin(login)
	if err != nil || password == "" || len(password) > maxPasswordBytes {
		// Still burn the hashing time, and count the attempt against what was typed.
		VerifyPassword(m.dummyHash, password)
		m.recordLogin(ctx, normalizeLoose(login), false)
		return User{}, Errorf(CodeUnauthenticated, MsgLoginFailed)
	}
	if wait, err := m.lockedFor(ctx, l); err != nil {
		return User{}, err
	} else if wait > 0 {
		m.auditLogin(ctx, "", l, OutcomeLocked)
		secs := int(math.Ceil(wait.Seconds()))
		return User{}, &Error{Code: CodeRateLimited, RetryAfterSeconds: secs,
			Msg: Message{Key: MsgLoginLocked, Args: []any{int(math.Ceil(wait.Minutes()))}}}
	}
	u, row, err := m.loadUser(ctx, m.db.DB, "login = ?", l)
	if err != nil && !IsCode(err, CodeNotFound) {
		return User{}, err
	}
	hash := m.dummyHash
	if err == nil {
		hash = row.PasswordHash
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		m.log.ErrorContext(ctx, "stored password hash unreadable", "user", row.ID, "err", verr)
	}
	if err != nil || !ok {
		m.recordLogin(ctx, l, false)
		m.auditLogin(ctx, row.ID, l, OutcomeFailed)
		return User{}, Errorf(CodeUnauthenticated, MsgLoginFailed)
	}
	m.recordLogin(ctx, l, true)
	m.auditLogin(ctx, u.ID, l, OutcomeOK)
	return u, nil
}

// normalizeLoose keeps a bounded, lower-cased form of an unusable login for the attempt table.
func normalizeLoose(login string) string {
	if len(login) > 64 {
		login = login[:64]
	}
	return string([]rune(login)) // drops invalid UTF-8
}

// lockedFor returns how long login stays locked, zero when it is not.
func (m *Market) lockedFor(ctx context.Context, login string) (time.Duration, error) {
	now := m.now()
	since := now.Add(-m.opts.LockoutWindow)
	var lastOK loginAttemptRow
	err := m.db.WithContext(ctx).Where("login = ? AND ok = ? AND at > ?", login, true, since).
		Order("at DESC").Limit(1).Find(&lastOK).Error
	if err != nil {
		return 0, Internal(err)
	}
	if lastOK.ID != 0 {
		since = lastOK.At
	}
	var fails []loginAttemptRow
	err = m.db.WithContext(ctx).Where("login = ? AND ok = ? AND at > ?", login, false, since).
		Order("at DESC").Limit(m.opts.LockoutFailures).Find(&fails).Error
	if err != nil {
		return 0, Internal(err)
	}
	if len(fails) < m.opts.LockoutFailures {
		return 0, nil
	}
	oldest := fails[len(fails)-1].At
	wait := oldest.Add(m.opts.LockoutWindow).Sub(now)
	if wait < time.Second {
		wait = time.Second
	}
	return wait, nil
}

func (m *Market) recordLogin(ctx context.Context, login string, ok bool) {
	a := ActorFrom(ctx)
	row := loginAttemptRow{Login: login, OK: ok, At: m.now()}
	if a.IP.IsValid() {
		row.IP = a.IP.String()
	}
	if err := m.db.WithContext(ctx).Create(&row).Error; err != nil {
		m.log.ErrorContext(ctx, "record login attempt", "err", err)
	}
}

func (m *Market) auditLogin(ctx context.Context, userID, login, outcome string) {
	a := ActorFrom(ctx)
	a.UserID, a.Login = userID, login
	if err := m.audit(WithActor(ctx, a), nil, "auth.login", login, outcome, nil); err != nil {
		m.log.ErrorContext(ctx, "audit login", "err", err)
	}
}
