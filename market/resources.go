package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"ziyuan/catalog"
	"ziyuan/market/files"
	"ziyuan/rights"
)

// Resource statuses.
const (
	StatusDraft         = "draft"
	StatusPendingReview = "pending_review"
	StatusPublished     = "published"
	StatusRejected      = "rejected"
	StatusTakenDown     = "taken_down"
)

// Version statuses: a version is approved when it became public and superseded when a newer
// approved version replaced it.
const (
	versionApproved   = "approved"
	versionSuperseded = "superseded"
)

// Licence codes of offers.
const (
	LicensePublic = "public"
	LicensePaid   = "paid"
)

// Resource types with rules of their own.
const (
	TypeCourse  = "网络课程"
	TypeService = "服务"
)

// Limits of a resource's metadata and files.
const (
	maxTitle      = 120
	maxSummary    = 2000
	maxBody       = 20000
	maxKeywords   = 20
	maxKeyword    = 32
	maxParents    = 16
	maxFiles      = 20
	maxPriceFen   = 10_000_000 // ¥100,000
	maxCourseSeat = 100_000
)

// Prices are a paid offer's prices per licence scope, in fen.
type Prices struct {
	Personal    int64 `json:"personal"`
	Classroom   int64 `json:"classroom"`
	Institution int64 `json:"institution"`
}

// Offer is how a resource is made available: a licence code and, for paid items, prices.
type Offer struct {
	License string  `json:"license"`
	Prices  *Prices `json:"prices,omitempty"`
}

// Free reports whether the offer costs nothing.
func (o Offer) Free() bool { return o.License != LicensePaid }

// Course is the schedule and capacity of a 网络课程.
type Course struct {
	Seats    int       `json:"seats"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// Meta is a resource's description: the body of create and, field by field, of update.
type Meta struct {
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Body     string   `json:"body,omitempty"`
	Type     string   `json:"type"`
	Stage    string   `json:"stage"`
	Grade    string   `json:"grade,omitempty"`
	Subject  string   `json:"subject"`
	Edition  string   `json:"edition,omitempty"`
	Volume   string   `json:"volume,omitempty"`
	Chapter  string   `json:"chapter,omitempty"`
	Language string   `json:"language,omitempty"`
	Keywords []string `json:"keywords"`
	Offer    Offer    `json:"offer"`
	Parents  []string `json:"parents,omitempty"`
	Course   *Course  `json:"course,omitempty"`
}

// MetaPatch is a partial update: nil fields stay as they are.
type MetaPatch struct {
	Title    *string   `json:"title,omitempty"`
	Summary  *string   `json:"summary,omitempty"`
	Body     *string   `json:"body,omitempty"`
	Type     *string   `json:"type,omitempty"`
	Stage    *string   `json:"stage,omitempty"`
	Grade    *string   `json:"grade,omitempty"`
	Subject  *string   `json:"subject,omitempty"`
	Edition  *string   `json:"edition,omitempty"`
	Volume   *string   `json:"volume,omitempty"`
	Chapter  *string   `json:"chapter,omitempty"`
	Language *string   `json:"language,omitempty"`
	Keywords *[]string `json:"keywords,omitempty"`
	Offer    *Offer    `json:"offer,omitempty"`
	Parents  *[]string `json:"parents,omitempty"`
	Course   *Course   `json:"course,omitempty"`
}

func (p MetaPatch) apply(m Meta) Meta {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&m.Title, p.Title)
	set(&m.Summary, p.Summary)
	set(&m.Body, p.Body)
	set(&m.Type, p.Type)
	set(&m.Stage, p.Stage)
	set(&m.Grade, p.Grade)
	set(&m.Subject, p.Subject)
	set(&m.Edition, p.Edition)
	set(&m.Volume, p.Volume)
	set(&m.Chapter, p.Chapter)
	set(&m.Language, p.Language)
	if p.Keywords != nil {
		m.Keywords = *p.Keywords
	}
	if p.Offer != nil {
		m.Offer = *p.Offer
	}
	if p.Parents != nil {
		m.Parents = *p.Parents
	}
	if p.Course != nil {
		m.Course = p.Course
	}
	return m
}

// FileInfo describes one file of a version.
type FileInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	MIME   string `json:"mime"`
	Kind   string `json:"kind"`
}

// LedgerRef names a ledger entry behind a resource or licence. Index is -1 while the entry
// waits for the sequencer.
type LedgerRef struct {
	Index int64  `json:"index"`
	Type  string `json:"type"`
}

// Similar is an earlier work that resembles a submitted one.
type Similar struct {
	ID         string  `json:"id"`
	Title      string  `json:"title,omitempty"`
	Similarity float64 `json:"similarity"`
}

// ResourceRef is a short reference to another resource (parents, derivatives).
type ResourceRef struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Author string `json:"author"`
	Status string `json:"status"`
}

// Review is the outcome of the review of a version.
type Review struct {
	DecidedAt *time.Time      `json:"decided_at,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Checklist map[string]bool `json:"checklist,omitempty"`
}

