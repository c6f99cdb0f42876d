package catalogtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"ziyuan/catalog"
)

// Synthetic catalog for benchmarks: a seeded generator of records shaped like the golden set
// (textbook-synchronised titles, summaries and a few hundred characters of body text).

var (
	benchTopics = map[string][]string{
		"数学":  {"一元一次方程", "二次函数的图像和性质", "勾股定理", "全等三角形的判定", "因式分解", "有理数的加法", "圆的面积", "分数的意义", "小数乘法", "平面直角坐标系", "一次函数", "反比例函数", "相似三角形", "概率初步", "统计图表", "平行四边形", "三角形的内角和", "长方体的表面积", "百分数的应用", "不等式与不等式组"},
		"语文":  {"静夜思", "春", "背影", "桃花源记", "故乡", "孔乙己", "观潮", "草船借箭", "落花生", "论语十二章", "沁园春·雪", "济南的冬天", "北京的春节", "少年闰土", "赵州桥", "古诗三首", "看图写话", "习作：我的心爱之物", "文言文阅读", "整本书阅读"},
		"英语":  {"Unit 1 Hello", "Unit 2 My schoolbag", "Unit 3 Weather", "Unit 4 At the farm", "Unit 5 My clothes", "Module 3 My school", "Reading and Thinking", "现在完成时", "被动语态", "定语从句", "阅读理解", "完形填空", "书面表达"},
		"物理":  {"牛顿第一定律", "牛顿第二定律", "欧姆定律", "浮力", "压强", "凸透镜成像的规律", "光的反射", "声音的产生与传播", "电功率", "串联和并联", "电磁感应", "动能定理", "自由落体运动"},
		"化学":  {"氧气的实验室制取", "化学方程式", "质量守恒定律", "常见的酸和碱", "金属的化学性质", "氧化还原反应", "元素周期表", "物质的量", "离子反应", "化学反应速率"},
		"生物学": {"光合作用", "呼吸作用", "细胞的结构", "生态系统", "食物链和食物网", "遗传与变异", "消化和吸收", "有丝分裂", "神经调节", "种子的萌发"},
		"历史":  {"秦统一中国", "丝绸之路", "辛亥革命", "五四运动", "鸦片战争", "工业革命", "改革开放", "隋朝的统一与灭亡"},
		"地理":  {"地球仪与经纬网", "等高线地形图", "中国的气候", "中国的地形", "人口迁移", "板块运动", "大气的受热过程", "黄土高原"},
	}
	benchSentences = []string{"本课通过情境导入激发学生兴趣", "引导学生自主探究并合作交流", "设计了分层练习以满足不同学生的需要",
		"配有课堂检测和课后作业", "重点突破学生容易混淆的概念", "结合生活实例帮助学生理解", "附有教学反思和板书设计",
		"提供了详细的答案与解析", "适合新授课和复习课使用", "包含实验探究活动和评价量表", "注重核心素养的培养",
		"采用大单元教学设计思路", "利用信息技术辅助教学", "可用于课前预习和课后巩固"}
	benchAuthors = []string{"王老师", "李老师", "张老师", "刘老师", "陈老师", "杨老师", "赵老师", "黄老师"}
	benchSchools = []string{"海淀实验中学", "育才小学", "第一中学", "实验小学", "外国语学校", "师范附属中学", "职业技术学校"}
)

type benchStage struct {
	stage  string
	grades []string
	vols   []string
}

var benchStages = []benchStage{
	{"小学", []string{"一年级", "二年级", "三年级", "四年级", "五年级", "六年级"}, []string{"上册", "下册"}},
	{"初中", []string{"七年级", "八年级", "九年级"}, []string{"上册", "下册"}},
	{"高中", []string{"高一", "高二", "高三"}, []string{"上册", "下册", "全一册"}},
}

// SyntheticDocs returns n reproducible documents for seed.
func SyntheticDocs(seed uint64, n int) []catalog.Document {
	r := rand.New(rand.NewPCG(seed, 0x5a17))
	subjects := make([]string, 0, len(benchTopics))
	for s := range benchTopics {
		subjects = append(subjects, s)
	}
	slices.Sort(subjects)
	editions := []string{"人教版", "部编版", "北师大版", "苏教版", "沪教版", "外研版", "湘教版", "浙教版"}
	types := []string{"课件", "教案", "学案", "试卷", "练习", "微课", "素材"}
	licenses := []string{"public", "cc-by", "cc-by-sa", "cc-by-nc", "cc-by-nc-sa", "cc-by-nd", "cc-by-nc-nd", "paid"}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]catalog.Document, n)
	for i := range docs {
		st := benchStages[r.IntN(len(benchStages))]
		subject := pick(subjects)
		topic := pick(benchTopics[subject])
		grade, vol, typ, ed := pick(st.grades), pick(st.vols), pick(types), pick(editions)
		lic := pick(licenses)
		var price int64
		if lic == "paid" {
			price = int64(100 * (1 + r.IntN(50)))
		}
		var body strings.Builder
		for j := 0; j < 6+r.IntN(10); j++ {
			body.WriteString(pick(benchSentences))
			body.WriteString("，")
			body.WriteString(topic)
			body.WriteString("。")
		}
		docs[i] = catalog.Document{
			ID:       fmt.Sprintf("syn-%08d", i),
			Title:    fmt.Sprintf("%s%s%s%s %s %s", ed, grade, subject, vol, topic, typ),
			Summary:  fmt.Sprintf("%s%s%s：%s，%s。", grade, subject, typ, topic, pick(benchSentences)),
			Body:     body.String(),
			Keywords: []string{topic, subject, typ},
			Type:     typ, Stage: st.stage, Grade: grade, Subject: subject, Edition: ed, Volume: vol,
			License: lic, PriceFen: price, Rating: float64(r.IntN(51)) / 10, Downloads: int64(r.IntN(5000)),
			PublishedAt: base.Add(time.Duration(r.IntN(5*365*24)) * time.Hour),
			Author:      pick(benchAuthors), Institution: pick(benchSchools),
		}
	}
	return docs
}
