package market

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"ziyuan/rights"
)

// Rating is a licence holder's rating of a resource.
type Rating struct {
	ResourceID string    `json:"resource_id"`
	UserID     string    `json:"user_id"`
	Author     string    `json:"author,omitempty"`
	Stars      int       `json:"stars"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type ratingRow struct {
	ResourceID string `gorm:"primaryKey"`
	UserID     string `gorm:"primaryKey"`
	Stars      int
	Text       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (ratingRow) TableName() string { return "ratings" }

func (r ratingRow) view() Rating {
	return Rating{ResourceID: r.ResourceID, UserID: r.UserID, Stars: r.Stars, Text: r.Text, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Rate records the acting user's rating; only licence holders rate, once each (rating again
// replaces the earlier one).
func (m *Market) Rate(ctx context.Context, resourceID string, stars int, text string) (Rating, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return Rating{}, err
	}
	if stars < 1 || stars > 5 {
		return Rating{}, Errorf(CodeInvalid, MsgStars)
	}
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > 1000 || !utf8.ValidString(text) {
		return Rating{}, Errorf(CodeInvalid, MsgFieldTooLong, "text", 1000)
	}
	if _, _, err := m.publishedOffer(ctx, m.db.DB, resourceID); err != nil {
		return Rating{}, err
	}
	var out ratingRow
	err = m.tx(ctx, func(tx *gorm.DB) error {
		lic, err := activeLicense(tx, resourceID, a.UserID)
		if err != nil {
			return err
		}
		if lic == nil {
			return Errorf(CodeForbidden, MsgRateNeedsLicense)
		}
		now := m.now()
		var old ratingRow
		err = tx.Where("resource_id = ? AND user_id = ?", resourceID, a.UserID).Take(&old).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			out = ratingRow{ResourceID: resourceID, UserID: a.UserID, Stars: stars, Text: text, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&out).Error; err != nil {
				return err
			}
			if err := tx.Model(&resourceRow{}).Where("id = ?", resourceID).Updates(map[string]any{
				"rating_count": gorm.Expr("rating_count + 1"), "rating_sum": gorm.Expr("rating_sum + ?", stars)}).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			out = old
			out.Stars, out.Text, out.UpdatedAt = stars, text, now
			if err := tx.Save(&out).Error; err != nil {
				return err
			}
			if err := tx.Model(&resourceRow{}).Where("id = ?", resourceID).
				Update("rating_sum", gorm.Expr("rating_sum + ?", stars-old.Stars)).Error; err != nil {
				return err
			}
		}
		if err := m.reindexCatalog(ctx, tx, resourceID); err != nil {
			return err
		}
		return m.audit(ctx, tx, "rating.set", resourceID, OutcomeOK, map[string]int{"stars": stars})
	})
	if err != nil {
		return Rating{}, err
	}
	m.opts.CatalogChanged()
	return out.view(), nil
}

// Ratings lists a published resource's ratings, newest first.
func (m *Market) Ratings(ctx context.Context, resourceID string, p Paging) (Page[Rating], error) {
	var out Page[Rating]
	if _, err := m.Resource(ctx, resourceID); err != nil {
		return out, err
	}
	p, err := p.normalize()
	if err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Table("ratings").Where("resource_id = ?", resourceID)
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []struct {
		ResourceID, UserID, Text, Name string
		Stars                          int
		CreatedAt, UpdatedAt           time.Time
	}
	err = q.Select("ratings.resource_id, ratings.user_id, ratings.text, ratings.stars, ratings.created_at, ratings.updated_at, users.name").Joins("JOIN users ON users.id = ratings.user_id").
		Order("ratings.updated_at DESC, ratings.user_id").Offset(p.offset()).Limit(p.PerPage).Scan(&rows).Error
	if err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, make([]Rating, len(rows))
	for i, r := range rows {
		out.Items[i] = Rating{ResourceID: r.ResourceID, UserID: r.UserID, Author: r.Name, Stars: r.Stars, Text: r.Text,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// Complaint is a rights holder's claim that a published resource infringes on its work.
type Complaint struct {
	ID             string     `json:"id"`
	ResourceID     string     `json:"resource_id"`
	Title          string     `json:"title,omitempty"`
	ComplainantID  string     `json:"complainant_id"`
	Reason         string     `json:"reason"`
	EvidenceIndex  *int64     `json:"evidence_index,omitempty"`
	Status         string     `json:"status"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

type complaintRow struct {
	ID             string `gorm:"primaryKey"`
	ResourceID     string
	ComplainantID  string
	Reason         string
	EvidenceIndex  *int64
	Status         string
	DecidedBy      *string
	DecidedAt      *time.Time
	DecisionReason string
	CreatedAt      time.Time
}

func (complaintRow) TableName() string { return "complaints" }

func (r complaintRow) view() Complaint {
	return Complaint{ID: r.ID, ResourceID: r.ResourceID, ComplainantID: r.ComplainantID, Reason: r.Reason,
		EvidenceIndex: r.EvidenceIndex, Status: r.Status, DecidedAt: r.DecidedAt, DecisionReason: r.DecisionReason, CreatedAt: r.CreatedAt}
}

// FileComplaint lets a verified user contest a published resource, optionally citing the
// ledger entry of its own earlier work, which must name the complainant.
func (m *Market) FileComplaint(ctx context.Context, resourceID, reason string, evidence *int64) (Complaint, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return Complaint{}, err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < 5 {
		return Complaint{}, Errorf(CodeInvalid, MsgReasonShort, "reason", 5)
	}
	if utf8.RuneCountInString(reason) > 4000 {
		return Complaint{}, Errorf(CodeInvalid, MsgFieldTooLong, "reason", 4000)
	}
	row, _, err := m.publishedOffer(ctx, m.db.DB, resourceID)
	if err != nil {
		return Complaint{}, err
	}
	if row.OwnerID == a.UserID {
		return Complaint{}, Errorf(CodeInvalid, MsgOwnComplaint)
	}
	if evidence != nil {
		v, err := m.opts.Ledger.Entry(ctx, *evidence)
		if err != nil {
			return Complaint{}, Errorf(CodeInvalid, MsgEvidenceMissing, *evidence)
		}
		mine := false
		for _, s := range v.Entry.Subjects {
			if s.ID == a.UserID {
				mine = true
			}
		}
		if !mine {
			return Complaint{}, Errorf(CodeInvalid, MsgEvidenceNotYours, *evidence)
		}
	}
	c := complaintRow{ID: NewID(), ResourceID: resourceID, ComplainantID: a.UserID, Reason: reason, EvidenceIndex: evidence,
		Status: "open", CreatedAt: m.now()}
	err = m.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		return m.audit(ctx, tx, "complaint.file", c.ID, OutcomeOK, map[string]any{"resource": resourceID, "evidence": evidence})
	})
	return c.view(), err
}

