package market

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
)

// OAI-PMH dissemination: what the provider (market/oai, served by web at /oai) reads. A record
// is a resource that was ever published: its public version while it is published, and a
// deleted record, kept for ever, once it has been taken down ("deletedRecord: persistent").
// Drafts, submissions and rejected works never existed as far as harvesters are concerned.

// oaiDatestamp is the SQL expression of a record's datestamp: when its disseminated metadata
// last changed. That is the approval of the public version (a pending update changes nothing a
// harvester can see), or the takedown, after which the record never changes again.
const oaiDatestamp = "CASE WHEN resources.status = 'taken_down' THEN resources.updated_at " +
	"ELSE COALESCE(resource_versions.decided_at, resources.updated_at) END"

// OAIRecord is a resource as the OAI-PMH provider disseminates it.
type OAIRecord struct {
	ID        string
	Datestamp time.Time
	// Deleted marks a taken-down resource: harvesters get its header only.
	Deleted bool
	// Stage and Subject place the record in the set hierarchy (deleted records keep them).
	Stage, Subject string
	// The rest is filled unless the query asked for headers only.
	Version         int
	Meta            Meta
	Author          string
	Institution     string
	InstitutionCode string
	Files           []FileInfo
	// Parents are the works this one derives from (IDs and titles of their public versions).
	Parents     []ResourceRef
	CreatedAt   time.Time
	PublishedAt time.Time
	// Source is set on records harvested from another repository.
	Source *Provenance
}

// OAICursor is the position after the last record a list page returned: lists run in
// (datestamp, id) order, so a cursor stays valid while records change — a record modified
// during a harvest moves behind the cursor and is listed again later, never skipped.
type OAICursor struct {
	Datestamp time.Time
	ID        string
}

// OAIQuery selects records for ListIdentifiers and ListRecords.
type OAIQuery struct {
	// From is inclusive, Before exclusive; zero values leave that end open.
	From, Before time.Time
	// Stage and Subject restrict to a set; empty matches all.
	Stage, Subject string
	After          *OAICursor
	Limit          int
	// HeadersOnly skips the metadata, for ListIdentifiers.
	HeadersOnly bool
}

type oaiHead struct {
	ID            string
	Status        string
	VersionID     string
	Stage         string
	Subject       string
	OwnerID       string
	InstitutionID *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	PublishedAt   *time.Time
	DecidedAt     *time.Time
	VersionNumber int
}

func (h oaiHead) datestamp() time.Time {
	if h.Status == StatusTakenDown || h.DecidedAt == nil {
		return h.UpdatedAt.UTC()
	}
	return h.DecidedAt.UTC()
}

func (m *Market) oaiBase(ctx context.Context, q OAIQuery) *gorm.DB {
	db := m.db.WithContext(ctx).Table("resources").
		Joins("JOIN resource_versions ON resource_versions.id = resources.published_version_id").
		Where("resources.published_version_id IS NOT NULL")
	if !q.From.IsZero() {
		db = db.Where(oaiDatestamp+" >= ?", q.From.UTC())
	}
	if !q.Before.IsZero() {
		db = db.Where(oaiDatestamp+" < ?", q.Before.UTC())
	}
	if q.Stage != "" {
		db = db.Where("resource_versions.stage = ?", q.Stage)
	}
	if q.Subject != "" {
		db = db.Where("resource_versions.subject = ?", q.Subject)
	}
	return db
}

const oaiHeadColumns = "resources.id, resources.status, resources.published_version_id AS version_id, " +
	"resource_versions.stage, resource_versions.subject, resources.owner_id, resources.institution_id, " +
	"resources.created_at, resources.updated_at, resources.published_at, resource_versions.decided_at, " +
	"resource_versions.number AS version_number"

// OAICount counts the records a query selects (its cursor and limit aside), for
// completeListSize.
func (m *Market) OAICount(ctx context.Context, q OAIQuery) (int64, error) {
	var n int64
	if err := m.oaiBase(ctx, q).Count(&n).Error; err != nil {
		return 0, asDomain(err)
	}
	return n, nil
}

