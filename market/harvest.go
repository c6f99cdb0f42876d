package market

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/rights"
)

// Harvesting: market's side of `ziyuan harvest`. market/oai fetches records from another
// OAI-PMH repository and maps them onto the taxonomy; here they become resources that wait for
// review like any submission (提供必审), owned by a harvest account of a public-welfare
// institution and carrying their provenance.
//
// Harvested items are metadata-only: an OAI-PMH record describes a work and links to it at the
// source, and copying the files would need rights and a fetchable link that OAI-PMH does not
// promise. The reviewer judges the description and the source link; a reader follows the link.
//
// These methods are for the operator's command line, which acts with the operator's authority
// (like CreatePlatformAdmin); no request reaches them.

// The defaults of a harvest's target: the demo data's 国家中小学智慧教育公益资源中心 and an
// account created in it when missing.
const (
	DefaultHarvestInstitution = "9100000001"
	DefaultHarvestLogin       = "oai.harvester"
	defaultHarvestName        = "OAI-PMH 采集"
)

// Harvest record states: a source's record is active until the source deletes it.
const (
	harvestActive  = "active"
	harvestDeleted = "deleted"
)

// The ledger's subject role and reason of a takedown caused by a source's deletion.
const (
	subjectHarvestSource = "harvest_source"
	reasonSourceDeleted  = "source_deleted"
)

type harvestSourceRow struct {
	ID               string `gorm:"primaryKey"`
	BaseURL          string
	SetSpec          string
	RepositoryName   string
	LastResponseDate *time.Time
	LastHarvestAt    *time.Time
	CreatedAt        time.Time
}

func (harvestSourceRow) TableName() string { return "harvest_sources" }

type harvestRecordRow struct {
	BaseURL    string `gorm:"primaryKey"`
	Identifier string `gorm:"primaryKey"`
	ResourceID string
	SourceID   string
	Datestamp  time.Time
	MetaHash   string
	Status     string
	Creator    string
	Publisher  string
	SourceURL  string
	Parents    string
	ImportedAt time.Time
	UpdatedAt  time.Time
}

func (harvestRecordRow) TableName() string { return "harvest_records" }

// HarvestTarget says whom harvested items belong to; zero fields take the defaults.
type HarvestTarget struct {
	// InstitutionCode is the 10-digit code of a public-welfare institution.
	InstitutionCode string
	// Login is the owning account: an existing verified publisher of that institution, or a
	// login to create there.
	Login string
}

// HarvestAccount is the prepared owner of harvested items.
type HarvestAccount struct {
	UserID        string
	Login         string
	Name          string
	InstitutionID string
	Institution   string
	// Created reports that PrepareHarvest created the account.
	Created bool
	actor   Actor
}

// PrepareHarvest checks the target institution — it must exist and be a public-welfare one, since
// harvested items are public-welfare items — and returns the harvest account, creating it when
// missing: a verified teacher of the institution whose password nobody knows, so nobody signs
// in as it.
func (m *Market) PrepareHarvest(ctx context.Context, t HarvestTarget) (HarvestAccount, error) {
	if t.InstitutionCode == "" {
		t.InstitutionCode = DefaultHarvestInstitution
	}
	if t.Login == "" {
		t.Login = DefaultHarvestLogin
	}
	login, err := normalizeLogin(t.Login)
	if err != nil {
		return HarvestAccount{}, err
	}
	var inst institutionRow
	err = m.db.WithContext(ctx).Where("code = ?", t.InstitutionCode).Take(&inst).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && inst.Kind != string(KindPublic) {
		return HarvestAccount{}, Errorf(CodeInvalid, MsgHarvestTarget, t.InstitutionCode)
	}
	if err != nil {
		return HarvestAccount{}, Internal(err)
	}
	acc := HarvestAccount{Login: login, InstitutionID: inst.ID, Institution: inst.Name}
	var row userRow
	err = m.db.WithContext(ctx).Where("login = ?", login).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		now := m.now()
		secret := make([]byte, 32)
		rand.Read(secret)
		row = userRow{ID: NewID(), Login: login, Name: defaultHarvestName, PasswordHash: HashPassword(hex.EncodeToString(secret), m.opts.Argon2),
			InstitutionID: &inst.ID, Verified: true, VerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
		err = m.tx(ctx, func(tx *gorm.DB) error {
			if err := m.insertUser(tx, &row, []Role{RoleTeacher}, nil); err != nil {
				return err
			}
			return m.audit(ctx, tx, "harvest.account", row.ID, OutcomeOK, map[string]string{"login": login, "institution": inst.ID})
		})
		if err != nil {
			return HarvestAccount{}, err
		}
		acc.Created = true
	case err != nil:
		return HarvestAccount{}, Internal(err)
	case row.InstitutionID == nil || *row.InstitutionID != inst.ID:
		return HarvestAccount{}, Errorf(CodeInvalid, MsgHarvestAccount, login, "it belongs to another institution")
	}
	a, err := m.ActorFor(ctx, row.ID)
	if err != nil {
		return HarvestAccount{}, err
	}
	if !a.Verified || !a.Has(RoleTeacher) && !a.Has(RoleInstitutionAdmin) {
		return HarvestAccount{}, Errorf(CodeInvalid, MsgHarvestAccount, login, "it is not a verified teacher or institution admin")
	}
	acc.UserID, acc.Name, acc.actor = row.ID, row.Name, a
	return acc, nil
}

