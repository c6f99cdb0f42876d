package market

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"ziyuan/rights"
)

// similarThreshold is the estimated similarity from which an earlier work is shown to the
// reviewer beside a submission.
const similarThreshold = 0.8

// ChecklistItems are the seven review dimensions (政治性、导向性、科学性、适用性、规范性、
// 时效性、公益性), all of which an approval must affirm.
var ChecklistItems = []string{"political", "orientation", "scientific", "applicable", "normative", "timely", "public_interest"}

// Submit sends the current version to review with the provider's self-review pledge. An exact
// copy of another author's published file is refused; near duplicates are accepted and shown
// to the reviewer.
func (m *Market) Submit(ctx context.Context, id string, pledge bool) (Resource, error) {
	a, err := requirePublisher(ctx)
	if err != nil {
		return Resource{}, err
	}
	row, err := m.loadResource(ctx, m.db.DB, id)
	if err != nil {
		return Resource{}, err
	}
	if row.OwnerID != a.UserID {
		return Resource{}, Errorf(CodeForbidden, MsgNotOwner)
	}
	if !pledge {
		return Resource{}, Errorf(CodeInvalid, MsgPledgeRequired)
	}
	if row.Status == StatusTakenDown {
		return Resource{}, Errorf(CodeConflict, MsgTakenDown)
	}
	v, err := m.loadVersion(ctx, m.db.DB, row.CurrentVersionID)
	if err != nil {
		return Resource{}, err
	}
	if v.Status != StatusDraft && v.Status != StatusRejected {
		return Resource{}, Errorf(CodeConflict, MsgNotDraft)
	}
	var files []fileRow
	if err := m.db.WithContext(ctx).Where("version_id = ?", v.ID).Order("position").Find(&files).Error; err != nil {
		return Resource{}, Internal(err)
	}
	var parents []string
	m.db.WithContext(ctx).Model(&parentRow{}).Where("resource_id = ?", id).Pluck("parent_id", &parents)
	meta := v.meta(parents)
	if len(files) == 0 && meta.Type != TypeCourse && meta.Type != TypeService {
		return Resource{}, Errorf(CodeInvalid, MsgFilesRequired)
	}
	if err := m.checkParentsExist(ctx, meta.Parents, id); err != nil {
		return Resource{}, err
	}
	if err := m.checkDerivation(ctx, a, meta); err != nil {
		return Resource{}, err
	}
	if err := m.checkExactDuplicates(ctx, row, files); err != nil {
		return Resource{}, err
	}
	sig := m.minhash.Signature(versionText(meta, files))
	matches, err := m.similarity.Similar(ctx, sig, similarThreshold)
	if err != nil {
		return Resource{}, Internal(err)
	}
	now := m.now()
	digest := contentDigest(files, meta)
	err = m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&versionRow{}).Where("id = ? AND status IN ?", v.ID, []string{StatusDraft, StatusRejected}).
			Updates(map[string]any{"status": StatusPendingReview, "pledged_at": now, "submitted_at": now,
				"content_sha256": hexDigest(digest), "decided_at": nil, "decided_by": nil, "decision_reason": "",
				"checklist": "", "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(CodeConflict, MsgNotDraft)
		}
		if err := tx.Where("version_id = ?", v.ID).Delete(&similarRow{}).Error; err != nil {
			return err
		}
		for _, match := range matches {
			var owner string
			tx.Model(&resourceRow{}).Where("id = ?", match.DocID).Pluck("owner_id", &owner)
			if match.DocID == id || owner == "" || owner == a.UserID {
				continue
			}
			if err := tx.Create(&similarRow{VersionID: v.ID, ResourceID: match.DocID, Similarity: match.Similarity}).Error; err != nil {
				return err
			}
		}
		status := row.Status
		if row.PublishedVersionID == nil {
			status = StatusPendingReview
		}
		if err := tx.Model(&resourceRow{}).Where("id = ?", id).Updates(map[string]any{"status": status, "updated_at": now}).Error; err != nil {
			return err
		}
		return m.audit(ctx, tx, "resource.submit", id, OutcomeOK, map[string]any{"version": v.Number, "similar": len(matches)})
	})
	if err != nil {
		return Resource{}, err
	}
	return m.Resource(ctx, id)
}