// Resource is what readers of a resource see. Anonymous readers and buyers see the published
// version; the owner, reviewers and admins see the current one, which may be a pending update.
type Resource struct {
	ID            string        `json:"id"`
	Status        string        `json:"status"`
	OwnerID       string        `json:"owner_id"`
	Author        string        `json:"author"`
	InstitutionID *string       `json:"institution_id"`
	Institution   string        `json:"institution,omitempty"`
	Version       int           `json:"version"`
	VersionStatus string        `json:"version_status"`
	Published     *int          `json:"published_version,omitempty"`
	Meta          Meta          `json:"meta"`
	Files         []FileInfo    `json:"files"`
	Ledger        []LedgerRef   `json:"ledger"`
	Similar       []Similar     `json:"similar,omitempty"`
	ParentRefs    []ResourceRef `json:"parent_refs,omitempty"`
	Derivatives   []ResourceRef `json:"derivatives,omitempty"`
	Review        *Review       `json:"review,omitempty"`
	Downloads     int64         `json:"downloads"`
	RatingCount   int64         `json:"rating_count"`
	Rating        float64       `json:"rating"`
	Enrolled      int64         `json:"enrolled,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	PublishedAt   *time.Time    `json:"published_at,omitempty"`
	// Source is set on works harvested from another repository (see harvest.go).
	Source *Provenance `json:"source,omitempty"`
}

// Upload is one inspected file handed to market: its content checked, hashed and its text
// extracted by the caller (see market/files), readable through Open.
type Upload struct {
	Name   string
	Size   int64
	SHA256 string
	MIME   string
	Kind   string
	Text   string
	Open   func() (io.ReadCloser, error)
}

// Blobs stores file contents by their SHA-256: files.Blobs, implemented by files.LocalBlobs
// and s3blobs. Errors wrap the files sentinels: files.ErrBlobNotFound for an absent blob,
// files.ErrUnavailable for a store that is down.
type Blobs interface {
	// Put stores size bytes from r under sha256; storing an existing blob is a no-op.
	Put(ctx context.Context, sha256 string, r io.Reader, size int64) error
	Open(ctx context.Context, sha256 string) (io.ReadCloser, error)
	// Stat returns a blob's size, or files.ErrBlobNotFound when it is not stored.
	Stat(ctx context.Context, sha256 string) (int64, error)
	Delete(ctx context.Context, sha256 string) error
}

// BlobLinker is offered by blob stores that can hand out their own short-lived links to a
// blob (S3 presigned URLs), so that downloads go from the store to the browser without passing
// through this server. A store without it has its files served by web behind signed links.
type BlobLinker interface {
	// Presign returns a URL that fetches the blob until ttl has passed, served as an attachment
	// named fileName of type mimeType.
	Presign(ctx context.Context, sha256, fileName, mimeType string, ttl time.Duration) (string, error)
}

type resourceRow struct {
	ID                 string `gorm:"primaryKey"`
	OwnerID            string
	InstitutionID      *string
	Status             string
	CurrentVersionID   string
	PublishedVersionID *string
	Downloads          int64
	RatingCount        int64
	RatingSum          int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PublishedAt        *time.Time
}

func (resourceRow) TableName() string { return "resources" }

type versionRow struct {
	ID               string `gorm:"primaryKey"`
	ResourceID       string
	Number           int
	Status           string
	Title            string
	Summary          string
	Body             string
	Type             string
	Stage            string
	Grade            string
	Subject          string
	Edition          string
	Volume           string
	Chapter          string
	Language         string
	Keywords         string
	License          string
	PricePersonal    int64
	PriceClassroom   int64
	PriceInstitution int64
	CourseSeats      int
	CourseStartsAt   *time.Time
	CourseEndsAt     *time.Time
	ContentSHA256    string `gorm:"column:content_sha256"`
	PledgedAt        *time.Time
	SubmittedAt      *time.Time
	DecidedAt        *time.Time
	DecidedBy        *string
	DecisionReason   string
	Checklist        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (versionRow) TableName() string { return "resource_versions" }

type fileRow struct {
	VersionID string `gorm:"primaryKey"`
	Position  int    `gorm:"primaryKey"`
	SHA256    string `gorm:"column:sha256"`
	Name      string
	Size      int64
	MIME      string `gorm:"column:mime"`
	Kind      string
	// Text is the file's extracted text, kept for fingerprints and search.
	Text string
}

func (fileRow) TableName() string { return "version_files" }

type parentRow struct {
	ResourceID string `gorm:"primaryKey"`
	ParentID   string `gorm:"primaryKey"`
}

func (parentRow) TableName() string { return "resource_parents" }

type similarRow struct {
	VersionID  string `gorm:"primaryKey"`
	ResourceID string `gorm:"primaryKey"`
	Similarity float64
}

func (similarRow) TableName() string { return "version_similar" }

type ledgerRefRow struct {
	SubjectID string `gorm:"primaryKey"`
	EntryKey  string `gorm:"primaryKey"`
	EntryType string
	CreatedAt time.Time
}

func (ledgerRefRow) TableName() string { return "ledger_refs" }

func (v versionRow) meta(parents []string) Meta {
	m := Meta{Title: v.Title, Summary: v.Summary, Body: v.Body, Type: v.Type, Stage: v.Stage, Grade: v.Grade,
		Subject: v.Subject, Edition: v.Edition, Volume: v.Volume, Chapter: v.Chapter, Language: v.Language,
		Offer: Offer{License: v.License}, Parents: parents}
	if m.Parents == nil {
		m.Parents = []string{}
	}
	json.Unmarshal([]byte(v.Keywords), &m.Keywords)
	if m.Keywords == nil {
		m.Keywords = []string{}
	}
	if v.License == LicensePaid {
		m.Offer.Prices = &Prices{Personal: v.PricePersonal, Classroom: v.PriceClassroom, Institution: v.PriceInstitution}
	}
	if v.CourseSeats > 0 && v.CourseStartsAt != nil && v.CourseEndsAt != nil {
		m.Course = &Course{Seats: v.CourseSeats, StartsAt: *v.CourseStartsAt, EndsAt: *v.CourseEndsAt}
	}
	return m
}

// setMeta copies a validated Meta into a version row.
func (v *versionRow) setMeta(m Meta) {
	v.Title, v.Summary, v.Body, v.Type, v.Stage, v.Grade = m.Title, m.Summary, m.Body, m.Type, m.Stage, m.Grade
	v.Subject, v.Edition, v.Volume, v.Chapter, v.Language = m.Subject, m.Edition, m.Volume, m.Chapter, m.Language
	kw, _ := json.Marshal(m.Keywords)
	v.Keywords = string(kw)
	v.License = m.Offer.License
	v.PricePersonal, v.PriceClassroom, v.PriceInstitution = 0, 0, 0
	if p := m.Offer.Prices; p != nil {
		v.PricePersonal, v.PriceClassroom, v.PriceInstitution = p.Personal, p.Classroom, p.Institution
	}
	v.CourseSeats, v.CourseStartsAt, v.CourseEndsAt = 0, nil, nil
	if c := m.Course; c != nil {
		s, e := c.StartsAt.UTC(), c.EndsAt.UTC()
		v.CourseSeats, v.CourseStartsAt, v.CourseEndsAt = c.Seats, &s, &e
	}
}

// PriceFor returns the price of a licence scope, and whether the scope is sold.
func (o Offer) PriceFor(scope string) (int64, bool) {
	if o.Prices == nil {
		return 0, false
	}
	switch scope {
	case ScopePersonal:
		return o.Prices.Personal, o.Prices.Personal > 0
	case ScopeClassroom:
		return o.Prices.Classroom, o.Prices.Classroom > 0
	case ScopeInstitution:
		return o.Prices.Institution, o.Prices.Institution > 0
	}
	return 0, false
}

// normalizeMeta trims and checks a resource description against the taxonomy and the offer
// rules, naming the first wrong field and its allowed values.
func (m *Market) normalizeMeta(ctx context.Context, meta Meta, owner Actor) (Meta, error) {
	trim := func(s string) string { return strings.TrimSpace(s) }
	meta.Title, meta.Summary, meta.Body = trim(meta.Title), trim(meta.Summary), strings.TrimSpace(meta.Body)
	meta.Type, meta.Stage, meta.Grade, meta.Subject = trim(meta.Type), trim(meta.Stage), trim(meta.Grade), trim(meta.Subject)
	meta.Edition, meta.Volume, meta.Chapter = trim(meta.Edition), trim(meta.Volume), trim(meta.Chapter)
	meta.Offer.License = trim(meta.Offer.License)
	if meta.Language = trim(meta.Language); meta.Language == "" {
		meta.Language = "zh"
	}
	for _, f := range []struct {
		name, v string
		max     int
		need    bool
	}{{"title", meta.Title, maxTitle, true}, {"summary", meta.Summary, maxSummary, true}, {"body", meta.Body, maxBody, false},
		{"chapter", meta.Chapter, 120, false}, {"language", meta.Language, 16, true}} {
		if f.need && f.v == "" {
			return meta, Errorf(CodeInvalid, MsgFieldRequired, f.name)
		}
		if utf8.RuneCountInString(f.v) > f.max || !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			return meta, Errorf(CodeInvalid, MsgFieldTooLong, f.name, f.max)
		}
	}
	kws := make([]string, 0, len(meta.Keywords))
	for _, k := range meta.Keywords {
		k = trim(k)
		if k == "" || slices.Contains(kws, k) {
			continue
		}
		if utf8.RuneCountInString(k) > maxKeyword || strings.ContainsAny(k, "\x00\r\n") {
			return meta, Errorf(CodeInvalid, MsgFieldTooLong, "keywords", maxKeyword)
		}
		kws = append(kws, k)
	}
	if len(kws) == 0 {
		return meta, Errorf(CodeInvalid, MsgFieldRequired, "keywords")
	}
	if len(kws) > maxKeywords {
		return meta, Errorf(CodeInvalid, MsgTooMany, "keywords", maxKeywords)
	}
	meta.Keywords = kws
	if meta.Offer.License == "" {
		return meta, Errorf(CodeInvalid, MsgFieldRequired, "offer.license")
	}
	err := m.opts.Taxonomy.Validate(catalog.Classification{Stage: meta.Stage, Grade: meta.Grade, Subject: meta.Subject,
		Edition: meta.Edition, Volume: meta.Volume, Type: meta.Type, License: meta.Offer.License})
	var ve catalog.ValidationError
	if errors.As(err, &ve) && len(ve) > 0 {
		fe := ve[0]
		field := fe.Field
		if field == "license" {
			field = "offer.license"
		}
		if fe.Value == "" && fe.Reason == "required" {
			return meta, Errorf(CodeInvalid, MsgFieldRequired, field)
		}
		return meta, Errorf(CodeInvalid, MsgFieldOneOf, field, fe.Value, strings.Join(fe.Allowed, ", "))
	} else if err != nil {
		return meta, Internal(err)
	}
	if err := m.checkOffer(ctx, &meta, owner); err != nil {
		return meta, err
	}
	if len(meta.Parents) > maxParents {
		return meta, Errorf(CodeInvalid, MsgTooMany, "parents", maxParents)
	}
	parents := make([]string, 0, len(meta.Parents))
	for _, p := range meta.Parents {
		if !ValidID(p) {
			return meta, Errorf(CodeInvalid, MsgFieldFormat, "parents", p)
		}
		if !slices.Contains(parents, p) {
			parents = append(parents, p)
		}
	}
	meta.Parents = parents
	return meta, nil
}

// checkOffer applies the offer rules: who may offer public-welfare items, prices only for paid
// offers, courses with seats and dates, services sold by vendors.
func (m *Market) checkOffer(ctx context.Context, meta *Meta, owner Actor) error {
	o := &meta.Offer
	switch o.License {
	case LicensePaid:
		p := o.Prices
		if p == nil || p.Personal <= 0 && p.Classroom <= 0 && p.Institution <= 0 {
			return Errorf(CodeInvalid, MsgPricesRequired)
		}
		for name, v := range map[string]int64{"personal": p.Personal, "classroom": p.Classroom, "institution": p.Institution} {
			if v < 0 || v > maxPriceFen {
				return Errorf(CodeInvalid, MsgPriceRange, "offer.prices."+name, maxPriceFen/100)
			}
		}
	default:
		if o.Prices != nil && (o.Prices.Personal != 0 || o.Prices.Classroom != 0 || o.Prices.Institution != 0) {
			return Errorf(CodeInvalid, MsgPricesOnlyPaid)
		}
		o.Prices = nil
	}
	if o.License == LicensePublic {
		inst, err := m.institutionOf(ctx, owner)
		if err != nil {
			return err
		}
		if inst == nil || (inst.Kind != KindPublic && inst.Kind != KindBureau && inst.Kind != KindSchool) {
			return Errorf(CodeInvalid, MsgPublicOffer)
		}
	}
	switch meta.Type {
	case TypeCourse:
		c := meta.Course
		if c == nil || c.Seats < 1 || c.Seats > maxCourseSeat {
			return Errorf(CodeInvalid, MsgCourseSeats, maxCourseSeat)
		}
		if c.StartsAt.IsZero() || c.EndsAt.IsZero() || !c.EndsAt.After(c.StartsAt) {
			return Errorf(CodeInvalid, MsgCourseDates)
		}
	case TypeService:
		if !owner.Has(RoleVendor) {
			return Errorf(CodeInvalid, MsgServiceVendor)
		}
		if o.License != LicensePaid {
			return Errorf(CodeInvalid, MsgServicePaid)
		}
		meta.Course = nil
	default:
		if meta.Course != nil {
			return Errorf(CodeInvalid, MsgCourseOnlyCourses)
		}
	}
	return nil
}

func (m *Market) institutionOf(ctx context.Context, a Actor) (*Institution, error) {
	if a.InstitutionID == "" {
		return nil, nil
	}
	inst, err := m.institution(ctx, a.InstitutionID)
	if err != nil {
		return nil, err
	}
	return &inst, nil
}

// requirePublisher admits verified teachers, vendors and institution admins.
func requirePublisher(ctx context.Context) (Actor, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return a, err
	}
	if !a.Has(RoleTeacher) && !a.Has(RoleVendor) && !a.Has(RoleInstitutionAdmin) {
		return a, Errorf(CodeForbidden, MsgForbidden)
	}
	return a, nil
}

// CreateResource creates a draft with its first version and files.
func (m *Market) CreateResource(ctx context.Context, meta Meta, uploads []Upload) (Resource, error) {
	a, err := requirePublisher(ctx)
	if err != nil {
		return Resource{}, err
	}
	if meta, err = m.normalizeMeta(ctx, meta, a); err != nil {
		return Resource{}, err
	}
	if len(uploads) > maxFiles {
		return Resource{}, Errorf(CodeInvalid, MsgTooMany, "file", maxFiles)
	}
	if err := m.checkParentsExist(ctx, meta.Parents, ""); err != nil {
		return Resource{}, err
	}
	stored, err := m.storeBlobs(ctx, uploads)
	if err != nil {
		return Resource{}, err
	}
	now := m.now()
	res := resourceRow{ID: NewID(), OwnerID: a.UserID, Status: StatusDraft, CreatedAt: now, UpdatedAt: now}
	if a.InstitutionID != "" {
		inst := a.InstitutionID
		res.InstitutionID = &inst
	}
	ver := versionRow{ID: NewID(), ResourceID: res.ID, Number: 1, Status: StatusDraft, CreatedAt: now, UpdatedAt: now}
	ver.setMeta(meta)
	res.CurrentVersionID = ver.ID
	err = m.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&res).Error; err != nil {
			return err
		}
		if err := tx.Create(&ver).Error; err != nil {
			return err
		}
		if err := insertFiles(tx, ver.ID, 0, uploads); err != nil {
			return err
		}
		if err := m.setParents(tx, res.ID, meta.Parents); err != nil {
			return err
		}
		return m.audit(ctx, tx, "resource.create", res.ID, OutcomeOK, map[string]any{"title": meta.Title, "files": len(uploads)})
	})
	if err != nil {
		m.discardBlobs(ctx, stored)
		return Resource{}, err
	}
	return m.Resource(ctx, res.ID)
}

// storeBlobs saves the uploads' contents and returns the hashes it newly stored, so that a
// failure afterwards can remove them again.
func (m *Market) storeBlobs(ctx context.Context, uploads []Upload) ([]string, error) {
	var added []string
	for _, u := range uploads {
		_, err := m.opts.Blobs.Stat(ctx, u.SHA256)
		if err == nil {
			continue // already stored for another version
		}
		if !errors.Is(err, files.ErrBlobNotFound) {
			// A store that cannot answer Stat will not take a Put either; asking again would
			// only double the wait for a store that has stopped answering.
			m.discardBlobs(ctx, added)
			return nil, blobError(err)
		}
		r, err := u.Open()
		if err != nil {
			m.discardBlobs(ctx, added)
			return nil, Internal(err)
		}
		err = m.opts.Blobs.Put(ctx, u.SHA256, r, u.Size)
		r.Close()
		if err != nil {
			m.discardBlobs(ctx, added)
			return nil, blobError(err)
		}
		added = append(added, u.SHA256)
	}
	return added, nil
}

// blobError reports a failure of the blob store: unavailable (try again later) when the store
// is down or too slow to answer, internal otherwise.
func blobError(err error) error {
	if errors.Is(err, files.ErrUnavailable) {
		return &Error{Code: CodeUnavailable, Msg: Message{Key: MsgUnavailable}, Err: err}
	}
	return Internal(err)
}

// discardBlobs removes blobs stored for a change that did not commit, unless another version
// refers to them meanwhile.
func (m *Market) discardBlobs(ctx context.Context, hashes []string) {
	ctx = context.WithoutCancel(ctx)
	for _, h := range hashes {
		var n int64
		if err := m.db.WithContext(ctx).Model(&fileRow{}).Where("sha256 = ?", h).Count(&n).Error; err != nil || n > 0 {
			continue
		}
		if err := m.opts.Blobs.Delete(ctx, h); err != nil {
			m.log.WarnContext(ctx, "remove orphaned blob", "sha256", h, "err", err)
		}
	}
}

func insertFiles(tx *gorm.DB, versionID string, from int, uploads []Upload) error {
	for i, u := range uploads {
		row := fileRow{VersionID: versionID, Position: from + i, SHA256: u.SHA256, Name: u.Name, Size: u.Size, MIME: u.MIME, Kind: u.Kind, Text: u.Text}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

func (m *Market) setParents(tx *gorm.DB, resourceID string, parents []string) error {
	if err := tx.Where("resource_id = ?", resourceID).Delete(&parentRow{}).Error; err != nil {
		return err
	}
	for _, p := range parents {
		if err := tx.Create(&parentRow{ResourceID: resourceID, ParentID: p}).Error; err != nil {
			return err
		}
	}
	return nil
}

// checkParentsExist refuses parents that are not published works, and a resource naming itself.
func (m *Market) checkParentsExist(ctx context.Context, parents []string, self string) error {
	for _, p := range parents {
		if p == self {
			return Errorf(CodeInvalid, MsgParentSelf)
		}
		var row resourceRow
		err := m.db.WithContext(ctx).Where("id = ?", p).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && row.PublishedVersionID == nil {
			return Errorf(CodeInvalid, MsgParentMissing, p)
		}
		if err != nil {
			return Internal(err)
		}
	}
	return nil
}

// loadResource reads a resource row.
func (m *Market) loadResource(ctx context.Context, db *gorm.DB, id string) (resourceRow, error) {
	var row resourceRow
	if !ValidID(id) {
		return row, Errorf(CodeNotFound, MsgNotFound, "resource")
	}
	err := db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, Errorf(CodeNotFound, MsgNotFound, "resource")
	}
	if err != nil {
		return row, Internal(err)
	}
	return row, nil
}

func (m *Market) loadVersion(ctx context.Context, db *gorm.DB, id string) (versionRow, error) {
	var v versionRow
	if err := db.WithContext(ctx).Where("id = ?", id).Take(&v).Error; err != nil {
		return v, Internal(err)
	}
	return v, nil
}

// canSeeDrafts reports whether a may see a resource's unpublished versions.
func canSeeDrafts(a Actor, res resourceRow) bool {
	return !a.Anonymous() && (a.UserID == res.OwnerID || a.Has(RoleReviewer) || a.Has(RolePlatformAdmin) ||
		a.Has(RoleInstitutionAdmin) && res.InstitutionID != nil && *res.InstitutionID == a.InstitutionID)
}

// Resource returns a resource as the acting user may see it: published resources to anyone,
// others to their owner, reviewers and admins (to anyone else it does not exist).
func (m *Market) Resource(ctx context.Context, id string) (Resource, error) {
	a := ActorFrom(ctx)
	row, err := m.loadResource(ctx, m.db.DB, id)
	if err != nil {
		return Resource{}, err
	}
	drafts := canSeeDrafts(a, row)
	versionID := row.CurrentVersionID
	if !drafts {
		if row.PublishedVersionID == nil || row.Status == StatusTakenDown {
			return Resource{}, Errorf(CodeNotFound, MsgNotFound, "resource")
		}
		versionID = *row.PublishedVersionID
	}
	return m.view(ctx, row, versionID, drafts)
}

// view assembles the Resource of one version.
func (m *Market) view(ctx context.Context, row resourceRow, versionID string, drafts bool) (Resource, error) {
	db := m.db.WithContext(ctx)
	v, err := m.loadVersion(ctx, m.db.DB, versionID)
	if err != nil {
		return Resource{}, err
	}
	var parentIDs []string
	if err := db.Model(&parentRow{}).Where("resource_id = ?", row.ID).Order("parent_id").Pluck("parent_id", &parentIDs).Error; err != nil {
		return Resource{}, Internal(err)
	}
	out := Resource{ID: row.ID, Status: row.Status, OwnerID: row.OwnerID, InstitutionID: row.InstitutionID,
		Version: v.Number, VersionStatus: v.Status, Meta: v.meta(parentIDs), Downloads: row.Downloads,
		RatingCount: row.RatingCount, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, PublishedAt: row.PublishedAt}
	if row.RatingCount > 0 {
		out.Rating = float64(row.RatingSum) / float64(row.RatingCount)
	}
	var owner userRow
	if err := db.Select("name").Where("id = ?", row.OwnerID).Take(&owner).Error; err != nil {
		return Resource{}, Internal(err)
	}
	out.Author = owner.Name
	if row.InstitutionID != nil {
		if inst, err := m.institution(ctx, *row.InstitutionID); err == nil {
			out.Institution = inst.Name
		}
	}
	if row.PublishedVersionID != nil {
		var n int
		db.Model(&versionRow{}).Where("id = ?", *row.PublishedVersionID).Pluck("number", &n)
		out.Published = &n
	}
	var files []fileRow
	if err := db.Where("version_id = ?", v.ID).Order("position").Find(&files).Error; err != nil {
		return Resource{}, Internal(err)
	}
	out.Files = make([]FileInfo, len(files))
	for i, f := range files {
		out.Files[i] = FileInfo{Name: f.Name, Size: f.Size, SHA256: f.SHA256, MIME: f.MIME, Kind: f.Kind}
	}
	if out.Ledger, err = m.ledgerRefs(ctx, row.ID); err != nil {
		return Resource{}, err
	}
	if out.Source, err = m.provenance(ctx, row.ID); err != nil {
		return Resource{}, err
	}
	if out.ParentRefs, err = m.resourceRefs(ctx, "resources.id IN (SELECT parent_id FROM resource_parents WHERE resource_id = ?)", row.ID); err != nil {
		return Resource{}, err
	}
	if out.Derivatives, err = m.resourceRefs(ctx, "resources.id IN (SELECT resource_id FROM resource_parents WHERE parent_id = ?) AND resources.published_version_id IS NOT NULL AND resources.status <> 'taken_down'", row.ID); err != nil {
		return Resource{}, err
	}
	if drafts {
		var sims []similarRow
		if err := db.Where("version_id = ?", v.ID).Order("similarity DESC").Find(&sims).Error; err != nil {
			return Resource{}, Internal(err)
		}
		for _, s := range sims {
			ref := Similar{ID: s.ResourceID, Similarity: s.Similarity}
			if refs, err := m.resourceRefs(ctx, "resources.id = ?", s.ResourceID); err == nil && len(refs) == 1 {
				ref.Title = refs[0].Title
			}
			out.Similar = append(out.Similar, ref)
		}
		if v.DecidedAt != nil {
			r := &Review{DecidedAt: v.DecidedAt, Reason: v.DecisionReason}
			json.Unmarshal([]byte(v.Checklist), &r.Checklist)
			out.Review = r
		}
	}
	if v.Type == TypeCourse {
		if err := db.Model(&licenseRow{}).Where("resource_id = ? AND source = ? AND status = ?", row.ID, SourceEnrolment, LicenseActive).
			Count(&out.Enrolled).Error; err != nil {
			return Resource{}, Internal(err)
		}
	}
	return out, nil
}

// resourceRefs lists short references to the resources matching a condition, with the
// title of their public version (or current one when unpublished).
func (m *Market) resourceRefs(ctx context.Context, where string, args ...any) ([]ResourceRef, error) {
	return m.queryRefs(ctx, "resources.created_at, resources.id", -1, 0, where, args...)
}

// queryRefs is resourceRefs with an order and a page (limit -1: all).
func (m *Market) queryRefs(ctx context.Context, order string, limit, offset int, where string, args ...any) ([]ResourceRef, error) {
	var rows []struct {
		ID, Status, Title, Name string
	}
	err := m.db.WithContext(ctx).Table("resources").
		Select("resources.id, resources.status, resource_versions.title, users.name").
		Joins("JOIN resource_versions ON resource_versions.id = COALESCE(resources.published_version_id, resources.current_version_id)").
		Joins("JOIN users ON users.id = resources.owner_id").
		Where(where, args...).Order(order).Limit(limit).Offset(offset).Scan(&rows).Error
	if err != nil {
		return nil, Internal(err)
	}
	out := make([]ResourceRef, len(rows))
	for i, r := range rows {
		out[i] = ResourceRef{ID: r.ID, Title: r.Title, Author: r.Name, Status: r.Status}
	}
	return out, nil
}

// UpdateResource changes a resource's description. A draft or rejected version is edited in
// place; a published resource (or one waiting for review) gets a new draft version, and the
// public version stays public until the new one is approved.
func (m *Market) UpdateResource(ctx context.Context, id string, patch MetaPatch, uploads []Upload) (Resource, error) {
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
	if row.Status == StatusTakenDown {
		return Resource{}, Errorf(CodeConflict, MsgTakenDown)
	}
	cur, err := m.loadVersion(ctx, m.db.DB, row.CurrentVersionID)
	if err != nil {
		return Resource{}, err
	}
	var parents []string
	m.db.WithContext(ctx).Model(&parentRow{}).Where("resource_id = ?", id).Pluck("parent_id", &parents)
	meta, err := m.normalizeMeta(ctx, patch.apply(cur.meta(parents)), a)
	if err != nil {
		return Resource{}, err
	}
	if err := m.checkParentsExist(ctx, meta.Parents, id); err != nil {
		return Resource{}, err
	}
	var existing []fileRow
	if err := m.db.WithContext(ctx).Where("version_id = ?", cur.ID).Order("position").Find(&existing).Error; err != nil {
		return Resource{}, Internal(err)
	}
	if len(existing)+len(uploads) > maxFiles {
		return Resource{}, Errorf(CodeInvalid, MsgTooMany, "file", maxFiles)
	}
	stored, err := m.storeBlobs(ctx, uploads)
	if err != nil {
		return Resource{}, err
	}
	now := m.now()
	err = m.tx(ctx, func(tx *gorm.DB) error {
		editable := cur.Status == StatusDraft || cur.Status == StatusRejected
		target := cur
		if !editable {
			// A version under review or in public is frozen: edits make the next version.
			target = versionRow{ID: NewID(), ResourceID: id, Number: cur.Number + 1, CreatedAt: now}
			if cur.Status == StatusPendingReview {
				// The pending submission is withdrawn in favour of the new draft.
				if err := tx.Model(&versionRow{}).Where("id = ? AND status = ?", cur.ID, StatusPendingReview).
					Updates(map[string]any{"status": StatusDraft, "updated_at": now}).Error; err != nil {
					return err
				}
			}
		}
		target.setMeta(meta)
		target.Status, target.UpdatedAt = StatusDraft, now
		if editable {
			if err := tx.Save(&target).Error; err != nil {
				return err
			}
		} else {
			if err := tx.Create(&target).Error; err != nil {
				return err
			}
			for _, f := range existing {
				f.VersionID = target.ID
				if err := tx.Create(&f).Error; err != nil {
					return err
				}
			}
		}
		if err := insertFiles(tx, target.ID, len(existing), uploads); err != nil {
			return err
		}
		if err := m.setParents(tx, id, meta.Parents); err != nil {
			return err
		}
		status := row.Status
		if row.PublishedVersionID == nil {
			status = StatusDraft
		}
		res := tx.Model(&resourceRow{}).Where("id = ? AND current_version_id = ?", id, cur.ID).
			Updates(map[string]any{"current_version_id": target.ID, "status": status, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(CodeConflict, MsgConcurrentEdit)
		}
		return m.audit(ctx, tx, "resource.update", id, OutcomeOK, map[string]any{"version": target.Number, "files_added": len(uploads)})
	})
	if err != nil {
		m.discardBlobs(ctx, stored)
		return Resource{}, err
	}
	return m.Resource(ctx, id)
}

// contentDigest is the SHA-256 of a version's file manifest (name-independent: the sorted
// file hashes), which the ledger records as the work's content.
func contentDigest(files []fileRow, meta Meta) rights.Digest {
	hashes := make([]string, len(files))
	for i, f := range files {
		hashes[i] = f.SHA256
	}
	sort.Strings(hashes)
	h := sha256.New()
	for _, x := range hashes {
		h.Write([]byte(x + "\n"))
	}
	if len(files) == 0 {
		// Courses and services without files are identified by their description.
		h.Write([]byte(meta.Title + "\n" + meta.Summary + "\n" + meta.Body))
	}
	var d rights.Digest
	copy(d[:], h.Sum(nil))
	return d
}

func hexDigest(d rights.Digest) string { return hex.EncodeToString(d[:]) }
