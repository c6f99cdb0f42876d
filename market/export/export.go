// Package export writes tabular downloads the way Chinese schools open them: CSV in UTF-8 with
// a byte-order mark (Excel on Chinese Windows reads BOM-less UTF-8 as GBK and garbles every
// header), and XLSX workbooks with a bold, frozen header row and number formats (¥#,##0.00 for
// money, #,##0 for counts, 0.00 for averages).
//
// Both writers stream: rows go out as they are given, so an export of a hundred thousand rows
// never sits in memory whole. Table, WriteCSV and WriteXLSX are the small-table shorthands.
// The package knows nothing of HTTP or the database; web and cmd both use it.
package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// Kind says how a column's values are written.
type Kind int

const (
	// Text columns hold strings as they are.
	Text Kind = iota
	// Count columns hold whole numbers, shown grouped by thousands in XLSX.
	Count
	// Money columns hold integer fen, written as yuan (12.50; ¥#,##0.00 in XLSX).
	Money
	// Decimal columns hold float64 values shown with two decimals.
	Decimal
)

// Column is one column of a table: its header and kind; Width (in Excel characters) is optional.
type Column struct {
	Title string
	Kind  Kind
	Width float64
}

// BOM is the UTF-8 byte-order mark a CSV download starts with.
const BOM = "\xEF\xBB\xBF"

// CSV writes one or more tables as CSV (a blank line between tables).
type CSV struct {
	w      *csv.Writer
	cols   []Column
	tables int
	rec    []string
}

// NewCSV writes the byte-order mark and returns the writer.
func NewCSV(w io.Writer) (*CSV, error) {
	if _, err := io.WriteString(w, BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel writes and expects
	return &CSV{w: cw}, nil
}

// Header starts a table with its header row.
func (c *CSV) Header(cols []Column) error {
	if c.tables > 0 {
		if err := c.w.Write(nil); err != nil {
			return err
		}
	}
	c.tables++
	c.cols = cols
	titles := make([]string, len(cols))
	for i, col := range cols {
		titles[i] = col.Title
	}
	return c.w.Write(titles)
}

// Row writes one row of the current table.
func (c *CSV) Row(vals ...any) error {
	c.rec = c.rec[:0]
	for i, v := range vals {
		k := Text
		if i < len(c.cols) {
			k = c.cols[i].Kind
		}
		c.rec = append(c.rec, CellText(v, k))
	}
	return c.w.Write(c.rec)
}

// Flush writes out what is buffered and reports any write error.
func (c *CSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// CellText is the CSV text of a value in a column of kind k: fen as yuan in money columns,
// floats with two decimals.
func CellText(v any, k Kind) string {
	switch x := v.(type) {
	case int64:
		if k == Money {
			return Yuan(x)
		}
		return strconv.FormatInt(x, 10)
	case int:
		if k == Money {
			return Yuan(int64(x))
		}
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// Yuan writes fen as a plain decimal amount of yuan: 1234 → "12.34", -5 → "-0.05".
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// Workbook writes an XLSX file sheet by sheet; each sheet streams its rows.
type Workbook struct {
	f      *excelize.File
	first  string // the file's initial sheet, renamed
	began  bool   // whether the first sheet has been written
	used   map[string]bool
	cur    *Sheet
	styles struct{ header, count, money, decimal int }
}

// NewWorkbook starts a workbook whose first sheet (in tab order) is named first. That sheet
// can be written at any time, e.g. last, for a summary of what the other sheets hold.
func NewWorkbook(first string) (*Workbook, error) {
	f := excelize.NewFile()
	b := &Workbook{f: f, used: map[string]bool{}}
	var err error
	if b.styles.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Color: []string{"#EAEEF2"}, Pattern: 1}}); err != nil {
		return nil, err
	}
	moneyFmt := "¥#,##0.00"
	if b.styles.money, err = f.NewStyle(&excelize.Style{CustomNumFmt: &moneyFmt}); err != nil {
		return nil, err
	}
	if b.styles.count, err = f.NewStyle(&excelize.Style{NumFmt: 3}); err != nil { // #,##0
		return nil, err
	}
	if b.styles.decimal, err = f.NewStyle(&excelize.Style{NumFmt: 2}); err != nil { // 0.00
		return nil, err
	}
	b.first = b.SheetName(first)
	if err := f.SetSheetName("Sheet1", b.first); err != nil {
		return nil, err
	}
	return b, nil
}

// First is the name of the workbook's first sheet.
func (b *Workbook) First() string { return b.first }

// SetTitle records the workbook's title and description in its document properties.
func (b *Workbook) SetTitle(title, description string) error {
	return b.f.SetDocProps(&excelize.DocProperties{Title: title, Description: description, Creator: "Ziyuan 资源"})
}

// SheetName turns any text into a sheet name Excel accepts and that no other sheet of this
// workbook has: the characters : \ / ? * [ ] become ＿, the name is cut to 31 UTF-16 units, and
// a repeated name gets a number (Excel compares names ignoring case). The name is reserved.
func (b *Workbook) SheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(":\\/?*[]", r) || r < 0x20 {
			return '＿'
		}
		return r
	}, strings.TrimSpace(s))
	s = strings.Trim(s, "'")
	if s == "" {
		s = "Sheet"
	}
	base := cutUTF16(s, excelize.MaxSheetNameLength)
	name := base
	for n := 2; b.used[strings.ToLower(name)]; n++ {
		suffix := fmt.Sprintf(" (%d)", n)
		name = cutUTF16(base, excelize.MaxSheetNameLength-len(suffix)) + suffix
	}
	b.used[strings.ToLower(name)] = true
	return name
}

func cutUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		units += len(utf16.Encode([]rune{r}))
		if units > n {
			return s[:i]
		}
	}
	return s
}

// Sheet starts writing the sheet named name (as returned by SheetName or given to
// NewWorkbook) with a frozen header row of cols. The sheet written before is finished.
func (b *Workbook) Sheet(name string, cols []Column) (*Sheet, error) {
	if err := b.finish(); err != nil {
		return nil, err
	}
	if name == b.first && !b.began {
		b.began = true
	} else if _, err := b.f.NewSheet(name); err != nil {
		return nil, err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	for i, c := range cols {
		w := c.Width
		if w == 0 {
			w = 14
		}
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	s := &Sheet{b: b, sw: sw, cols: cols, row: 1}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: b.styles.header, Value: c.Title}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	s.vals = make([]any, len(cols))
	b.cur = s
	return s, nil
}

func (b *Workbook) finish() error {
	if b.cur == nil {
		return nil
	}
	err := b.cur.sw.Flush()
	b.cur = nil
	return err
}

// Write finishes the last sheet and writes the workbook to w.
func (b *Workbook) Write(w io.Writer) error {
	if err := b.finish(); err != nil {
		return err
	}
	if !b.began {
		return errors.New("export: the workbook's first sheet was never written")
	}
	return b.f.Write(w)
}

// Close releases the workbook's temporary files.
func (b *Workbook) Close() error { return b.f.Close() }

// Sheet is one worksheet being written.
type Sheet struct {
	b    *Workbook
	sw   *excelize.StreamWriter
	cols []Column
	row  int
	vals []any
	cell []excelize.Cell
}

// Row appends a row. Integers in Money columns are fen and are written as yuan.
func (s *Sheet) Row(vals ...any) error {
	s.row++
	if cap(s.cell) < len(vals) {
		s.cell = make([]excelize.Cell, len(vals))
	}
	s.cell = s.cell[:len(vals)]
	out := s.vals[:0]
	for i, v := range vals {
		k := Text
		if i < len(s.cols) {
			k = s.cols[i].Kind
		}
		c := &s.cell[i]
		*c = excelize.Cell{Value: v}
		switch x := v.(type) {
		case int64:
			c.StyleID = s.b.styles.count
			if k == Money {
				c.Value, c.StyleID = float64(x)/100, s.b.styles.money
			}
		case int:
			c.StyleID = s.b.styles.count
			if k == Money {
				c.Value, c.StyleID = float64(x)/100, s.b.styles.money
			}
		case float64:
			c.StyleID = s.b.styles.decimal
		case nil:
			out = append(out, nil)
			continue
		}
		out = append(out, *c)
	}
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, out)
}

// Table is a small table for a download: a header and rows, with the indexes of the columns
// that hold money (fen, shown as yuan) or counts.
type Table struct {
	Sheet  string
	Header []string
	Rows   [][]any
	// Money and Count list the column indexes shown as ¥0.00 and as whole numbers.
	Money, Count []int
}

func (t Table) columns() []Column {
	cols := make([]Column, len(t.Header))
	for i, h := range t.Header {
		cols[i] = Column{Title: h, Width: 16}
		for _, m := range t.Money {
			if m == i {
				cols[i].Kind = Money
			}
		}
		for _, n := range t.Count {
			if n == i {
				cols[i].Kind = Count
			}
		}
	}
	return cols
}

// WriteCSV writes tables as CSV in UTF-8 with a byte-order mark; money is written in yuan.
func WriteCSV(w io.Writer, tables ...Table) error {
	c, err := NewCSV(w)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := c.Header(t.columns()); err != nil {
			return err
		}
		for _, r := range t.Rows {
			if err := c.Row(r...); err != nil {
				return err
			}
		}
	}
	return c.Flush()
}

// WriteXLSX writes one sheet per table with a bold, frozen header row and number formats.
func WriteXLSX(w io.Writer, tables ...Table) error {
	if len(tables) == 0 {
		return errors.New("export: no tables")
	}
	b, err := NewWorkbook(tables[0].Sheet)
	if err != nil {
		return err
	}
	defer b.Close()
	for i, t := range tables {
		name := b.First()
		if i > 0 {
			name = b.SheetName(t.Sheet)
		}
		s, err := b.Sheet(name, t.columns())
		if err != nil {
			return err
		}
		for _, r := range t.Rows {
			if err := s.Row(r...); err != nil {
				return err
			}
		}
	}
	return b.Write(w)
}
