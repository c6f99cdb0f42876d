// Package oai speaks OAI-PMH 2.0 for Ziyuan, both ways.
//
// As a provider (Provider, served by web at /oai) it disseminates every resource that was ever
// published — Dublin Core (oai_dc) and IEEE LOM (the IEEE 1484.12.3 XML binding) — in sets by
// 学段 and 学科, with stateless signed resumption tokens, and keeps taken-down resources as
// deleted records for ever.
//
// As a harvester (Harvest, run by `ziyuan harvest`) it lists another repository's records
// incrementally, maps their Dublin Core or LOM onto the taxonomy and hands them to market, which
// puts them into review; what cannot be mapped is reported by identifier, never dropped.
//
// It owns the protocol, the XML and the field mappings; the records themselves come from and go
// to market. It knows nothing of HTTP servers (no Fiber here): web turns requests into Serve
// calls, and the harvester is an ordinary HTTP client.
package oai
