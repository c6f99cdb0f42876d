package market

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/catalog"
	"ziyuan/market/files"
	"ziyuan/market/store"
	"ziyuan/rights"
)

// Licence scopes: what a holder may do with a work.
const (
	ScopeFree        = "free"
	ScopePersonal    = "personal"
	ScopeClassroom   = "classroom"
	ScopeInstitution = "institution"
	ScopeCourse      = "course"
)

// PaidScopes are the scopes a paid offer prices.
var PaidScopes = []string{ScopePersonal, ScopeClassroom, ScopeInstitution}

// Licence sources: how a licence came about.
const (
	SourceClaim     = "claim"
	SourceOrder     = "order"
	SourceEnrolment = "enrolment"
)

// Licence states.
const (
	LicenseActive  = "active"
	LicenseRevoked = "revoked"
)

// License is the right of a holder to use a resource.
type License struct {
	ID           string      `json:"id"`
	ResourceID   string      `json:"resource_id"`
	Title        string      `json:"title,omitempty"`
	HolderID     string      `json:"holder_id"`
	Scope        string      `json:"scope"`
	Source       string      `json:"source"`
	License      string      `json:"license"`
	PriceFen     int64       `json:"price_fen"`
	Currency     string      `json:"currency"`
	Status       string      `json:"status"`
	GrantedAt    time.Time   `json:"granted_at"`
	RevokedAt    *time.Time  `json:"revoked_at,omitempty"`
	RevokeReason string      `json:"revoke_reason,omitempty"`
	Ledger       []LedgerRef `json:"ledger"`
}

type licenseRow struct {
	ID         string `gorm:"primaryKey"`
	ResourceID string
	HolderID   string
	// HolderInstitutionID is set on institution licences, which cover every member.
	HolderInstitutionID *string
	Scope               string
	Source              string
	License             string
	PriceFen            int64
	OrderID             *string
	// OrderPosition is the order line that bought the licence: refunding the line revokes it.
	OrderPosition *int
	Status        string
	GrantedAt     time.Time
	RevokedAt     *time.Time
	RevokeReason  string
}

func (licenseRow) TableName() string { return "licenses" }

func (m *Market) licenseView(ctx context.Context, r licenseRow) (License, error) {
	ls, err := m.licenseViews(ctx, []licenseRow{r})
	if err != nil {
		return License{}, err
	}
	return ls[0], nil
}

// licenseViews is licenseView for a list, in a fixed number of queries.
func (m *Market) licenseViews(ctx context.Context, rows []licenseRow) ([]License, error) {
	out := make([]License, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	resourceIDs := make([]string, 0, len(rows))
	licenceIDs := make([]string, 0, len(rows))
	for _, r := range rows {
		resourceIDs = append(resourceIDs, r.ResourceID)
		licenceIDs = append(licenceIDs, r.ID)
	}
	refs, err := m.resourceRefs(ctx, "resources.id IN ?", resourceIDs)
	if err != nil {
		return nil, err
	}
	titles := make(map[string]string, len(refs))
	for _, ref := range refs {
		titles[ref.ID] = ref.Title
	}
	entries, err := m.ledgerRefsOf(ctx, licenceIDs)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out = append(out, License{ID: r.ID, ResourceID: r.ResourceID, HolderID: r.HolderID, Scope: r.Scope, Source: r.Source,
			License: r.License, PriceFen: r.PriceFen, Currency: "CNY", Status: r.Status, GrantedAt: r.GrantedAt,
			RevokedAt: r.RevokedAt, RevokeReason: r.RevokeReason, Title: titles[r.ResourceID], Ledger: entries[r.ID]})
	}
	return out, nil
}