// HarvestState is what Ziyuan remembers of a source (a base URL and set) between harvests.
type HarvestState struct {
	SourceID string
	// LastResponseDate is the source's responseDate when the last complete harvest began, zero
	// when there has been none: the next harvest asks for records changed since.
	LastResponseDate time.Time
	LastHarvestAt    time.Time
}

// HarvestSource returns the state of a source, registering it on first use.
func (m *Market) HarvestSource(ctx context.Context, baseURL, set string) (HarvestState, error) {
	row := harvestSourceRow{ID: NewID(), BaseURL: baseURL, SetSpec: set, CreatedAt: m.now()}
	db := m.db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return HarvestState{}, Internal(err)
	}
	// A fresh row: GORM would add the (maybe not inserted) new row's ID to the condition.
	row = harvestSourceRow{}
	if err := db.Where("base_url = ? AND set_spec = ?", baseURL, set).Take(&row).Error; err != nil {
		return HarvestState{}, Internal(err)
	}
	st := HarvestState{SourceID: row.ID}
	if row.LastResponseDate != nil {
		st.LastResponseDate = row.LastResponseDate.UTC()
	}
	if row.LastHarvestAt != nil {
		st.LastHarvestAt = row.LastHarvestAt.UTC()
	}
	return st, nil
}

// CompleteHarvest records a complete harvest of a source that began at the source's
// responseDate, so that the next one continues from there.
func (m *Market) CompleteHarvest(ctx context.Context, sourceID string, responseDate time.Time, repositoryName string) error {
	now := m.now()
	rd := responseDate.UTC()
	err := m.db.WithContext(ctx).Model(&harvestSourceRow{}).Where("id = ?", sourceID).
		Updates(map[string]any{"last_response_date": rd, "last_harvest_at": now, "repository_name": repositoryName}).Error
	return asDomain(err)
}

// HarvestedRecord is one record of a source, mapped onto the taxonomy by market/oai.
type HarvestedRecord struct {
	// SourceID comes from HarvestSource; BaseURL and Identifier name the record at the source.
	SourceID   string
	BaseURL    string
	Identifier string
	Datestamp  time.Time
	Deleted    bool
	// The rest describes a live record.
	Meta      Meta
	Creator   string
	Publisher string
	URL       string
	// Parents are the source identifiers of the works the record derives from. They stay
	// provenance: a derivation link here needs the parent published here first.
	Parents []string
}

// HarvestOutcome says what importing a record did.
type HarvestOutcome string

const (
	HarvestImported  HarvestOutcome = "imported"  // a new resource waits for review
	HarvestUpdated   HarvestOutcome = "updated"   // a new version waits for review
	HarvestUnchanged HarvestOutcome = "unchanged" // nothing new since the last harvest
	HarvestWithdrawn HarvestOutcome = "deleted"   // the source deleted it: taken down here
	HarvestSkipped   HarvestOutcome = "skipped"   // nothing to do, see Reason
)

