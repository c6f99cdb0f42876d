package demodata

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"ziyuan/market"
)

// Item is one demo resource: who publishes it, its description, its files, and what happens to
// it once published.
type Item struct {
	// Key is stable and unique, e.g. "math-8b-pythagoras-courseware".
	Key string
	// Owner is the demo login that publishes the item.
	Owner string
	// Meta is the description the item is created with. Meta.Parents is empty: see ParentKeys.
	Meta  market.Meta
	Files []File
	// ParentKeys are the Keys of earlier items this one derives from.
	ParentKeys []string
	// Claims are the demo logins that claim the (free) item once it is published.
	Claims []string
	// Ratings are given by logins that also claim the item.
	Ratings []Rating
}

// File is one file of an item: its name as uploaded and its bytes.
type File struct {
	Name string
	Data []byte
}

// Rating is a claimer's rating of an item.
type Rating struct {
	Login string
	Stars int
	Text  string
}

// Items returns the demo resources in publication order. Every call builds a fresh slice with
// identical content.
func Items() []Item {
	specs := allSpecs()
	items := make([]Item, 0, len(specs))
	for i := range specs {
		items = append(items, specs[i].item())
	}
	assignClaims(items)
	return items
}

// spec is how an item is written down in the data files; item turns it into an Item. Lists
// (kw, pts, ex, parents) are "|"-separated.
type spec struct {
	key, owner, typ          string
	stage, grade, subject    string
	edition, volume, chapter string
	title, summary, body     string
	// en is the English title, for items with an English worksheet (PDF).
	en string
	// lang is the resource language; empty means zh.
	lang string
	// kw are the keywords, pts the topic's teaching points, ex its exercises or activities.
	kw, pts, ex string
	lic         string
	price       *market.Prices
	parents     string
	course      *market.Course
}

// group fills the fields an item leaves empty from d (type, stage, subject, edition, owner,
// licence, grade, volume), so that a data file states shared values once.
func group(d spec, items ...spec) []spec {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	for i := range items {
		s := &items[i]
		fill(&s.typ, d.typ)
		fill(&s.stage, d.stage)
		fill(&s.subject, d.subject)
		fill(&s.edition, d.edition)
		fill(&s.owner, d.owner)
		fill(&s.lic, d.lic)
		fill(&s.grade, d.grade)
		fill(&s.volume, d.volume)
	}
	return items
}

// prices is a paid offer's prices in fen; 0 leaves a scope unsold.
func prices(personal, classroom, institution int64) *market.Prices {
	return &market.Prices{Personal: personal, Classroom: classroom, Institution: institution}
}

// cst is China Standard Time, in which the demo courses are scheduled.
var cst = time.FixedZone("CST", 8*60*60)

// course is a 网络课程's seats and dates (from 09:00 on the first day to 18:00 on the last).
func course(seats int, from, to string) *market.Course {
	day := func(s string) time.Time {
		t, err := time.ParseInLocation("2006-01-02", s, cst)
		if err != nil {
			panic(fmt.Sprintf("demodata: course date %q: %v", s, err))
		}
		return t
	}
	return &market.Course{Seats: seats, StartsAt: day(from).Add(9 * time.Hour), EndsAt: day(to).Add(18 * time.Hour)}
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// hashKey is the FNV-1a hash of a key: the only source of variation in the data.
func hashKey(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

func (s *spec) item() Item {
	lang := s.lang
	if lang == "" {
		lang = "zh"
	}
	meta := market.Meta{Title: s.title, Summary: s.summary, Type: s.typ, Stage: s.stage, Grade: s.grade,
		Subject: s.subject, Edition: s.edition, Volume: s.volume, Chapter: s.chapter, Language: lang,
		Keywords: list(s.kw), Offer: market.Offer{License: s.lic, Prices: s.price}, Course: s.course}
	files := s.buildFiles()
	meta.Body = s.body
	if meta.Body == "" && (hashKey(s.key)%2 == 0 || s.course != nil) {
		meta.Body = s.autoBody(files)
	}
	return Item{Key: s.key, Owner: s.owner, Meta: meta, Files: files, ParentKeys: list(s.parents)}
}

// autoBody describes an item's files and where it fits in the textbook.
func (s *spec) autoBody(files []File) string {
	var b strings.Builder
	if len(files) > 0 {
		parts := make([]string, len(files))
		for i, f := range files {
			parts[i] = "“" + f.Name + "”"
		}
		b.WriteString("资源包含" + strings.Join(parts, "、") + "，可直接下载使用，也可按本班学情修改。")
	}
	where := s.edition + s.grade + s.volume
	if s.chapter != "" {
		where += "“" + s.chapter + "”"
	}
	if where != "" {
		b.WriteString("适用于" + where + "的教学。")
	}
	if s.typ == market.TypeCourse && s.course != nil {
		fmt.Fprintf(&b, "开课时间：%s 至 %s，限 %d 人。", s.course.StartsAt.Format("2006年1月2日"),
			s.course.EndsAt.Format("2006年1月2日"), s.course.Seats)
	}
	return b.String()
}