// publishedOffer loads a resource that is public now and the offer of its public version.
func (m *Market) publishedOffer(ctx context.Context, db *gorm.DB, id string) (resourceRow, Meta, error) {
	row, err := m.loadResource(ctx, db, id)
	if err != nil {
		return row, Meta{}, err
	}
	if row.PublishedVersionID == nil || row.Status == StatusTakenDown {
		return row, Meta{}, Errorf(CodeNotFound, MsgNotFound, "resource")
	}
	v, err := m.loadVersion(ctx, db, *row.PublishedVersionID)
	if err != nil {
		return row, Meta{}, err
	}
	return row, v.meta(nil), nil
}

// Claim takes a free item: it grants a licence, recorded in the ledger, once per user — a
// second claim returns the first licence (created is false). Paid items answer
// payment_required; courses are enrolled in, not claimed.
func (m *Market) Claim(ctx context.Context, resourceID string) (License, bool, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return License{}, false, err
	}
	row, meta, err := m.publishedOffer(ctx, m.db.DB, resourceID)
	if err != nil {
		return License{}, false, err
	}
	if meta.Type == TypeCourse {
		return License{}, false, Errorf(CodeInvalid, MsgEnrolInstead)
	}
	if !meta.Offer.Free() {
		return License{}, false, Errorf(CodePaymentRequired, MsgPaymentRequired)
	}
	return m.grantFree(ctx, row, meta, a.UserID, SourceClaim, ScopeFree)
}

// grantFree grants holder a free licence of source unless one exists already.
func (m *Market) grantFree(ctx context.Context, row resourceRow, meta Meta, holder, source, scope string) (License, bool, error) {
	var (
		lic     licenseRow
		created bool
	)
	err := m.tx(ctx, func(tx *gorm.DB) error {
		existing, err := activeLicense(tx, row.ID, holder)
		if err != nil {
			return err
		}
		if existing != nil {
			lic = *existing
			return nil
		}
		lic = licenseRow{ID: NewID(), ResourceID: row.ID, HolderID: holder, Scope: scope, Source: source,
			License: meta.Offer.License, Status: LicenseActive, GrantedAt: m.now()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&lic)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 { // a concurrent claim won
			// A fresh row: GORM would add the primary key of a filled-in one to the query.
			var winner licenseRow
			err := tx.Where("resource_id = ? AND holder_id = ? AND source IN ?", row.ID, holder, []string{SourceClaim, SourceEnrolment}).Take(&winner).Error
			lic = winner
			return err
		}
		created = true
		if err := m.recordGrant(ctx, tx, lic); err != nil {
			return err
		}
		return m.audit(ctx, tx, "license."+source, lic.ID, OutcomeOK, map[string]string{"resource": row.ID})
	})
	if err != nil {
		return License{}, false, err
	}
	l, err := m.licenseView(ctx, lic)
	return l, created, err
}

// recordGrant writes a licence's license.granted entry.
func (m *Market) recordGrant(ctx context.Context, tx *gorm.DB, lic licenseRow) error {
	e := rights.Entry{Type: rights.LicenseGranted, Time: lic.GrantedAt,
		Subjects: []rights.Subject{{Role: subjectLicense, ID: lic.ID}, {Role: subjectWork, ID: lic.ResourceID}, {Role: subjectHolder, ID: lic.HolderID}},
		License:  &rights.License{Code: lic.License, Scope: lic.Scope}}
	if lic.PriceFen > 0 {
		e.License.PriceFen, e.License.Currency = lic.PriceFen, "CNY"
	}
	return m.record(ctx, tx, "license.granted:"+lic.ID, e, lic.ID)
}