// Complaints lists complaints for platform admins, open ones first.
func (m *Market) Complaints(ctx context.Context, status string, p Paging) (Page[Complaint], error) {
	var out Page[Complaint]
	if _, err := requireRole(ctx, RolePlatformAdmin); err != nil {
		return out, err
	}
	p, err := p.normalize()
	if err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Model(&complaintRow{})
	if status != "" {
		if !containsString([]string{"open", "upheld", "dismissed"}, status) {
			return out, Errorf(CodeInvalid, MsgFieldOneOf, "status", status, "open, upheld, dismissed")
		}
		q = q.Where("status = ?", status)
	}
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []complaintRow
	if err := q.Order("CASE WHEN status = 'open' THEN 0 ELSE 1 END, created_at, id").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, make([]Complaint, len(rows))
	for i, r := range rows {
		out.Items[i] = r.view()
		if refs, err := m.resourceRefs(ctx, "resources.id = ?", r.ResourceID); err == nil && len(refs) == 1 {
			out.Items[i].Title = refs[0].Title
		}
	}
	return out, nil
}

// DecideComplaint upholds or dismisses an open complaint. Upholding takes the resource down:
// it leaves the catalog, every active licence to it is revoked, and the ledger records the
// takedown and each revocation — all in one transaction.
func (m *Market) DecideComplaint(ctx context.Context, id, decision, reason string) (Complaint, error) {
	a, err := requireRole(ctx, RolePlatformAdmin)
	if err != nil {
		m.auditDenied(ctx, "complaint.decide", id, err)
		return Complaint{}, err
	}
	reason = strings.TrimSpace(reason)
	if decision != "uphold" && decision != "dismiss" {
		return Complaint{}, Errorf(CodeInvalid, MsgFieldOneOf, "decision", decision, "uphold, dismiss")
	}
	if reason == "" {
		return Complaint{}, Errorf(CodeInvalid, MsgFieldRequired, "reason")
	}
	if utf8.RuneCountInString(reason) > 2000 {
		return Complaint{}, Errorf(CodeInvalid, MsgFieldTooLong, "reason", 2000)
	}
	var c complaintRow
	if !ValidID(id) {
		return Complaint{}, Errorf(CodeNotFound, MsgNotFound, "complaint")
	}
	if err := m.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return Complaint{}, Errorf(CodeNotFound, MsgNotFound, "complaint")
	} else if err != nil {
		return Complaint{}, Internal(err)
	}
	if c.Status != "open" {
		return Complaint{}, Errorf(CodeConflict, MsgAlreadyDecided)
	}
	var pins takedownPins
	if decision == "uphold" {
		if pins, err = m.takedownPins(ctx, c.ResourceID); err != nil {
			return Complaint{}, err
		}
	}
	now := m.now()
	status := map[string]string{"uphold": "upheld", "dismiss": "dismissed"}[decision]
	err = m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&complaintRow{}).Where("id = ? AND status = ?", id, "open").
			Updates(map[string]any{"status": status, "decided_by": a.UserID, "decided_at": now, "decision_reason": reason})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(CodeConflict, MsgAlreadyDecided)
		}
		if decision == "uphold" {
			if err := m.takeDown(ctx, tx, c.ResourceID, "complaint_upheld", rights.Subject{Role: subjectComplaint, ID: c.ID}, pins, now); err != nil {
				return err
			}
		}
		return m.audit(ctx, tx, "complaint."+decision, id, OutcomeOK, map[string]string{"resource": c.ResourceID, "reason": reason})
	})
	if err != nil {
		return Complaint{}, err
	}
	m.opts.CatalogChanged()
	c.Status, c.DecidedAt, c.DecisionReason = status, &now, reason
	return c.view(), nil
}