// HarvestResult is the outcome of one record.
type HarvestResult struct {
	Outcome    HarvestOutcome
	ResourceID string
	Reason     string
}

// ImportHarvested brings one source record in: a new record becomes a resource waiting for
// review, submitted with the self-review pledge on the harvester's behalf; a changed one gets a
// new version waiting for review (the public version stays public meanwhile); a deleted one
// takes the local copy down. A record the mapping cannot accept (paid, a course, a field the
// taxonomy refuses) is an invalid error, which the caller reports by identifier.
func (m *Market) ImportHarvested(ctx context.Context, acc HarvestAccount, rec HarvestedRecord) (HarvestResult, error) {
	if acc.UserID == "" || rec.SourceID == "" || rec.BaseURL == "" || rec.Identifier == "" {
		return HarvestResult{}, Internal(errors.New("ImportHarvested needs a prepared account and a source"))
	}
	ctx = WithActor(ctx, acc.actor)
	var existing *harvestRecordRow
	var row harvestRecordRow
	err := m.db.WithContext(ctx).Where("base_url = ? AND identifier = ?", rec.BaseURL, rec.Identifier).Take(&row).Error
	if err == nil {
		existing = &row
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return HarvestResult{}, Internal(err)
	}
	if rec.Deleted {
		if existing == nil {
			return HarvestResult{Outcome: HarvestSkipped, Reason: "deleted at the source, never imported"}, nil
		}
		return m.withdrawHarvested(ctx, *existing, rec)
	}
	meta, err := m.harvestMeta(ctx, acc, rec.Meta)
	if err != nil {
		return HarvestResult{}, err
	}
	parents, _ := json.Marshal(nonNil(rec.Parents))
	hash := harvestHash(meta, rec)
	if existing == nil {
		return m.importNew(ctx, acc, rec, meta, hash, string(parents))
	}
	res := HarvestResult{ResourceID: existing.ResourceID}
	if existing.Status == harvestDeleted {
		res.Outcome, res.Reason = HarvestSkipped, "deleted at the source earlier and taken down here; a takedown is final"
		return res, nil
	}
	if existing.MetaHash == hash {
		res.Outcome = HarvestUnchanged
		return res, nil
	}
	return m.updateHarvested(ctx, *existing, rec, meta, hash, string(parents))
}

// harvestMeta checks a mapped description as a submission of the harvest account: harvested
// items are free, and neither courses nor services (they need seats and dates, or a vendor).
func (m *Market) harvestMeta(ctx context.Context, acc HarvestAccount, meta Meta) (Meta, error) {
	meta.Parents, meta.Course = nil, nil
	if strings.TrimSpace(meta.Type) == TypeCourse || strings.TrimSpace(meta.Type) == TypeService {
		return meta, Errorf(CodeInvalid, MsgHarvestType, meta.Type)
	}
	if !meta.Offer.Free() {
		return meta, Errorf(CodeInvalid, MsgHarvestNotFree, meta.Offer.License)
	}
	return m.normalizeMeta(ctx, meta, acc.actor)
}