// OAIRecords lists records in (datestamp, id) order after q.After, at most q.Limit of them.
func (m *Market) OAIRecords(ctx context.Context, q OAIQuery) ([]OAIRecord, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		return nil, Errorf(CodeInvalid, MsgPageRange, 1000)
	}
	db := m.oaiBase(ctx, q)
	if c := q.After; c != nil {
		at := c.Datestamp.UTC()
		db = db.Where("("+oaiDatestamp+" > ? OR ("+oaiDatestamp+" = ? AND resources.id > ?))", at, at, c.ID)
	}
	var heads []oaiHead
	if err := db.Select(oaiHeadColumns).Order(oaiDatestamp + ", resources.id").Limit(q.Limit).Scan(&heads).Error; err != nil {
		return nil, asDomain(err)
	}
	return m.oaiRecords(ctx, heads, q.HeadersOnly)
}

// OAIRecord returns one record; resources never published do not exist for OAI-PMH.
func (m *Market) OAIRecord(ctx context.Context, id string) (OAIRecord, error) {
	if !ValidID(id) {
		return OAIRecord{}, Errorf(CodeNotFound, MsgNotFound, "record")
	}
	var heads []oaiHead
	err := m.oaiBase(ctx, OAIQuery{}).Select(oaiHeadColumns).Where("resources.id = ?", id).Scan(&heads).Error
	if err != nil {
		return OAIRecord{}, asDomain(err)
	}
	if len(heads) == 0 {
		return OAIRecord{}, Errorf(CodeNotFound, MsgNotFound, "record")
	}
	recs, err := m.oaiRecords(ctx, heads, false)
	if err != nil {
		return OAIRecord{}, err
	}
	return recs[0], nil
}

// OAIEarliest returns the earliest datestamp, and false when there are no records yet.
func (m *Market) OAIEarliest(ctx context.Context) (time.Time, bool, error) {
	var heads []oaiHead
	err := m.oaiBase(ctx, OAIQuery{}).Select(oaiHeadColumns).Order(oaiDatestamp + ", resources.id").Limit(1).Scan(&heads).Error
	if err != nil {
		return time.Time{}, false, asDomain(err)
	}
	if len(heads) == 0 {
		return time.Time{}, false, nil
	}
	return heads[0].datestamp(), true, nil
}