// activeLicense returns holder's active licence to a resource, if any: its own, or an
// institution licence of its institution.
func activeLicense(db *gorm.DB, resourceID, holder string) (*licenseRow, error) {
	var rows []licenseRow
	if err := db.Where("resource_id = ? AND status = ? AND (holder_id = ? OR holder_institution_id = (SELECT institution_id FROM users WHERE id = ?))",
		resourceID, LicenseActive, holder, holder).Order("granted_at").Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// Download authorises a download of one file of a resource (the first when sha256 is empty) and
// counts it. Licence holders download published items (free items are claimed on the way);
// the owner, reviewers and admins download any version they may see.
func (m *Market) Download(ctx context.Context, resourceID, sha256 string) (FileInfo, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return FileInfo{}, err
	}
	row, err := m.loadResource(ctx, m.db.DB, resourceID)
	if err != nil {
		return FileInfo{}, err
	}
	versionID := ""
	if canSeeDrafts(a, row) {
		versionID = row.CurrentVersionID
		if row.PublishedVersionID != nil && a.UserID != row.OwnerID && sha256 != "" {
			// Reviewers may want the public version's file too.
			var n int64
			m.db.WithContext(ctx).Model(&fileRow{}).Where("version_id = ? AND sha256 = ?", versionID, sha256).Count(&n)
			if n == 0 {
				versionID = *row.PublishedVersionID
			}
		}
	} else {
		_, meta, err := m.publishedOffer(ctx, m.db.DB, resourceID)
		if err != nil {
			return FileInfo{}, err
		}
		versionID = *row.PublishedVersionID
		lic, err := activeLicense(m.db.WithContext(ctx), resourceID, a.UserID)
		if err != nil {
			return FileInfo{}, Internal(err)
		}
		if lic == nil {
			if !meta.Offer.Free() || meta.Type == TypeCourse {
				return FileInfo{}, Errorf(CodeForbidden, MsgLicenseRequired)
			}
			if _, _, err := m.grantFree(ctx, row, meta, a.UserID, SourceClaim, ScopeFree); err != nil {
				return FileInfo{}, err
			}
		}
	}
	var f fileRow
	q := m.db.WithContext(ctx).Where("version_id = ?", versionID)
	if sha256 != "" {
		q = q.Where("sha256 = ?", strings.ToLower(sha256))
	}
	err = q.Order("position").Limit(1).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return FileInfo{}, Errorf(CodeNotFound, MsgNotFound, "file")
	}
	if err != nil {
		return FileInfo{}, Internal(err)
	}
	err = m.tx(ctx, func(tx *gorm.DB) error {
		var before int64
		if err := tx.Model(&downloadRow{}).Where("resource_id = ? AND user_id = ?", resourceID, a.UserID).Count(&before).Error; err != nil {
			return err
		}
		if err := tx.Create(&downloadRow{ResourceID: resourceID, UserID: a.UserID, SHA256: f.SHA256, At: m.now()}).Error; err != nil {
			return err
		}
		if before > 0 || a.UserID == row.OwnerID {
			return nil
		}
		// Downloads count distinct users other than the author.
		if err := tx.Model(&resourceRow{}).Where("id = ?", resourceID).UpdateColumn("downloads", gorm.Expr("downloads + 1")).Error; err != nil {
			return err
		}
		if row.PublishedVersionID == nil {
			return nil
		}
		return m.reindexCatalog(ctx, tx, resourceID)
	})
	if err != nil {
		return FileInfo{}, err
	}
	m.opts.CatalogChanged()
	return FileInfo{Name: f.Name, Size: f.Size, SHA256: f.SHA256, MIME: f.MIME, Kind: f.Kind}, nil
}

type downloadRow struct {
	ID         int64 `gorm:"primaryKey"`
	ResourceID string
	UserID     string
	SHA256     string `gorm:"column:sha256"`
	At         time.Time
}

func (downloadRow) TableName() string { return "downloads" }

// OpenBlob opens stored content and its size, for a download link that web has checked.
func (m *Market) OpenBlob(ctx context.Context, sha256 string) (io.ReadCloser, int64, error) {
	size, err := m.opts.Blobs.Stat(ctx, sha256)
	if err != nil {
		return nil, 0, Errorf(CodeNotFound, MsgNotFound, "file")
	}
	r, err := m.opts.Blobs.Open(ctx, sha256)
	if err != nil {
		return nil, 0, Errorf(CodeNotFound, MsgNotFound, "file")
	}
	return r, size, nil
}

