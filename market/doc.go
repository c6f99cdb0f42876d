// Package market is the domain core of Ziyuan: institutions, real-name accounts and their roles,
// guardians and consent, the audit log, and (as the marketplace grows) resources, review, offers
// and licences, orders, refunds and sellers' payouts, and contributions.
//
// It owns the business rules and who may do what. It knows nothing of HTTP: the web package
// turns requests into calls on Market, and Market answers with values or *Error carrying one
// of the codes in errors.go. The acting user travels in the context (see WithActor).
package market