// oaiRecords completes the heads of a page with their metadata, a few queries per page
// rather than per record.
func (m *Market) oaiRecords(ctx context.Context, heads []oaiHead, headersOnly bool) ([]OAIRecord, error) {
	out := make([]OAIRecord, len(heads))
	for i, h := range heads {
		out[i] = OAIRecord{ID: h.ID, Datestamp: h.datestamp(), Deleted: h.Status == StatusTakenDown, Stage: h.Stage,
			Subject: h.Subject, Version: h.VersionNumber, CreatedAt: h.CreatedAt.UTC()}
		if h.PublishedAt != nil {
			out[i].PublishedAt = h.PublishedAt.UTC()
		}
	}
	if headersOnly || len(heads) == 0 {
		return out, nil
	}
	db := m.db.WithContext(ctx)
	ids := make([]string, len(heads))
	versionIDs := make([]string, len(heads))
	var ownerIDs, instIDs []string
	for i, h := range heads {
		ids[i], versionIDs[i] = h.ID, h.VersionID
		ownerIDs = append(ownerIDs, h.OwnerID)
		if h.InstitutionID != nil {
			instIDs = append(instIDs, *h.InstitutionID)
		}
	}
	var versions []versionRow
	if err := db.Where("id IN ?", versionIDs).Find(&versions).Error; err != nil {
		return nil, Internal(err)
	}
	versionByID := map[string]versionRow{}
	for _, v := range versions {
		versionByID[v.ID] = v
	}
	var users []userRow
	if err := db.Select("id, name").Where("id IN ?", ownerIDs).Find(&users).Error; err != nil {
		return nil, Internal(err)
	}
	userName := map[string]string{}
	for _, u := range users {
		userName[u.ID] = u.Name
	}
	insts := map[string]institutionRow{}
	if len(instIDs) > 0 {
		var rows []institutionRow
		if err := db.Where("id IN ?", instIDs).Find(&rows).Error; err != nil {
			return nil, Internal(err)
		}
		for _, r := range rows {
			insts[r.ID] = r
		}
	}
	var files []fileRow
	if err := db.Select("version_id, position, sha256, name, size, mime, kind").Where("version_id IN ?", versionIDs).
		Order("version_id, position").Find(&files).Error; err != nil {
		return nil, Internal(err)
	}
	filesOf := map[string][]FileInfo{}
	for _, f := range files {
		filesOf[f.VersionID] = append(filesOf[f.VersionID], FileInfo{Name: f.Name, Size: f.Size, SHA256: f.SHA256, MIME: f.MIME, Kind: f.Kind})
	}
	var parents []struct{ ResourceID, ParentID, Title, Name, Status string }
	err := db.Table("resource_parents").
		Select("resource_parents.resource_id, resource_parents.parent_id, resource_versions.title, users.name, resources.status").
		Joins("JOIN resources ON resources.id = resource_parents.parent_id").
		Joins("JOIN resource_versions ON resource_versions.id = COALESCE(resources.published_version_id, resources.current_version_id)").
		Joins("JOIN users ON users.id = resources.owner_id").
		Where("resource_parents.resource_id IN ?", ids).Order("resource_parents.resource_id, resource_parents.parent_id").Scan(&parents).Error
	if err != nil {
		return nil, Internal(err)
	}
	parentsOf := map[string][]ResourceRef{}
	for _, p := range parents {
		parentsOf[p.ResourceID] = append(parentsOf[p.ResourceID], ResourceRef{ID: p.ParentID, Title: p.Title, Author: p.Name, Status: p.Status})
	}
	sources, err := m.provenances(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, h := range heads {
		r := &out[i]
		v, ok := versionByID[h.VersionID]
		if !ok {
			return nil, Internal(errors.New("published version " + h.VersionID + " missing"))
		}
		parentIDs := make([]string, 0, len(parentsOf[h.ID]))
		for _, p := range parentsOf[h.ID] {
			parentIDs = append(parentIDs, p.ID)
		}
		r.Meta = v.meta(parentIDs)
		r.Author = userName[h.OwnerID]
		if h.InstitutionID != nil {
			inst := insts[*h.InstitutionID]
			r.Institution = inst.Name
			if inst.Code != nil {
				r.InstitutionCode = *inst.Code
			}
		}
		r.Files = filesOf[h.VersionID]
		r.Parents = parentsOf[h.ID]
		r.Source = sources[h.ID]
	}
	return out, nil
}

// provenances returns the harvest provenance of those of ids that were harvested.
func (m *Market) provenances(ctx context.Context, ids []string) (map[string]*Provenance, error) {
	var rows []harvestRecordRow
	if err := m.db.WithContext(ctx).Where("resource_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, Internal(err)
	}
	out := make(map[string]*Provenance, len(rows))
	for _, r := range rows {
		out[r.ResourceID] = r.provenance()
	}
	return out, nil
}

// Provenance says where a harvested resource came from. Its owner here is the harvest
// account; the creator and publisher are the source's.
type Provenance struct {
	// Repository is the source's OAI-PMH base URL; Identifier the record's OAI identifier there.
	Repository string `json:"repository"`
	Identifier string `json:"identifier"`
	// URL is a link to the work at the source, when the record gave one.
	URL       string    `json:"url,omitempty"`
	Creator   string    `json:"creator,omitempty"`
	Publisher string    `json:"publisher,omitempty"`
	Datestamp time.Time `json:"datestamp"`
	// Parents are the source identifiers of the works it derives from there.
	Parents []string `json:"parents,omitempty"`
	// Withdrawn is set once the source deleted the record.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

func (r harvestRecordRow) provenance() *Provenance {
	p := &Provenance{Repository: r.BaseURL, Identifier: r.Identifier, URL: r.SourceURL, Creator: r.Creator,
		Publisher: r.Publisher, Datestamp: r.Datestamp.UTC(), Withdrawn: r.Status == harvestDeleted}
	json.Unmarshal([]byte(r.Parents), &p.Parents)
	return p
}
