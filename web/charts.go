package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Charts are drawn on the server as inline SVG: no JavaScript, no outside network, and they
// print. Each is an image to assistive technology (role="img" with a <title> and a <desc> that
// states the numbers), carries its values as text on the bars, and comes with the same numbers
// as a table for whoever prefers one.

// chartSeries is one series of a bar chart: its name, colour and one value per category.
type chartSeries struct {
	Name   string
	Color  string
	Values []int64
}

// barChart is a grouped bar chart: vertical bars per category (months), or horizontal ones
// (subjects), one bar per series in each group.
type barChart struct {
	ID         string
	Title      string
	Desc       string
	Categories []string
	Series     []chartSeries
	Horizontal bool
	// Empty is shown instead of bars when every value is zero.
	Empty string
}

// The series colours: distinguishable for common colour-vision deficiencies and at least 4.5:1
// against white, so that the value labels drawn in them read too.
var chartColors = []string{"#0b5cad", "#b4261c", "#1a7f37"}

func (c barChart) max() int64 {
	var m int64
	for _, s := range c.Series {
		for _, v := range s.Values {
			m = max(m, v)
		}
	}
	return m
}

// niceCeil rounds m up to 1, 2 or 5 times a power of ten, for the axis.
func niceCeil(m int64) int64 {
	if m <= 5 {
		return 5
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(m)))))
	for _, f := range []int64{1, 2, 5, 10} {
		if f*p >= m {
			return f * p
		}
	}
	return 10 * p
}

// SVG renders the chart.
func (c barChart) SVG() template.HTML {
	if c.Horizontal {
		return c.horizontal()
	}
	return c.vertical()
}

func (c barChart) open(b *strings.Builder, w, h int) {
	id := html.EscapeString(c.ID)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" role="img" aria-labelledby="%s-title %s-desc" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet" font-size="12">`,
		id, id, id, w, h)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, html.EscapeString(c.Title), id, html.EscapeString(c.Desc))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`, w, h)
	// The legend.
	x := 10
	for i, s := range c.Series {
		fmt.Fprintf(b, `<rect x="%d" y="8" width="12" height="12" fill="%s"/><text x="%d" y="18" fill="#1f2328">%s</text>`,
			x, c.color(i), x+16, html.EscapeString(s.Name))
		x += 24 + 13*len([]rune(s.Name)) + 20
	}
}

func (c barChart) color(i int) string {
	if c.Series[i].Color != "" {
		return c.Series[i].Color
	}
	return chartColors[i%len(chartColors)]
}

func (c barChart) empty(b *strings.Builder, w, h int) {
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="#57606a" font-size="14">%s</text>`, w/2, h/2, html.EscapeString(c.Empty))
}

func (c barChart) vertical() template.HTML {
	const (
		h            = 300
		left, right  = 48, 12
		top, bottom  = 40, 44
		minGroup     = 36
		defaultWidth = 720
	)
	n := max(len(c.Categories), 1)
	w := max(defaultWidth, left+right+n*minGroup)
	var b strings.Builder
	c.open(&b, w, h)
	plotH := float64(h - top - bottom)
	top0 := float64(h - bottom)
	m := c.max()
	if m == 0 {
		c.empty(&b, w, h)
	}
	axisMax := niceCeil(m)
	// Grid lines and the value axis.
	for i := 0; i <= 5; i++ {
		v := axisMax * int64(i) / 5
		y := top0 - plotH*float64(i)/5
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d0d7de" stroke-width="1"/>`, left, y, w-right, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#57606a">%d</text>`, left-6, y+4, v)
	}
	group := float64(w-left-right) / float64(n)
	bar := math.Min(group*0.8/float64(max(len(c.Series), 1)), 28)
	for ci, cat := range c.Categories {
		gx := float64(left) + group*float64(ci) + (group-bar*float64(len(c.Series)))/2
		for si, s := range c.Series {
			v := s.Values[ci]
			bh := plotH * float64(v) / float64(axisMax)
			x := gx + bar*float64(si)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s：%d</title></rect>`,
				x, top0-bh, bar-2, bh, c.color(si), html.EscapeString(cat), html.EscapeString(s.Name), v)
			if v > 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="%s">%d</text>`, x+(bar-2)/2, top0-bh-3, c.color(si), v)
			}
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#1f2328">%s</text>`, float64(left)+group*(float64(ci)+0.5), h-bottom+18,
			html.EscapeString(cat))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#57606a" stroke-width="1"/>`, left, top0, w-right, top0)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (c barChart) horizontal() template.HTML {
	const (
		w           = 720
		left, right = 96, 48
		top         = 36
		rowGap      = 10
	)
	bar := 12.0
	row := bar*float64(max(len(c.Series), 1)) + rowGap
	n := max(len(c.Categories), 1)
	h := top + int(row*float64(n)) + 28
	var b strings.Builder
	c.open(&b, w, h)
	m := c.max()
	if m == 0 {
		c.empty(&b, w, h)
	}
	axisMax := niceCeil(m)
	plotW := float64(w - left - right)
	bottom := float64(h - 24)
	for i := 0; i <= 5; i++ {
		x := float64(left) + plotW*float64(i)/5
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#d0d7de" stroke-width="1"/>`, x, top-4, x, bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#57606a">%d</text>`, x, bottom+16, axisMax*int64(i)/5)
	}
	for ci, cat := range c.Categories {
		y0 := float64(top) + row*float64(ci)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#1f2328">%s</text>`, left-8, y0+bar*float64(len(c.Series))/2+4,
			html.EscapeString(cat))
		for si, s := range c.Series {
			v := s.Values[ci]
			bw := plotW * float64(v) / float64(axisMax)
			y := y0 + bar*float64(si)
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s：%d</title></rect>`,
				left, y, bw, bar-2, c.color(si), html.EscapeString(cat), html.EscapeString(s.Name), v)
			if v > 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="%s">%d</text>`, float64(left)+bw+4, y+bar-3, c.color(si), v)
			}
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="#57606a" stroke-width="1"/>`, left, top-4, left, bottom)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// describe lists each category's values for the chart's <desc>: "2026-10：发布 5，采用 9，衍生 1；…".
func describe(lead string, cats []string, series []chartSeries, sep, pairSep string) string {
	var b strings.Builder
	b.WriteString(lead)
	for ci, cat := range cats {
		if ci > 0 {
			b.WriteString(sep)
		}
		b.WriteString(cat + "：")
		for si, s := range series {
			if si > 0 {
				b.WriteString(pairSep)
			}
			b.WriteString(s.Name + " " + strconv.FormatInt(s.Values[ci], 10))
		}
	}
	return b.String()
}
