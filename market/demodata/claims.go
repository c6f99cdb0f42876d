package demodata

import (
	"slices"

	"ziyuan/market"
)

// claimer is a demo login that claims resources: the stages it looks at and whether it is a
// student (students take study material, not lesson plans or slides).
type claimer struct {
	login   string
	stages  []string
	student bool
}

var (
	k12       = []string{"小学", "初中", "高中"}
	allStages = []string{"小学", "初中", "高中", "中职", "高职", "本科"}
	// claimers never include zhang.xiaohong, whose guardian has not consented.
	claimers = []claimer{
		{"zhang.xiaoming", []string{"小学"}, true},
		{"sun.student", []string{"初中", "高中"}, true},
		{"li.teacher", []string{"小学"}, false},
		{"chen.teacher", []string{"初中", "高中"}, false},
		{"zhou.reviewer", allStages, false},
		{"wu.evaluator", k12, false},
	}
	// studentTypes are the types students claim.
	studentTypes = []string{"学案", "练习", "试卷", "微课", "素材"}
)

// Rating texts: praise by type for teachers, and reservations (for 2 or 3 stars), for teachers
// and for students.
var (
	teacherPraise = map[string][]string{
		"课件": {"版式清爽，动画不多，拿来就能上课。", "知识点拆分得很细，例题梯度合适。", "配图准确，节省了不少备课时间。"},
		"教案": {"教学环节紧凑，时间分配合理。", "重难点把握准确，练习设计有层次。", "导入很有新意，学生兴趣很高。"},
		"学案": {"预习部分引导清楚，学生能独立完成。", "探究问题有梯度，课堂讨论很热烈。", "达标检测题量合适，十分钟能做完。"},
		"试卷": {"难度适中，覆盖了本单元的主要考点。", "最后一题区分度很好，适合单元检测。"},
		"练习": {"分层清楚，基础题和提高题分得很明白。", "数据设计得好，计算不繁琐。"},
		"微课": {"讲解清楚，节奏合适，适合课前预习。", "五六分钟讲透一个点，学生愿意反复看。"},
		"素材": {"素材整理得很全，省去了到处找图的时间。", "分类清楚，检索方便，已在备课组共享。"},
	}
	teacherReservations = []string{"内容不错，但和我们用的版本有些出入，需要调整后再用。", "字号偏小，投到教室后排看不太清，建议调大。",
		"建议附上详细的答案解析。", "题量偏多，一节课用不完。"}
	studentPraise       = []string{"看完就会做作业了，谢谢老师！", "例题讲得很清楚，我终于弄懂了。", "预习的时候用了，上课轻松多了。", "希望多出一些这样的练习。"}
	studentReservations = []string{"题目有点难，希望多一些讲解。", "有几道题没有答案，不知道自己做得对不对。"}
)

// assignClaims gives about a third of the free items (courses are enrolled in, not claimed)
// one to four claims by demo logins of the item's stage other than its owner, and has some of
// the claimers rate it. The choice depends only on each item's key.
func assignClaims(items []Item) {
	for i := range items {
		it := &items[i]
		if !it.Meta.Offer.Free() || it.Meta.Type == market.TypeCourse || it.Meta.Type == market.TypeService {
			continue
		}
		h := hashKey(it.Key)
		if h%3 != 0 {
			continue
		}
		var pool []claimer
		for _, c := range claimers {
			if c.login == it.Owner || !slices.Contains(c.stages, it.Meta.Stage) ||
				c.student && !slices.Contains(studentTypes, it.Meta.Type) {
				continue
			}
			pool = append(pool, c)
		}
		if len(pool) == 0 {
			continue
		}
		n := min(1+int(h>>8%4), len(pool))
		start := int(h >> 16 % uint64(len(pool)))
		for j := range n {
			c := pool[(start+j)%len(pool)]
			it.Claims = append(it.Claims, c.login)
			bits := h >> (24 + 4*j)
			if j > 0 && bits&1 == 0 {
				continue // claimed but not rated
			}
			stars := []int{5, 4, 5, 3, 4, 5, 5, 2}[bits>>1&7]
			pick := func(texts []string) string { return texts[int(bits>>4)%len(texts)] }
			var text string
			switch {
			case c.student && stars >= 4:
				text = pick(studentPraise)
			case c.student:
				text = pick(studentReservations)
			case stars >= 4:
				text = pick(teacherPraise[it.Meta.Type])
			default:
				text = pick(teacherReservations)
			}
			it.Ratings = append(it.Ratings, Rating{Login: c.login, Stars: stars, Text: text})
		}
	}
}