// versionText is what a version's fingerprint is computed from: its description and the text
// of its files.
func versionText(meta Meta, files []fileRow) string {
	var b strings.Builder
	b.WriteString(meta.Title + "\n" + meta.Summary + "\n" + meta.Body)
	for _, f := range files {
		b.WriteString("\n" + f.Text)
	}
	return b.String()
}

// checkExactDuplicates refuses a file identical to one in another author's published work,
// naming that work and its registration in the ledger.
func (m *Market) checkExactDuplicates(ctx context.Context, row resourceRow, files []fileRow) error {
	for _, f := range files {
		var hit struct {
			ID    string
			Title string
		}
		err := m.db.WithContext(ctx).Table("version_files").
			Select("resources.id, resource_versions.title").
			Joins("JOIN resource_versions ON resource_versions.id = version_files.version_id").
			Joins("JOIN resources ON resources.id = resource_versions.resource_id AND resources.published_version_id = resource_versions.id").
			Where("version_files.sha256 = ? AND resources.owner_id <> ? AND resources.status <> ?", f.SHA256, row.OwnerID, StatusTakenDown).
			Limit(1).Scan(&hit).Error
		if err != nil {
			return Internal(err)
		}
		if hit.ID == "" {
			continue
		}
		q, err := m.opts.Ledger.Lookup(ctx, "work.registered:"+hit.ID)
		if err != nil {
			return Internal(err)
		}
		return Errorf(CodeConflict, MsgExactDuplicate, f.Name, hit.Title, hit.ID, q.Index)
	}
	return nil
}

