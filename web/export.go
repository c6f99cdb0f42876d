package web

import (
	"io"

	"ziyuan/market/export"
)

// table is tabular data for a download (see market/export, which web and cmd share).
type table = export.Table

// writeCSV writes tables as CSV in UTF-8 with a byte-order mark: Excel on Chinese Windows
// otherwise reads UTF-8 as GBK and garbles every Chinese header. Money is written in yuan.
func writeCSV(w io.Writer, tables ...table) error { return export.WriteCSV(w, tables...) }

// writeXLSX writes one sheet per table with a bold, frozen header row and number formats
// (¥#,##0.00 for money, #,##0 for counts).
func writeXLSX(w io.Writer, tables ...table) error { return export.WriteXLSX(w, tables...) }
