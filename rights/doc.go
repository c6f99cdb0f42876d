// Package rights is Ziyuan's IP-rights ledger and its content fingerprints.
//
// It owns: the ledger entry types and their canonical, versioned encoding (Entry, Encode,
// Decode); the append-only Merkle log in the database (tables of SchemaFS), built with
// golang.org/x/mod/sumdb/tlog; the batching sequencer that integrates queued entries into
// dense indexes; signed C2SP tlog-checkpoint notes (golang.org/x/mod/sumdb/note, Ed25519) and
// the rollback check against the copy kept outside the database; inclusion and consistency
// proofs, C2SP tlog-tiles reads and receipts; offline and online verification; fsck; and the
// fingerprints used for duplicate checks (SHA-256 of files, MinHash near-duplicates with an
// LSH index). It imports nothing else of Ziyuan: market calls it through a small port, web
// serves its read API, cmd wires it.
//
// # Wiring
//
//	key, _ := rights.LoadOrCreateKey(dataDir, origin)          // or rights.NewKey(setting, origin)
//	store.Migrate(ctx, db, store.Source{Name: "rights", FS: rights.SchemaFS()})
//	lg, err := rights.Open(ctx, rights.Config{
//		DB: db.DB, Key: key,
//		CheckpointFile: filepath.Join(dataDir, "ledger-checkpoint"),
//	})                                    // *RollbackError: refuse to start, print err
//	go func() { err := lg.Run(ctx) ... }() // sequencer + checkpoint publisher
//
//	// In the business transaction (a resource and its entry commit together):
//	q, err := lg.Enqueue(ctx, tx, rights.Entry{Type: rights.WorkPublished, Subjects: ...}, "work.published:"+versionID)
//	// Later: idx, err := lg.IndexOf(ctx, key)  (ErrPending until integrated; WaitIndexed blocks)
//
// Reads for the HTTP layer: Checkpoint (text/plain note), VerifierKey, Entry (EntryView JSON),
// InclusionProof, ConsistencyProof, Tile (C2SP paths, TileData.Full for Cache-Control),
// Receipt. Verification without our database: VerifyReceipt, VerifyEntries (a batch against
// one checkpoint), OpenCheckpoint with Checkpoint.VerifyInclusion / VerifyConsistency, and
// Audit with a Fetcher (HTTPFetcher speaks the API) for `ziyuan ledger verify --url`. Fsck
// recomputes the tree and reports the first difference.
//
// Fingerprints: HashContent (streaming SHA-256); NewMinHasher(...).Signature(text) and
// SimilarityIndex.Index / Similar for near duplicates.
//
// # Errors
//
// Failures wrap one of ErrInvalid, ErrTooLarge, ErrNotFound, ErrPending, ErrVerification and
// ErrInconsistent (test with errors.Is); CheckRollback's refusal is a *RollbackError whose
// message explains the rollback to the operator.
//
// # Guarantees
//
// Indexes are dense from 0 and assigned once: entries, their stored hashes and the tree state
// change in one transaction. A checkpoint is signed only after the stored hashes reproduce the
// tree state's root and a consistency proof from the previous checkpoint checks out.
package rights