// harvestHash fingerprints what a harvest brings, to tell a changed record from a re-sent one.
func harvestHash(meta Meta, rec HarvestedRecord) string {
	b, _ := json.Marshal(struct {
		Meta                    Meta
		Creator, Publisher, URL string
		Parents                 []string
	}{meta, rec.Creator, rec.Publisher, rec.URL, rec.Parents})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (m *Market) importNew(ctx context.Context, acc HarvestAccount, rec HarvestedRecord, meta Meta, hash, parents string) (HarvestResult, error) {
	now := m.now()
	inst := acc.InstitutionID
	res := resourceRow{ID: NewID(), OwnerID: acc.UserID, InstitutionID: &inst, Status: StatusPendingReview, CreatedAt: now, UpdatedAt: now}
	ver := versionRow{ID: NewID(), ResourceID: res.ID, Number: 1, Status: StatusPendingReview, PledgedAt: &now, SubmittedAt: &now,
		CreatedAt: now, UpdatedAt: now}
	ver.setMeta(meta)
	ver.ContentSHA256 = hexDigest(contentDigest(nil, meta))
	res.CurrentVersionID = ver.ID
	hr := harvestRecordRow{BaseURL: rec.BaseURL, Identifier: rec.Identifier, ResourceID: res.ID, SourceID: rec.SourceID,
		Datestamp: rec.Datestamp.UTC(), MetaHash: hash, Status: harvestActive, Creator: rec.Creator, Publisher: rec.Publisher,
		SourceURL: rec.URL, Parents: parents, ImportedAt: now, UpdatedAt: now}
	matches, err := m.similar(ctx, meta)
	if err != nil {
		return HarvestResult{}, err
	}
	err = m.tx(ctx, func(tx *gorm.DB) error {
		for _, row := range []any{&res, &ver, &hr} {
			if err := tx.Create(row).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return Errorf(CodeConflict, MsgConcurrentEdit)
				}
				return err
			}
		}
		if err := m.insertSimilar(tx, ver.ID, res.ID, acc.UserID, matches); err != nil {
			return err
		}
		return m.audit(ctx, tx, "harvest.import", res.ID, OutcomeOK, map[string]string{"source": rec.BaseURL,
			"identifier": rec.Identifier, "pledge": "harvester"})
	})
	if err != nil {
		return HarvestResult{}, err
	}
	return HarvestResult{Outcome: HarvestImported, ResourceID: res.ID}, nil
}

