package rights_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Realistic generated Chinese lesson plans (教案) for near-duplicate tests: a shared skeleton
// of headings and teacher phrasing (as every lesson plan of a subject has), with topic terms,
// examples and activities drawn per lesson.

type lessonTopic struct {
	title    string
	concepts []string
	skills   []string
	examples []string
	tasks    []string
}

var (
	algebraTopic = lessonTopic{
		title:    "一元二次方程的解法",
		concepts: []string{"一元二次方程", "配方法", "公式法", "因式分解法", "根的判别式", "二次项系数", "常数项", "求根公式", "完全平方式", "方程的根"},
		skills:   []string{"用配方法解方程", "用公式法求根", "用因式分解法解方程", "判断方程根的情况", "选择合适的解法", "检验方程的解"},
		examples: []string{"x²-6x+5=0", "2x²+3x-2=0", "x²-4x+4=0", "3x²-x-4=0", "x²+2x-8=0", "4x²-12x+9=0", "x²-5x+6=0"},
		tasks:    []string{"面积问题", "增长率问题", "销售利润问题", "数字问题", "行程问题", "围栏设计问题"},
	}
	geometryTopic = lessonTopic{
		title:    "全等三角形的判定",
		concepts: []string{"全等三角形", "对应边", "对应角", "边角边", "角边角", "边边边", "角角边", "斜边直角边", "三角形的稳定性", "尺规作图"},
		skills:   []string{"用边角边证明三角形全等", "用角边角判定全等", "用尺规作一个角等于已知角", "寻找全等的条件", "书写规范的证明过程", "构造全等三角形"},
		examples: []string{"△ABC≌△DEF", "AB=DE，∠B=∠E，BC=EF", "∠A=∠D，AB=DE，∠B=∠E", "AC=DF，BC=EF，AB=DE", "Rt△ABC与Rt△DEF", "AD平分∠BAC"},
		tasks:    []string{"测量池塘两端的距离", "证明线段相等", "证明角相等", "折纸活动", "设计测量方案", "平行线间的全等"},
	}
	verbs      = []string{"理解", "掌握", "经历", "体会", "探索", "归纳", "运用", "比较", "说明", "总结"}
	activities = []string{"小组合作", "自主探究", "动手操作", "师生对话", "观察比较", "独立思考", "同桌交流", "展示讲评"}
	qualities  = []string{"推理能力", "运算能力", "模型观念", "几何直观", "应用意识", "创新意识", "抽象能力", "表达能力"}
	students   = []string{"学生", "同学们", "各小组", "学习小组", "部分学生", "全班同学"}
	teacher    = []string{"教师引导", "教师板书", "教师点拨", "教师巡视指导", "教师追问", "教师小结"}
	connectors = []string{"首先", "接着", "然后", "最后", "同时", "在此基础上", "进一步", "为此"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func sentence(r *rand.Rand, tp lessonTopic) string {
	switch r.IntN(19) {
	case 0:
		return "通过" + pick(r, activities) + "，使" + pick(r, students) + pick(r, verbs) + pick(r, tp.concepts) + "的意义，并能" + pick(r, tp.skills) + "。"
	case 1:
		return pick(r, connectors) + "，" + pick(r, teacher) + pick(r, students) + "观察例题" + pick(r, tp.examples) + "，思考" + pick(r, tp.concepts) + "与" + pick(r, tp.concepts) + "之间的联系。"
	case 2:
		return "在解决" + pick(r, tp.tasks) + "的过程中，" + pick(r, students) + pick(r, verbs) + "数学建模的思想，发展" + pick(r, qualities) + "。"
	case 3:
		return "例题：已知" + pick(r, tp.examples) + "，请" + pick(r, tp.skills) + "，并说明每一步的依据。"
	case 4:
		return pick(r, teacher) + "：请" + pick(r, students) + "比较" + pick(r, tp.concepts) + "和" + pick(r, tp.concepts) + "，说一说它们有什么相同点和不同点。"
	case 5:
		return "设计意图：让" + pick(r, students) + "在" + pick(r, activities) + "中" + pick(r, verbs) + pick(r, tp.concepts) + "，突破本节课的难点，培养" + pick(r, qualities) + "。"
	case 6:
		return "练习" + string(rune('一'+r.IntN(5))) + "：" + pick(r, tp.examples) + "；" + pick(r, tp.examples) + "。要求" + pick(r, students) + "独立完成后" + pick(r, activities) + "。"
	case 7:
		return pick(r, connectors) + "，" + pick(r, students) + "尝试" + pick(r, tp.skills) + "，" + pick(r, teacher) + "，及时纠正书写中的错误。"
	case 8:
		return "易错点提示：在" + pick(r, tp.skills) + "时，要注意" + pick(r, tp.concepts) + "的条件，不能忽略" + pick(r, tp.concepts) + "。"
	case 10:
		return "回顾旧知：上节课学习了" + pick(r, tp.concepts) + "，请" + pick(r, students) + "用自己的话复述其中的要点，为学习" + pick(r, tp.concepts) + "做好铺垫。"
	case 11:
		return "情境创设：出示生活中的" + pick(r, tp.tasks) + "，提出问题“能否" + pick(r, tp.skills) + "？”激发学习兴趣。"
	case 12:
		return "分层作业：基础题" + strconv.Itoa(2+r.IntN(6)) + "道，提高题" + strconv.Itoa(1+r.IntN(3)) + "道，拓展题要求查阅资料，了解" + pick(r, tp.concepts) + "的历史。"
	case 13:
		return "学情分析：本班" + pick(r, students) + "已具备" + pick(r, qualities) + "的基础，但在" + pick(r, tp.skills) + "方面还比较薄弱，需要多加练习。"
	case 14:
		return "评价方式：采用课堂观察、口头提问与当堂检测相结合，关注" + pick(r, students) + "在" + pick(r, activities) + "中的表现。"
	case 15:
		return "追问：如果把条件改为" + pick(r, tp.examples) + "，结论还成立吗？为什么？让" + pick(r, students) + "充分讨论后回答。"
	case 16:
		return "教学反思：本课在" + pick(r, activities) + "环节用时偏多，" + pick(r, tp.skills) + "的训练不够充分，下次应适当调整节奏。"
	case 17:
		return "板书：左侧写出" + pick(r, tp.concepts) + "的定义，中间呈现例题" + pick(r, tp.examples) + "的完整过程，右侧记录" + pick(r, students) + "的典型错误。"
	default:
		return "课堂小结：本节课我们" + pick(r, verbs) + "了" + pick(r, tp.concepts) + "，" + pick(r, verbs) + "了" + pick(r, tp.skills) + "的方法。"
	}
}

// lessonPlan returns a lesson plan of about n characters.
func lessonPlan(r *rand.Rand, tp lessonTopic, n int) string {
	headings := []string{"教学目标", "教学重点", "教学难点", "教学准备", "教学过程", "新课导入", "探究新知", "例题讲解", "巩固练习", "课堂小结", "布置作业", "板书设计", "教学反思"}
	var b strings.Builder
	b.WriteString("《" + tp.title + "》教案\n")
	h := 0
	for len([]rune(b.String())) < n {
		if h < len(headings) && r.IntN(4) == 0 {
			b.WriteString("\n" + headings[h] + "\n")
			h++
		}
		b.WriteString(sentence(r, tp))
	}
	return string([]rune(b.String())[:n])
}

// editWords changes about frac of the text's characters by word-sized edits at random places:
// replacing, inserting or deleting 2–4 characters, as a teacher revising a colleague's plan does.
func editWords(r *rand.Rand, text string, frac float64, tp lessonTopic) string {
	rs := []rune(text)
	budget := int(frac * float64(len(rs)))
	for budget > 0 {
		pos := r.IntN(len(rs) - 5)
		word := []rune(pick(r, append(append([]string{}, tp.concepts...), qualities...)))
		w := min(len(word), 2+r.IntN(3), budget)
		switch r.IntN(3) {
		case 0: // replace
			copy(rs[pos:pos+w], word[:w])
		case 1: // insert
			rs = append(rs[:pos], append(append([]rune{}, word[:w]...), rs[pos:]...)...)
		default: // delete
			rs = append(rs[:pos], rs[pos+w:]...)
		}
		budget -= w
	}
	return string(rs)
}

// editBlock rewrites one contiguous passage of frac of the text.
func editBlock(r *rand.Rand, text string, frac float64, tp lessonTopic) string {
	rs := []rune(text)
	w := int(frac * float64(len(rs)))
	pos := r.IntN(len(rs) - w)
	repl := []rune(lessonPlan(r, tp, w+50))[20 : 20+w]
	copy(rs[pos:], repl)
	return string(rs)
}

// editChars substitutes frac of the characters one at a time at random places: the worst case
// for shingles, since every edit breaks several of them.
func editChars(r *rand.Rand, text string, frac float64) string {
	rs := []rune(text)
	pool := []rune("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严")
	for i := 0; i < int(frac*float64(len(rs))); i++ {
		rs[r.IntN(len(rs))] = pick(r, pool)
	}
	return string(rs)
}
