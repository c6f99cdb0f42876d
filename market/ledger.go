package market

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/catalog"
	"ziyuan/rights"
)

// Ledger subject roles: what an entry's opaque IDs stand for.
const (
	subjectWork        = "work"
	subjectVersion     = "version"
	subjectAuthor      = "author"
	subjectInstitution = "institution"
	subjectLicense     = "license"
	subjectHolder      = "holder"
	subjectComplaint   = "complaint"
)

// parentWait bounds how long a change waits for an earlier entry it builds on to be
// integrated; the sequencer integrates within a fraction of a second.
const parentWait = 10 * time.Second

// record queues a ledger entry in tx and remembers it for the subjects that show it.
func (m *Market) record(ctx context.Context, tx *gorm.DB, key string, e rights.Entry, shownOn ...string) error {
	if _, err := m.opts.Ledger.Enqueue(ctx, tx, e, key); err != nil {
		return err
	}
	for _, s := range shownOn {
		row := ledgerRefRow{SubjectID: s, EntryKey: key, EntryType: string(e.Type), CreatedAt: m.now()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// pin waits until the entry with key is integrated and returns it as a parent reference.
func (m *Market) pin(ctx context.Context, key string) (rights.Parent, error) {
	wctx, cancel := context.WithTimeout(ctx, parentWait)
	defer cancel()
	idx, err := m.opts.Ledger.WaitIndexed(wctx, key)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return rights.Parent{}, &Error{Code: CodeUnavailable, Msg: Message{Key: MsgLedgerBusy}, Err: err}
		}
		return rights.Parent{}, Internal(err)
	}
	v, err := m.opts.Ledger.Entry(ctx, idx)
	if err != nil {
		return rights.Parent{}, Internal(err)
	}
	return rights.Parent{Index: idx, LeafHash: v.LeafHash}, nil
}

// ledgerRefs lists the ledger entries recorded for a subject (a resource or a licence).
func (m *Market) ledgerRefs(ctx context.Context, subjectID string) ([]LedgerRef, error) {
	refs, err := m.ledgerRefsOf(ctx, []string{subjectID})
	return refs[subjectID], err
}

// ledgerRefsOf lists the ledger entries of many subjects in two queries, however many there
// are: a page of licences is not a query per licence and per entry.
func (m *Market) ledgerRefsOf(ctx context.Context, subjectIDs []string) (map[string][]LedgerRef, error) {
	out := make(map[string][]LedgerRef, len(subjectIDs))
	if len(subjectIDs) == 0 {
		return out, nil
	}
	for _, id := range subjectIDs {
		out[id] = []LedgerRef{} // an empty list, not null, in JSON
	}
	var rows []ledgerRefRow
	if err := m.db.WithContext(ctx).Where("subject_id IN ?", subjectIDs).Order("created_at, entry_key").Find(&rows).Error; err != nil {
		return nil, Internal(err)
	}
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.EntryKey
	}
	// Entries still waiting for the sequencer have no index yet.
	idx, err := m.opts.Ledger.IndexesOf(ctx, keys)
	if err != nil {
		return nil, Internal(err)
	}
	for _, r := range rows {
		i, ok := idx[r.EntryKey]
		if !ok {
			i = -1
		}
		out[r.SubjectID] = append(out[r.SubjectID], LedgerRef{Index: i, Type: r.EntryType})
	}
	for _, refs := range out {
		// In ledger order; entries still waiting for the sequencer come last.
		slices.SortStableFunc(refs, func(a, b LedgerRef) int {
			switch {
			case a.Index < 0 && b.Index >= 0:
				return 1
			case b.Index < 0 && a.Index >= 0:
				return -1
			}
			return cmp.Compare(a.Index, b.Index)
		})
	}
	return out, nil
}

// catalogDocument builds the search document of a published resource inside tx.
func (m *Market) catalogDocument(ctx context.Context, tx *gorm.DB, resourceID string) (catalog.Document, error) {
	var row resourceRow
	if err := tx.WithContext(ctx).Where("id = ?", resourceID).Take(&row).Error; err != nil {
		return catalog.Document{}, err
	}
	if row.PublishedVersionID == nil {
		return catalog.Document{}, errors.New("catalog document of an unpublished resource")
	}
	var v versionRow
	if err := tx.Where("id = ?", *row.PublishedVersionID).Take(&v).Error; err != nil {
		return catalog.Document{}, err
	}
	meta := v.meta(nil)
	var texts []string
	if err := tx.Model(&fileRow{}).Where("version_id = ?", v.ID).Order("position").Pluck("text", &texts).Error; err != nil {
		return catalog.Document{}, err
	}
	body := meta.Body
	for _, t := range texts {
		body += "\n" + t
	}
	var author userRow
	if err := tx.Select("name").Where("id = ?", row.OwnerID).Take(&author).Error; err != nil {
		return catalog.Document{}, err
	}
	doc := catalog.Document{ID: row.ID, Title: meta.Title, Summary: meta.Summary, Body: body, Keywords: meta.Keywords,
		Type: meta.Type, Stage: meta.Stage, Grade: meta.Grade, Subject: meta.Subject, Edition: meta.Edition,
		Volume: meta.Volume, License: meta.Offer.License, PriceFen: listPrice(meta.Offer), Downloads: row.Downloads,
		Author: author.Name}
	if row.PublishedAt != nil {
		doc.PublishedAt = *row.PublishedAt
	}
	if row.RatingCount > 0 {
		doc.Rating = float64(row.RatingSum) / float64(row.RatingCount)
	}
	if row.InstitutionID != nil {
		var inst institutionRow
		if err := tx.Select("name").Where("id = ?", *row.InstitutionID).Take(&inst).Error; err == nil {
			doc.Institution = inst.Name
		}
	}
	return doc, nil
}

// listPrice is the price a catalog shows: the cheapest scope on sale, 0 for free offers.
func listPrice(o Offer) int64 {
	if o.Free() || o.Prices == nil {
		return 0
	}
	best := int64(0)
	for _, p := range []int64{o.Prices.Personal, o.Prices.Classroom, o.Prices.Institution} {
		if p > 0 && (best == 0 || p < best) {
			best = p
		}
	}
	return best
}

// reindexCatalog queues the resource's current search document (or its removal) in tx and notes
// when it changed, so that a rebuild of a shared index can re-deliver what the old index got
// while the new one was built (RedeliverCatalog). The note is written first: it takes the
// resource's row lock, if the caller has not, before the document is read.
func (m *Market) reindexCatalog(ctx context.Context, tx *gorm.DB, resourceID string) error {
	if err := tx.Model(&resourceRow{}).Where("id = ?", resourceID).UpdateColumn("catalog_changed_at", m.now()).Error; err != nil {
		return err
	}
	c, err := m.catalogChange(ctx, tx, resourceID)
	if err != nil {
		return err
	}
	return catalog.Enqueue(ctx, tx, c)
}

// catalogChange is the change that brings the index to the resource's current state in tx: its
// search document while it is published, else its removal.
func (m *Market) catalogChange(ctx context.Context, tx *gorm.DB, resourceID string) (catalog.Change, error) {
	var row resourceRow
	if err := tx.WithContext(ctx).Where("id = ?", resourceID).Take(&row).Error; err != nil {
		return catalog.Change{}, err
	}
	if row.PublishedVersionID == nil || row.Status == StatusTakenDown {
		return catalog.Deleted(resourceID), nil
	}
	doc, err := m.catalogDocument(ctx, tx, resourceID)
	if err != nil {
		return catalog.Change{}, err
	}
	return catalog.Upserted(doc), nil
}
