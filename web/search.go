package web

import (
	"context"
	"errors"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ziyuan/catalog"
	"ziyuan/market"
)

// searchError turns the catalog's errors into domain codes for the one status table.
func searchError(err error) error {
	var ve catalog.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve) > 0:
		fe := ve[0]
		if len(fe.Allowed) > 0 {
			return market.Errorf(market.CodeInvalid, market.MsgFieldOneOf, fe.Field, fe.Value, strings.Join(fe.Allowed, ", "))
		}
		return market.Errorf(market.CodeInvalid, market.MsgFieldFormat, fe.Field, fe.Reason)
	case errors.Is(err, catalog.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &market.Error{Code: market.CodeUnavailable, RetryAfterSeconds: 5, Msg: market.Message{Key: market.MsgSearchDown}, Err: err}
	}
	return market.Internal(err)
}

// search runs a search request's parameters against the engine.
func (s *Server) search(c *fiber.Ctx) (catalog.Query, catalog.Result, error) {
	if s.engine == nil {
		return catalog.Query{}, catalog.Result{}, searchError(catalog.ErrUnavailable)
	}
	q, err := s.m.Taxonomy().ParseQuery(queryValues(c))
	if err != nil {
		return q, catalog.Result{}, searchError(err)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	defer cancel()
	res, err := s.engine.Search(ctx, q)
	if err != nil {
		return q, res, searchError(err)
	}
	return q, res, nil
}

func queryValues(c *fiber.Ctx) url.Values {
	v := url.Values{}
	c.Context().QueryArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
	return v
}

// searchHit is a hit as API.md shapes it.
type searchHit struct {
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	Summary     string             `json:"summary"`
	Type        string             `json:"type"`
	Stage       string             `json:"stage"`
	Grade       string             `json:"grade"`
	Subject     string             `json:"subject"`
	Edition     string             `json:"edition"`
	License     string             `json:"license"`
	PriceFen    int64              `json:"price_fen"`
	Rating      float64            `json:"rating"`
	Downloads   int64              `json:"downloads"`
	PublishedAt time.Time          `json:"published_at"`
	Author      string             `json:"author,omitempty"`
	Institution string             `json:"institution,omitempty"`
	Highlight   *catalog.Highlight `json:"highlight,omitempty"`
}

type searchResponse struct {
	Total   int                              `json:"total"`
	Page    int                              `json:"page"`
	PerPage int                              `json:"per_page"`
	Hits    []searchHit                      `json:"hits"`
	Facets  map[catalog.Facet]map[string]int `json:"facets"`
}

func toResponse(res catalog.Result) searchResponse {
	out := searchResponse{Total: res.Total, Page: res.Page, PerPage: res.PerPage, Hits: make([]searchHit, len(res.Hits)), Facets: res.Facets}
	if out.Facets == nil {
		out.Facets = map[catalog.Facet]map[string]int{}
	}
	for i, h := range res.Hits {
		d := h.Document
		out.Hits[i] = searchHit{ID: d.ID, Title: d.Title, Summary: d.Summary, Type: d.Type, Stage: d.Stage, Grade: d.Grade,
			Subject: d.Subject, Edition: d.Edition, License: d.License, PriceFen: d.PriceFen, Rating: d.Rating,
			Downloads: d.Downloads, PublishedAt: d.PublishedAt, Author: d.Author, Institution: d.Institution, Highlight: h.Highlight}
	}
	return out
}

func (s *Server) apiSearch(c *fiber.Ctx) error {
	_, res, err := s.search(c)
	if err != nil {
		return err
	}
	return c.JSON(toResponse(res))
}

// facetValue is one clickable facet value with its count.
type facetValue struct {
	Value, Label string
	Count        int
	Active       bool
	Link         string
}

type facetGroup struct {
	Name   string
	Values []facetValue
}

type activeFilter struct{ Name, Value, Remove string }

type searchPage struct {
	Query   catalog.Query
	Text    string
	Sort    string
	Result  searchResponse
	Facets  []facetGroup
	Active  []activeFilter
	Pages   int
	Prev    string
	Next    string
	Hidden  [][2]string // the current filters, carried by the sort form
	Sorts   []catalog.Sort
	Error   string
	Elapsed string
}

// facetParam maps a facet to its query parameter.
var facetParam = map[catalog.Facet]string{catalog.FacetStage: "stage", catalog.FacetGrade: "grade", catalog.FacetSubject: "subject",
	catalog.FacetEdition: "edition", catalog.FacetType: "type", catalog.FacetLicense: "license", catalog.FacetPrice: "price"}

// pageSearch is the search page: works without JavaScript, every refinement a link.
func (s *Server) pageSearch(c *fiber.Ctx) error {
	start := time.Now()
	params := queryValues(c)
	params.Del("page")
	d := searchPage{Text: c.Query("q"), Sort: c.Query("sort", "relevance"), Sorts: catalog.Sorts()}
	link := func(v url.Values) string {
		if len(v) == 0 {
			return "/search"
		}
		return "/search?" + v.Encode()
	}
	q, res, err := s.search(c)
	status := fiber.StatusOK
	if err != nil {
		de := asDomainError(err)
		if de.Code != market.CodeInvalid && de.Code != market.CodeUnavailable {
			return err
		}
		if de.RetryAfterSeconds > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(de.RetryAfterSeconds))
		}
		d.Error, status = de.Msg.Text(s.lang(c)), statusOf[de.Code]
	}
	d.Query, d.Result = q, toResponse(res)
	for _, f := range catalog.Facets() {
		counts := res.Facets[f]
		param := facetParam[f]
		current := params.Get(param)
		g := facetGroup{Name: string(f)}
		for value, n := range counts {
			v := cloneValues(params)
			if current == value {
				v.Del(param)
			} else {
				v.Set(param, value)
			}
			label := value
			if f == catalog.FacetLicense || f == catalog.FacetPrice {
				label = loc{s.lang(c)}.T("facet." + string(f) + "." + value)
			}
			g.Values = append(g.Values, facetValue{Value: value, Label: label, Count: n, Active: current == value, Link: link(v)})
		}
		sort.Slice(g.Values, func(i, j int) bool {
			if g.Values[i].Count != g.Values[j].Count {
				return g.Values[i].Count > g.Values[j].Count
			}
			return g.Values[i].Value < g.Values[j].Value
		})
		if len(g.Values) > 0 {
			d.Facets = append(d.Facets, g)
		}
	}
	for _, param := range []string{"stage", "grade", "subject", "edition", "volume", "type", "license", "price", "price_min", "price_max"} {
		if val := params.Get(param); val != "" {
			v := cloneValues(params)
			v.Del(param)
			d.Active = append(d.Active, activeFilter{Name: param, Value: val, Remove: link(v)})
		}
	}
	for k, vals := range params {
		if k != "sort" && k != "q" && len(vals) > 0 {
			d.Hidden = append(d.Hidden, [2]string{k, vals[0]})
		}
	}
	sort.Slice(d.Hidden, func(i, j int) bool { return d.Hidden[i][0] < d.Hidden[j][0] })
	if res.PerPage > 0 {
		d.Pages = int(math.Ceil(float64(res.Total) / float64(res.PerPage)))
		if res.Page > 1 {
			v := cloneValues(params)
			v.Set("page", strconv.Itoa(res.Page-1))
			d.Prev = link(v)
		}
		if res.Page < d.Pages {
			v := cloneValues(params)
			v.Set("page", strconv.Itoa(res.Page+1))
			d.Next = link(v)
		}
	}
	d.Elapsed = strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 1, 64)
	return s.render(c, status, "search", "search.title", pageData{Nav: "search", Data: d})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}