// updateHarvested submits the changed description for review: in place while the current
// version is not public yet, as the next version while it is.
func (m *Market) updateHarvested(ctx context.Context, hr harvestRecordRow, rec HarvestedRecord, meta Meta, hash, parents string) (HarvestResult, error) {
	out := HarvestResult{ResourceID: hr.ResourceID}
	row, err := m.loadResource(ctx, m.db.DB, hr.ResourceID)
	if err != nil {
		return out, err
	}
	if row.Status == StatusTakenDown {
		out.Outcome, out.Reason = HarvestSkipped, "taken down here; a takedown is final"
		return out, nil
	}
	cur, err := m.loadVersion(ctx, m.db.DB, row.CurrentVersionID)
	if err != nil {
		return out, err
	}
	matches, err := m.similar(ctx, meta)
	if err != nil {
		return out, err
	}
	now := m.now()
	err = m.tx(ctx, func(tx *gorm.DB) error {
		target := cur
		if cur.Status == versionApproved || cur.Status == versionSuperseded {
			target = versionRow{ID: NewID(), ResourceID: row.ID, Number: cur.Number + 1, CreatedAt: now}
		}
		target.setMeta(meta)
		target.Status, target.PledgedAt, target.SubmittedAt, target.UpdatedAt = StatusPendingReview, &now, &now, now
		target.DecidedAt, target.DecidedBy, target.DecisionReason, target.Checklist = nil, nil, "", ""
		target.ContentSHA256 = hexDigest(contentDigest(nil, meta))
		if target.ID == cur.ID {
			if err := tx.Save(&target).Error; err != nil {
				return err
			}
		} else if err := tx.Create(&target).Error; err != nil {
			return err
		}
		if err := tx.Where("version_id = ?", target.ID).Delete(&similarRow{}).Error; err != nil {
			return err
		}
		if err := m.insertSimilar(tx, target.ID, row.ID, row.OwnerID, matches); err != nil {
			return err
		}
		status := row.Status
		if row.PublishedVersionID == nil {
			status = StatusPendingReview
		}
		res := tx.Model(&resourceRow{}).Where("id = ? AND current_version_id = ?", row.ID, cur.ID).
			Updates(map[string]any{"current_version_id": target.ID, "status": status, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(CodeConflict, MsgConcurrentEdit)
		}
		if err := tx.Model(&harvestRecordRow{}).Where("base_url = ? AND identifier = ?", hr.BaseURL, hr.Identifier).
			Updates(map[string]any{"datestamp": rec.Datestamp.UTC(), "meta_hash": hash, "creator": rec.Creator, "publisher": rec.Publisher,
				"source_url": rec.URL, "parents": parents, "updated_at": now}).Error; err != nil {
			return err
		}
		return m.audit(ctx, tx, "harvest.update", row.ID, OutcomeOK, map[string]any{"source": rec.BaseURL,
			"identifier": rec.Identifier, "version": target.Number, "pledge": "harvester"})
	})
	if err != nil {
		return out, err
	}
	out.Outcome = HarvestUpdated
	return out, nil
}

// withdrawHarvested follows a source's deletion. A published copy is taken down as a complaint
// would take it down — out of the catalog, its licences revoked, the ledger told (reason
// source_deleted) — and shows as a deleted record on our own OAI-PMH provider; a copy still
// in review leaves the queue. Either way the takedown is final, as every takedown is.
func (m *Market) withdrawHarvested(ctx context.Context, hr harvestRecordRow, rec HarvestedRecord) (HarvestResult, error) {
	out := HarvestResult{ResourceID: hr.ResourceID}
	row, err := m.loadResource(ctx, m.db.DB, hr.ResourceID)
	if err != nil {
		return out, err
	}
	markDeleted := func(tx *gorm.DB, now time.Time) error {
		return tx.Model(&harvestRecordRow{}).Where("base_url = ? AND identifier = ?", hr.BaseURL, hr.Identifier).
			Updates(map[string]any{"status": harvestDeleted, "datestamp": rec.Datestamp.UTC(), "updated_at": now}).Error
	}
	if hr.Status == harvestDeleted || row.Status == StatusTakenDown {
		out.Outcome = HarvestUnchanged
		if hr.Status != harvestDeleted {
			err = m.tx(ctx, func(tx *gorm.DB) error { return markDeleted(tx, m.now()) })
		}
		return out, err
	}
	var pins takedownPins
	if row.PublishedVersionID != nil {
		if pins, err = m.takedownPins(ctx, row.ID); err != nil {
			return out, err
		}
	}
	now := m.now()
	err = m.tx(ctx, func(tx *gorm.DB) error {
		// A submission waiting for review is withdrawn (back to a draft, so that no decision
		// can publish it again) and leaves the review queue with its resource.
		if err := tx.Model(&versionRow{}).Where("id = ? AND status = ?", row.CurrentVersionID, StatusPendingReview).
			Updates(map[string]any{"status": StatusDraft, "updated_at": now}).Error; err != nil {
			return err
		}
		if row.PublishedVersionID != nil {
			cause := rights.Subject{Role: subjectHarvestSource, ID: hr.SourceID}
			if err := m.takeDown(ctx, tx, row.ID, reasonSourceDeleted, cause, pins, now); err != nil {
				return err
			}
		} else if err := tx.Model(&resourceRow{}).Where("id = ?", row.ID).Updates(map[string]any{"status": StatusTakenDown, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := markDeleted(tx, now); err != nil {
			return err
		}
		return m.audit(ctx, tx, "harvest.withdraw", row.ID, OutcomeOK, map[string]string{"source": rec.BaseURL, "identifier": rec.Identifier})
	})
	if err != nil {
		return out, err
	}
	if row.PublishedVersionID != nil {
		m.opts.CatalogChanged()
	}
	out.Outcome = HarvestWithdrawn
	return out, nil
}

// similar finds published works resembling a harvested description, for the reviewer.
func (m *Market) similar(ctx context.Context, meta Meta) ([]rights.Match, error) {
	matches, err := m.similarity.Similar(ctx, m.minhash.Signature(versionText(meta, nil)), similarThreshold)
	if err != nil {
		return nil, Internal(err)
	}
	return matches, nil
}

func (m *Market) insertSimilar(tx *gorm.DB, versionID, resourceID, ownerID string, matches []rights.Match) error {
	for _, match := range matches {
		var owner string
		tx.Model(&resourceRow{}).Where("id = ?", match.DocID).Pluck("owner_id", &owner)
		if match.DocID == resourceID || owner == "" || owner == ownerID {
			continue
		}
		if err := tx.Create(&similarRow{VersionID: versionID, ResourceID: match.DocID, Similarity: match.Similarity}).Error; err != nil {
			return err
		}
	}
	return nil
}

// provenance returns the harvest provenance of one resource, nil for works made here.
func (m *Market) provenance(ctx context.Context, resourceID string) (*Provenance, error) {
	p, err := m.provenances(ctx, []string{resourceID})
	if err != nil {
		return nil, err
	}
	return p[resourceID], nil
}