// takedownPins are the ledger entries a takedown points at: the work's registration and the
// grant of every active licence (revocations point at their grants), which must be in the log
// before the takedown's transaction begins.
type takedownPins struct {
	grants     map[string]rights.Parent
	registered rights.Parent
}

func (m *Market) takedownPins(ctx context.Context, resourceID string) (takedownPins, error) {
	var lics []licenseRow
	if err := m.db.WithContext(ctx).Where("resource_id = ? AND status = ?", resourceID, LicenseActive).Find(&lics).Error; err != nil {
		return takedownPins{}, Internal(err)
	}
	p := takedownPins{grants: map[string]rights.Parent{}}
	for _, l := range lics {
		var err error
		if p.grants[l.ID], err = m.pin(ctx, "license.granted:"+l.ID); err != nil {
			return p, err
		}
	}
	var err error
	p.registered, err = m.pin(ctx, "work.registered:"+resourceID)
	return p, err
}

// takeDown unpublishes a resource and revokes its licences inside tx. reason is the ledger's
// machine code for it and cause the subject behind it (the upheld complaint, or the harvest
// source that withdrew the record).
func (m *Market) takeDown(ctx context.Context, tx *gorm.DB, resourceID, reason string, cause rights.Subject, pins takedownPins, now time.Time) error {
	if err := m.lockResource(tx, resourceID); err != nil {
		return err
	}
	if err := tx.Model(&resourceRow{}).Where("id = ?", resourceID).Updates(map[string]any{"status": StatusTakenDown, "updated_at": now}).Error; err != nil {
		return err
	}
	var lics []licenseRow
	if err := tx.Where("resource_id = ? AND status = ?", resourceID, LicenseActive).Find(&lics).Error; err != nil {
		return err
	}
	for _, l := range lics {
		grant, ok := pins.grants[l.ID]
		if !ok {
			// Granted after the decision began: try again, so nothing escapes revocation.
			return Errorf(CodeConflict, MsgConcurrentEdit)
		}
		if err := tx.Model(&licenseRow{}).Where("id = ?", l.ID).
			Updates(map[string]any{"status": LicenseRevoked, "revoked_at": now, "revoke_reason": reason}).Error; err != nil {
			return err
		}
		e := rights.Entry{Type: rights.LicenseRevoked, Time: now, Reason: reason, Parents: []rights.Parent{grant},
			Subjects: []rights.Subject{{Role: subjectLicense, ID: l.ID}, {Role: subjectWork, ID: resourceID}, {Role: subjectHolder, ID: l.HolderID}}}
		if err := m.record(ctx, tx, "license.revoked:"+l.ID, e, l.ID); err != nil {
			return err
		}
	}
	down := rights.Entry{Type: rights.WorkTakenDown, Time: now, Reason: reason, Parents: []rights.Parent{pins.registered},
		Subjects: []rights.Subject{{Role: subjectWork, ID: resourceID}, cause}}
	if err := m.record(ctx, tx, "work.taken_down:"+resourceID+":"+cause.ID, down, resourceID); err != nil {
		return err
	}
	if err := m.similarity.Remove(ctx, tx, resourceID); err != nil {
		return err
	}
	return m.reindexCatalog(ctx, tx, resourceID)
}

