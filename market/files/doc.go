// Package files owns what happens to an uploaded file before the marketplace trusts it, and
// where its bytes live afterwards.
//
// Inspect streams an upload to a private temporary file while hashing it, refuses what is too
// large, empty, of a type we do not accept (decided by content, never by the client's claim), or
// hostile (executables, scripts, ZIP slips, ZIP bombs, nested archives, macros), gives it a safe
// name, and extracts its text for search and fingerprints. Blobs is the small port for
// content-addressed storage; LocalBlobs keeps blobs under a directory, and other stores (S3)
// implement the same interface elsewhere.
//
// Every refusal is an *Error whose Class maps one to one onto the market's error codes and whose
// message, in Chinese and English, names the file and the problem. The package knows nothing of
// HTTP or of the market's domain types.
package files
