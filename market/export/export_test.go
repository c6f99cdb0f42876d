package export

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestSheetNamesExcelAccepts(t *testing.T) {
	b, err := NewWorkbook("汇总")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	long := strings.Repeat("北京市海淀区", 10)
	cases := []struct{ in, want string }{
		{"北京市海淀区实验小学", "北京市海淀区实验小学"},
		{"汇总", "汇总 (2)"},
		{"a/b:c?d*e[f]g\\h", "a＿b＿c＿d＿e＿f＿g＿h"},
		{"'quoted'", "quoted"},
		{"", "Sheet"},
		{long, string([]rune(long)[:31])},
		{long, string([]rune(long)[:27]) + " (2)"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		got := b.SheetName(c.in)
		if len([]rune(got)) > 31 || seen[strings.ToLower(got)] {
			t.Fatalf("%q → %q: too long or repeated", c.in, got)
		}
		seen[strings.ToLower(got)] = true
		if got != c.want {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
		if _, err := b.Sheet(got, []Column{{Title: "x"}}); err != nil {
			t.Fatalf("Excel refuses %q: %v", got, err)
		}
	}
	if _, err := b.Sheet(b.First(), []Column{{Title: "x"}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := b.Write(&out); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.GetSheetList()); n != len(cases)+1 {
		t.Fatalf("%d sheets", n)
	}
}

func TestCellText(t *testing.T) {
	for _, c := range []struct {
		v    any
		k    Kind
		want string
	}{{int64(1234), Money, "12.34"}, {int64(-5), Money, "-0.05"}, {int64(1234), Count, "1234"}, {4.5, Decimal, "4.50"},
		{"文本", Text, "文本"}, {nil, Text, ""}, {7, Money, "0.07"}} {
		if got := CellText(c.v, c.k); got != c.want {
			t.Errorf("CellText(%v, %v) = %q, want %q", c.v, c.k, got, c.want)
		}
	}
}