// DownloadLink returns the blob store's own link to a file that Download has authorised, valid
// for ttl, or ok false when the store offers none (local files: web signs a link to itself).
// The blob is looked up first, so that a lost file is a not_found here rather than an error
// page of the store.
func (m *Market) DownloadLink(ctx context.Context, f FileInfo, ttl time.Duration) (link string, ok bool, err error) {
	linker, ok := m.opts.Blobs.(BlobLinker)
	if !ok {
		return "", false, nil
	}
	if _, err := m.opts.Blobs.Stat(ctx, f.SHA256); err != nil {
		if errors.Is(err, files.ErrBlobNotFound) {
			return "", false, Errorf(CodeNotFound, MsgNotFound, "file")
		}
		return "", false, blobError(err)
	}
	link, err = linker.Presign(ctx, f.SHA256, f.Name, f.MIME, ttl)
	if err != nil {
		return "", false, blobError(err)
	}
	return link, true, nil
}

// Taxonomy is the vocabulary resources are classified by.
func (m *Market) Taxonomy() *catalog.Taxonomy { return m.opts.Taxonomy }

// MyLicenses lists the acting user's licences, newest first.
func (m *Market) MyLicenses(ctx context.Context, p Paging) (Page[License], error) {
	var out Page[License]
	a, err := requireSignedIn(ctx)
	if err != nil {
		return out, err
	}
	if p, err = p.normalize(); err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Model(&licenseRow{}).Where("holder_id = ?", a.UserID)
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []licenseRow
	if err := q.Order("granted_at DESC, id").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage = p.Page, p.PerPage
	out.Items, err = m.licenseViews(ctx, rows)
	return out, err
}

// Licence codes by the freedoms they keep.
func noDerivatives(code string) bool { return strings.HasSuffix(code, "-nd") }
func shareAlike(code string) bool    { return strings.HasSuffix(code, "-sa") }
func nonCommercial(code string) bool { return strings.Contains(code, "-nc") || code == LicensePublic }

// checkDerivation enforces licence compatibility with a derivative's parents, naming the rule
// that a parent breaks.
func (m *Market) checkDerivation(ctx context.Context, a Actor, meta Meta) error {
	for _, p := range meta.Parents {
		row, pm, err := m.publishedOffer(ctx, m.db.DB, p)
		if err != nil {
			return Errorf(CodeInvalid, MsgParentMissing, p)
		}
		code := pm.Offer.License
		switch {
		case noDerivatives(code):
			return Errorf(CodeInvalid, MsgDeriveND, pm.Title, code)
		case shareAlike(code) && meta.Offer.License != code:
			return Errorf(CodeInvalid, MsgDeriveSA, pm.Title, code)
		case nonCommercial(code) && !meta.Offer.Free():
			return Errorf(CodeInvalid, MsgDeriveNC, pm.Title, code)
		case code == LicensePaid && row.OwnerID != a.UserID:
			lic, err := activeLicense(m.db.WithContext(ctx), p, a.UserID)
			if err != nil {
				return Internal(err)
			}
			if lic == nil || (lic.Scope != ScopeClassroom && lic.Scope != ScopeInstitution) {
				return Errorf(CodeInvalid, MsgDerivePaid, pm.Title)
			}
		}
	}
	return nil
}

// lockResource takes a row lock on a resource for the rest of tx where the database has row
// locks; SQLite's single writer already serialises the transaction.
func (m *Market) lockResource(tx *gorm.DB, id string) error {
	if m.db.Dialect != store.Postgres {
		return nil
	}
	var row resourceRow
	return tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&row).Error
}

// LicenseFor returns the acting user's active licence to a resource, or nil.
func (m *Market) LicenseFor(ctx context.Context, resourceID string) (*License, error) {
	a := ActorFrom(ctx)
	if a.Anonymous() || !ValidID(resourceID) {
		return nil, nil
	}
	row, err := activeLicense(m.db.WithContext(ctx), resourceID, a.UserID)
	if err != nil || row == nil {
		return nil, asDomain(err)
	}
	l, err := m.licenseView(ctx, *row)
	return &l, err
}
