package web

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// table is tabular data for a download: a header and rows, with the columns that hold money
// (fen, shown as yuan) or counts marked for number formats.
type table struct {
	Sheet  string
	Header []string
	Rows   [][]any
	// Money and Count list the column indexes shown as ¥0.00 and as whole numbers.
	Money, Count []int
}

// writeCSV writes tables as CSV in UTF-8 with a byte-order mark: Excel on Chinese Windows
// otherwise reads UTF-8 as GBK and garbles every Chinese header. Money is written in yuan.
func writeCSV(w io.Writer, tables ...table) error {
	if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel writes and expects
	for i, t := range tables {
		if i > 0 {
			cw.Write(nil)
		}
		cw.Write(t.Header)
		for _, r := range t.Rows {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = cellText(v, contains(t.Money, j))
			}
			cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

func cellText(v any, money bool) string {
	switch x := v.(type) {
	case int64:
		if money {
			return yuanPlain(x)
		}
		return itoa64(x)
	case int:
		return itoa64(int64(x))
	case string:
		return x
	case nil:
		return ""
	}
	return ""
}

func yuanPlain(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// writeXLSX writes one sheet per table with a bold, frozen header row and number formats
// (¥#,##0.00 for money, #,##0 for counts).
func writeXLSX(w io.Writer, tables ...table) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"#EAEEF2"}, Pattern: 1}})
	if err != nil {
		return err
	}
	moneyFmt := "¥#,##0.00"
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &moneyFmt})
	if err != nil {
		return err
	}
	count, err := f.NewStyle(&excelize.Style{NumFmt: 3}) // #,##0
	if err != nil {
		return err
	}
	for i, t := range tables {
		name := t.Sheet
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		for c, h := range t.Header {
			cell, _ := excelize.CoordinatesToCellName(c+1, 1)
			f.SetCellValue(name, cell, h)
			f.SetCellStyle(name, cell, cell, bold)
			col, _ := excelize.ColumnNumberToName(c + 1)
			f.SetColWidth(name, col, col, 16)
		}
		for r, row := range t.Rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+2)
				switch x := v.(type) {
				case int64:
					if contains(t.Money, c) {
						f.SetCellFloat(name, cell, float64(x)/100, 2, 64)
						f.SetCellStyle(name, cell, cell, money)
					} else {
						f.SetCellInt(name, cell, x)
						f.SetCellStyle(name, cell, cell, count)
					}
				case int:
					f.SetCellInt(name, cell, int64(x))
					f.SetCellStyle(name, cell, cell, count)
				default:
					f.SetCellValue(name, cell, x)
				}
			}
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
	}
	return f.Write(w)
}