// ReviewItem is one submission in the review queue.
type ReviewItem struct {
	ResourceID  string    `json:"resource_id"`
	Version     int       `json:"version"`
	Title       string    `json:"title"`
	Type        string    `json:"type"`
	Stage       string    `json:"stage"`
	Subject     string    `json:"subject"`
	Author      string    `json:"author"`
	Update      bool      `json:"update"`
	Similar     int       `json:"similar"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// ReviewQueue lists submissions waiting for review, oldest first, without the reviewer's own.
func (m *Market) ReviewQueue(ctx context.Context, p Paging) (Page[ReviewItem], error) {
	var out Page[ReviewItem]
	a, err := requireReviewer(ctx)
	if err != nil {
		return out, err
	}
	if p, err = p.normalize(); err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Table("resource_versions").
		Joins("JOIN resources ON resources.current_version_id = resource_versions.id").
		Joins("JOIN users ON users.id = resources.owner_id").
		Where("resource_versions.status = ? AND resources.owner_id <> ? AND resources.status <> ?", StatusPendingReview, a.UserID, StatusTakenDown)
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []struct {
		ResourceID, Title, Type, Stage, Subject, Name string
		Number                                        int
		Published                                     *string
		SubmittedAt                                   time.Time
		Similar                                       int
	}
	err = q.Select("resources.id AS resource_id, resource_versions.title, resource_versions.type, resource_versions.stage, " +
		"resource_versions.subject, users.name, resource_versions.number, resources.published_version_id AS published, " +
		"resource_versions.submitted_at, (SELECT COUNT(*) FROM version_similar WHERE version_similar.version_id = resource_versions.id) AS similar").
		Order("resource_versions.submitted_at, resources.id").Offset(p.offset()).Limit(p.PerPage).Scan(&rows).Error
	if err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, make([]ReviewItem, len(rows))
	for i, r := range rows {
		out.Items[i] = ReviewItem{ResourceID: r.ResourceID, Version: r.Number, Title: r.Title, Type: r.Type, Stage: r.Stage,
			Subject: r.Subject, Author: r.Name, Update: r.Published != nil, Similar: r.Similar, SubmittedAt: r.SubmittedAt}
	}
	return out, nil
}

func requireReviewer(ctx context.Context) (Actor, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return a, err
	}
	if !a.Has(RoleReviewer) {
		return a, Errorf(CodeForbidden, MsgForbidden)
	}
	return a, nil
}

// Decision is a reviewer's verdict on a submission.
type Decision struct {
	Decision  string          `json:"decision"`
	Reason    string          `json:"reason"`
	Checklist map[string]bool `json:"checklist"`
}

// Decide approves or rejects the pending version of a resource. Approval needs every checklist
// item affirmed and publishes: the version becomes public, the ledger records the work, and the
// catalog is told, all in one transaction. Of two reviewers deciding at once, one wins and the
// other gets a conflict.
func (m *Market) Decide(ctx context.Context, id string, d Decision) (Resource, error) {
	a, err := requireReviewer(ctx)
	if err != nil {
		m.auditDenied(ctx, "review.decide", id, err)
		return Resource{}, err
	}
	d.Reason = strings.TrimSpace(d.Reason)
	switch d.Decision {
	case "approve":
		for _, item := range ChecklistItems {
			if !d.Checklist[item] {
				return Resource{}, Errorf(CodeInvalid, MsgChecklist, item)
			}
		}
	case "reject":
		if d.Reason == "" {
			return Resource{}, Errorf(CodeInvalid, MsgFieldRequired, "reason")
		}
	default:
		return Resource{}, Errorf(CodeInvalid, MsgFieldOneOf, "decision", d.Decision, "approve, reject")
	}
	if utf8.RuneCountInString(d.Reason) > 2000 {
		return Resource{}, Errorf(CodeInvalid, MsgFieldTooLong, "reason", 2000)
	}
	for k := range d.Checklist {
		if !containsString(ChecklistItems, k) {
			return Resource{}, Errorf(CodeInvalid, MsgFieldOneOf, "checklist", k, strings.Join(ChecklistItems, ", "))
		}
	}
	row, err := m.loadResource(ctx, m.db.DB, id)
	if err != nil {
		return Resource{}, err
	}
	if row.OwnerID == a.UserID {
		err := Errorf(CodeForbidden, MsgOwnReview)
		m.auditDenied(ctx, "review.decide", id, err)
		return Resource{}, err
	}
	v, err := m.loadVersion(ctx, m.db.DB, row.CurrentVersionID)
	if err != nil {
		return Resource{}, err
	}
	if v.Status != StatusPendingReview {
		return Resource{}, Errorf(CodeConflict, MsgAlreadyDecided)
	}
	var parentPins []rights.Parent
	var registered rights.Parent
	if d.Decision == "approve" {
		// Entries this publication builds on must be in the log before it can point at them.
		var parents []string
		m.db.WithContext(ctx).Model(&parentRow{}).Where("resource_id = ?", id).Order("parent_id").Pluck("parent_id", &parents)
		for _, p := range parents {
			pin, err := m.pin(ctx, "work.registered:"+p)
			if err != nil {
				return Resource{}, err
			}
			parentPins = append(parentPins, pin)
		}
		if row.PublishedVersionID != nil {
			if registered, err = m.pin(ctx, "work.registered:"+id); err != nil {
				return Resource{}, err
			}
		}
	}
	checklist, _ := json.Marshal(d.Checklist)
	now := m.now()
	err = m.tx(ctx, func(tx *gorm.DB) error {
		status := StatusRejected
		if d.Decision == "approve" {
			status = versionApproved
		}
		res := tx.Model(&versionRow{}).Where("id = ? AND status = ?", v.ID, StatusPendingReview).
			Updates(map[string]any{"status": status, "decided_at": now, "decided_by": a.UserID, "decision_reason": d.Reason,
				"checklist": string(checklist), "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(CodeConflict, MsgAlreadyDecided)
		}
		if d.Decision == "reject" {
			if row.PublishedVersionID == nil {
				if err := tx.Model(&resourceRow{}).Where("id = ?", id).Updates(map[string]any{"status": StatusRejected, "updated_at": now}).Error; err != nil {
					return err
				}
			}
			return m.audit(ctx, tx, "review.reject", id, OutcomeOK, map[string]any{"version": v.Number, "reason": d.Reason})
		}
		if err := m.publish(ctx, tx, row, v, parentPins, registered, now); err != nil {
			return err
		}
		return m.audit(ctx, tx, "review.approve", id, OutcomeOK, map[string]any{"version": v.Number, "reason": d.Reason})
	})
	if err != nil {
		if IsCode(err, CodeConflict) {
			m.auditDenied(ctx, "review.decide", id, err)
		}
		return Resource{}, err
	}
	if d.Decision == "approve" {
		m.opts.CatalogChanged()
	}
	return m.Resource(ctx, id)
}

// publish makes version v of row public inside tx: statuses, ledger entries, the similarity
// index and the catalog outbox.
func (m *Market) publish(ctx context.Context, tx *gorm.DB, row resourceRow, v versionRow, parents []rights.Parent, registered rights.Parent, now time.Time) error {
	if row.PublishedVersionID != nil {
		if err := tx.Model(&versionRow{}).Where("id = ?", *row.PublishedVersionID).
			Updates(map[string]any{"status": versionSuperseded, "updated_at": now}).Error; err != nil {
			return err
		}
	}
	upd := map[string]any{"status": StatusPublished, "published_version_id": v.ID, "updated_at": now}
	if row.PublishedAt == nil {
		upd["published_at"] = now
	}
	if err := tx.Model(&resourceRow{}).Where("id = ?", row.ID).Updates(upd).Error; err != nil {
		return err
	}
	var files []fileRow
	if err := tx.Where("version_id = ?", v.ID).Order("position").Find(&files).Error; err != nil {
		return err
	}
	var parentIDs []string
	tx.Model(&parentRow{}).Where("resource_id = ?", row.ID).Pluck("parent_id", &parentIDs)
	meta := v.meta(parentIDs)
	sig := m.minhash.Signature(versionText(meta, files))
	fp, err := sig.MarshalBinary()
	if err != nil {
		return err
	}
	digest := contentDigest(files, meta)
	terms := &rights.License{Code: meta.Offer.License}
	if p := listPrice(meta.Offer); p > 0 {
		terms.PriceFen, terms.Currency = p, "CNY"
	}
	work := []rights.Subject{{Role: subjectWork, ID: row.ID}, {Role: subjectVersion, ID: v.ID}}
	if row.PublishedVersionID == nil {
		subjects := append(work[:1:1], rights.Subject{Role: subjectAuthor, ID: row.OwnerID})
		if row.InstitutionID != nil {
			subjects = append(subjects, rights.Subject{Role: subjectInstitution, ID: *row.InstitutionID})
		}
		reg := rights.Entry{Type: rights.WorkRegistered, Time: now, Subjects: subjects, ContentSHA256: digest,
			Fingerprint: fp, Parents: parents, License: terms}
		if err := m.record(ctx, tx, "work.registered:"+row.ID, reg, row.ID); err != nil {
			return err
		}
		pub := rights.Entry{Type: rights.WorkPublished, Time: now, Subjects: work, ContentSHA256: digest, License: terms}
		if err := m.record(ctx, tx, "work.published:"+v.ID, pub, row.ID); err != nil {
			return err
		}
	} else {
		upd := rights.Entry{Type: rights.WorkUpdated, Time: now, Subjects: work, ContentSHA256: digest, Fingerprint: fp,
			Parents: append([]rights.Parent{registered}, parents...), License: terms}
		if err := m.record(ctx, tx, "work.updated:"+v.ID, upd, row.ID); err != nil {
			return err
		}
	}
	if err := m.similarity.Index(ctx, tx, row.ID, sig); err != nil {
		return err
	}
	return m.reindexCatalog(ctx, tx, row.ID)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
