package market

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// RecordConsent records a linked guardian's consent to the processing of a student's data
// beyond the account itself. It returns whether consent was newly recorded (false when it
// had been given before: recording it again changes nothing).
func (m *Market) RecordConsent(ctx context.Context, studentID string) (Guardianship, bool, error) {
	a, err := requireRole(ctx, RoleParent)
	if err != nil {
		m.auditDenied(ctx, "guardian.consent", studentID, err)
		return Guardianship{}, false, err
	}
	if !ValidID(studentID) {
		return Guardianship{}, false, Errorf(CodeNotFound, MsgNotFound, "student")
	}
	var (
		g       Guardianship
		created bool
	)
	err = m.tx(ctx, func(tx *gorm.DB) error {
		var link guardianRow
		err := tx.Where("student_id = ? AND guardian_id = ?", studentID, a.UserID).Take(&link).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Errorf(CodeForbidden, MsgGuardianNotLinked)
		}
		if err != nil {
			return err
		}
		if link.ConsentAt == nil {
			now := m.now()
			res := tx.Model(&guardianRow{}).Where("student_id = ? AND guardian_id = ? AND consent_at IS NULL", studentID, a.UserID).
				Update("consent_at", now)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				link.ConsentAt, created = &now, true
				if err := m.audit(ctx, tx, "guardian.consent", studentID, OutcomeOK, nil); err != nil {
					return err
				}
			}
		}
		g = Guardianship{StudentID: link.StudentID, GuardianID: link.GuardianID, ConsentAt: link.ConsentAt}
		return nil
	})
	if err != nil {
		m.auditDenied(ctx, "guardian.consent", studentID, err)
	}
	return g, created, err
}

// Wards lists the students a parent is linked to, with their consent state.
func (m *Market) Wards(ctx context.Context) ([]User, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return nil, err
	}
	var rows []userRow
	err = m.db.WithContext(ctx).Joins("JOIN guardians ON guardians.student_id = users.id").
		Where("guardians.guardian_id = ?", a.UserID).Order("users.name, users.id").Find(&rows).Error
	if err != nil {
		return nil, Internal(err)
	}
	out := make([]User, 0, len(rows))
	for _, r := range rows {
		u, err := m.hydrate(ctx, m.db.DB, r)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
