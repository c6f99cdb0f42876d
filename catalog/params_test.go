package catalog_test

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"ziyuan/catalog"
)

func TestParseQuery(t *testing.T) {
	tax := catalog.DefaultTaxonomy()
	q, err := tax.ParseQuery(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Page != 1 || q.PerPage != 20 || q.Sort != catalog.SortRelevance || !q.Highlight || !slices.Equal(q.Facets, catalog.Facets()) {
		t.Errorf("defaults = %+v", q)
	}
	v, _ := url.ParseQuery("q=%E5%85%89%E5%90%88%E3%80%80ＰＰＴ&stage=初中&grade=七年级&subject=生物&type=课件&license=cc-by&price=FREE" +
		"&price_min=0&price_max=500&sort=price_desc&page=3&per_page=50&facets=stage,type&highlight=false&utm=ignored")
	q, err = tax.ParseQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(0), int64(500)
	want := catalog.Query{Text: "光合 PPT", Filters: catalog.Filters{Stage: "初中", Grade: "七年级", Subject: "生物学", Type: "课件",
		License: "cc-by", Price: catalog.PriceFree, MinPriceFen: &lo, MaxPriceFen: &hi},
		Facets: []catalog.Facet{catalog.FacetStage, catalog.FacetType}, Sort: catalog.SortPriceDesc, Page: 3, PerPage: 50}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got  %+v\nwant %+v", q, want)
	}
	// Values is the inverse
	back, err := tax.ParseQuery(q.Values())
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if q, _ := tax.ParseQuery(url.Values{"facets": {"none"}}); len(q.Facets) != 0 {
		t.Errorf("facets=none gives %v", q.Facets)
	}
}

func TestParseQueryErrorsNameTheParameter(t *testing.T) {
	tax := catalog.DefaultTaxonomy()
	cases := []struct {
		query   string
		param   string
		allowed string
	}{
		{"stage=幼儿园", "stage", "小学"},
		{"grade=十年级", "grade", "高一"},
		{"stage=小学&grade=八年级", "grade", "六年级"},
		{"subject=炼金术", "subject", "数学"},
		{"edition=x", "edition", "人教版"},
		{"volume=中册", "volume", "上册"},
		{"type=ppt", "type", "课件"},
		{"license=gpl", "license", "cc-by-nc-sa"},
		{"price=cheap", "price", "paid"},
		{"price_min=-1", "price_min", ""},
		{"price_max=abc", "price_max", ""},
		{"price_min=500&price_max=100", "price_max", ""},
		{"sort=cheapest", "sort", "price_asc"},
		{"page=0", "page", ""},
		{"page=x", "page", ""},
		{"per_page=101", "per_page", ""},
		{"page=500&per_page=100", "page", ""},
		{"facets=stage,colour", "facets", "license"},
		{"highlight=maybe", "highlight", "true"},
		{"stage=小学&stage=初中", "stage", ""},
		{"q=" + strings.Repeat("长", 201), "q", ""},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			v, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tax.ParseQuery(v)
			var ve catalog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want ValidationError", err)
			}
			fe := ve.Field(c.param)
			if fe == nil {
				t.Fatalf("err = %v does not name %s", err, c.param)
			}
			if c.allowed != "" && !slices.Contains(fe.Allowed, c.allowed) {
				t.Errorf("allowed = %v, want %s among them", fe.Allowed, c.allowed)
			}
		})
	}
	// several bad parameters are all reported
	v, _ := url.ParseQuery("stage=x&sort=y&per_page=0")
	_, err := tax.ParseQuery(v)
	var ve catalog.ValidationError
	if !errors.As(err, &ve) || len(ve) != 3 {
		t.Errorf("err = %v, want 3 field errors", err)
	}
}