// Enroll enrols a student in a free course (a 网络课程) and grants the course licence. The
// student enrols itself, or a linked guardian or the student's institution admin does it for
// them (studentID). Paid courses answer payment_required; a full course answers conflict, and
// concurrent enrolments never exceed the seats.
func (m *Market) Enroll(ctx context.Context, courseID, studentID string) (License, bool, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return License{}, false, err
	}
	if studentID == "" {
		studentID = a.UserID
	}
	student, srow, err := m.loadUser(ctx, m.db.DB, "id = ?", studentID)
	if err != nil || !ValidID(studentID) {
		return License{}, false, Errorf(CodeNotFound, MsgNotFound, "student")
	}
	if !student.Has(RoleStudent) {
		return License{}, false, Errorf(CodeInvalid, MsgNotAStudent)
	}
	if studentID != a.UserID {
		allowed := a.Has(RoleInstitutionAdmin) && srow.InstitutionID != nil && *srow.InstitutionID == a.InstitutionID
		if !allowed && a.Has(RoleParent) {
			var n int64
			m.db.WithContext(ctx).Model(&guardianRow{}).Where("student_id = ? AND guardian_id = ?", studentID, a.UserID).Count(&n)
			allowed = n > 0
		}
		if !allowed {
			return License{}, false, Errorf(CodeForbidden, MsgForbidden)
		}
	}
	if !student.Verified {
		return License{}, false, Errorf(CodeForbidden, MsgVerifiedOnly)
	}
	if student.ConsentNeeded {
		return License{}, false, Errorf(CodeForbidden, MsgConsentRequired)
	}
	row, meta, err := m.publishedOffer(ctx, m.db.DB, courseID)
	if err != nil {
		return License{}, false, err
	}
	if meta.Type != TypeCourse || meta.Course == nil {
		return License{}, false, Errorf(CodeInvalid, MsgNotACourse)
	}
	if !meta.Offer.Free() {
		return License{}, false, Errorf(CodePaymentRequired, MsgPaymentRequired)
	}
	var (
		lic     licenseRow
		created bool
	)
	err = m.tx(ctx, func(tx *gorm.DB) error {
		if err := m.lockResource(tx, courseID); err != nil {
			return err
		}
		existing, err := activeLicense(tx, courseID, studentID)
		if err != nil {
			return err
		}
		if existing != nil {
			lic = *existing
			return nil
		}
		var taken int64
		if err := tx.Model(&licenseRow{}).Where("resource_id = ? AND source = ? AND status = ?", courseID, SourceEnrolment, LicenseActive).
			Count(&taken).Error; err != nil {
			return err
		}
		if taken >= int64(meta.Course.Seats) {
			return Errorf(CodeConflict, MsgCourseFull, meta.Course.Seats)
		}
		lic = licenseRow{ID: NewID(), ResourceID: row.ID, HolderID: studentID, Scope: ScopeCourse, Source: SourceEnrolment,
			License: meta.Offer.License, Status: LicenseActive, GrantedAt: m.now()}
		if err := tx.Create(&lic).Error; err != nil {
			return err
		}
		created = true
		if err := m.recordGrant(ctx, tx, lic); err != nil {
			return err
		}
		return m.audit(ctx, tx, "course.enrol", lic.ID, OutcomeOK, map[string]string{"course": courseID, "student": studentID})
	})
	if err != nil {
		return License{}, false, err
	}
	l, err := m.licenseView(ctx, lic)
	return l, created, err
}

// MyResources lists the acting user's own resources by status.
func (m *Market) MyResources(ctx context.Context, status string, p Paging) (Page[ResourceRef], error) {
	var out Page[ResourceRef]
	a, err := requireSignedIn(ctx)
	if err != nil {
		return out, err
	}
	if p, err = p.normalize(); err != nil {
		return out, err
	}
	where, args := "resources.owner_id = ?", []any{a.UserID}
	if status != "" {
		if !containsString([]string{StatusDraft, StatusPendingReview, StatusPublished, StatusRejected, StatusTakenDown}, status) {
			return out, Errorf(CodeInvalid, MsgFieldOneOf, "status", status, "draft, pending_review, published, rejected, taken_down")
		}
		where += " AND resources.status = ?"
		args = append(args, status)
	}
	if err := m.db.WithContext(ctx).Table("resources").Where(where, args...).Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	refs, err := m.queryRefs(ctx, "resources.updated_at DESC, resources.id", p.PerPage, p.offset(), where, args...)
	if err != nil {
		return out, err
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, refs
	return out, nil
}
