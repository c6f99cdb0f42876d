package market

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeFailed = "failed"
	OutcomeLocked = "locked"
)

type auditRow struct {
	ID         int64 `gorm:"primaryKey"`
	At         time.Time
	ActorID    string
	ActorLogin string
	Action     string
	Target     string
	Outcome    string
	IP         string
	RequestID  string
	Detail     string
}

func (auditRow) TableName() string { return "audit_log" }

// audit appends one entry in tx (or on its own when tx is nil). detail is encoded as JSON.
func (m *Market) audit(ctx context.Context, tx *gorm.DB, action, target, outcome string, detail any) error {
	a := ActorFrom(ctx)
	row := auditRow{At: m.now(), ActorID: a.UserID, ActorLogin: a.Login, Action: action, Target: target,
		Outcome: outcome, RequestID: a.RequestID}
	if a.IP.IsValid() {
		row.IP = a.IP.String()
	}
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		row.Detail = string(b)
	}
	if tx == nil {
		tx = m.db.WithContext(ctx)
	}
	return tx.Create(&row).Error
}

// auditDenied records a refused (or failed) attempt outside any transaction; a failure to record
// is logged, since the caller is already returning an error of its own.
func (m *Market) auditDenied(ctx context.Context, action, target string, cause error) {
	outcome := OutcomeDenied
	if code := ErrorCode(cause); code == CodeInternal || code == CodeUnavailable {
		outcome = OutcomeFailed // nobody refused: something (a provider, the database) failed
	}
	detail := map[string]string{"code": string(ErrorCode(cause))}
	if err := m.audit(context.WithoutCancel(ctx), nil, action, target, outcome, detail); err != nil {
		m.log.ErrorContext(ctx, "audit write failed", "action", action, "err", err)
	}
}

// AuditFilter selects audit entries; empty fields match everything.
type AuditFilter struct {
	ActorID string
	Action  string
	From    time.Time
	To      time.Time
}

// Audit lists audit entries, newest first. Platform admins only.
func (m *Market) Audit(ctx context.Context, f AuditFilter, p Paging) (Page[AuditEntry], error) {
	var out Page[AuditEntry]
	if _, err := requireRole(ctx, RolePlatformAdmin); err != nil {
		return out, err
	}
	p, err := p.normalize()
	if err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Model(&auditRow{})
	if f.ActorID != "" {
		q = q.Where("actor_id = ? OR actor_login = ?", f.ActorID, f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []auditRow
	if err := q.Order("id DESC").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage = p.Page, p.PerPage
	out.Items = make([]AuditEntry, len(rows))
	for i, r := range rows {
		out.Items[i] = AuditEntry(r)
	}
	return out, nil
}
