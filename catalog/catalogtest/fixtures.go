package catalogtest

import (
	"time"

	"ziyuan/catalog"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// Fixtures returns the documents the contract tests index. They are built so that every sort
// has ties (equal downloads, ratings, prices and dates) that only the ID tiebreak orders, and so
// that the text cases (sub-words, compounds, synonyms, English, hostile markup) have exactly one
// right answer.
func Fixtures() []catalog.Document {
	return []catalog.Document{
		{ID: "d01", Title: "植物的光合作用", Summary: "通过实验探究光合作用的条件和产物，认识叶绿体的作用。",
			Body: "本课件包含淀粉检验实验步骤与课堂练习。", Keywords: []string{"光合作用", "叶绿体"},
			Type: "课件", Stage: "初中", Grade: "七年级", Subject: "生物学", Edition: "人教版", Volume: "上册",
			License: "cc-by", PriceFen: 0, Rating: 4.5, Downloads: 120, PublishedAt: day("2024-03-01"),
			Author: "王老师", Institution: "海淀实验中学"},
		{ID: "d02", Title: "二次函数的图像和性质", Summary: "九年级数学教学设计：用描点法画二次函数图像，归纳开口方向、对称轴与顶点。",
			Type: "教案", Stage: "初中", Grade: "九年级", Subject: "数学", Edition: "人教版", Volume: "上册",
			License: "paid", PriceFen: 800, Rating: 4.8, Downloads: 300, PublishedAt: day("2024-05-10")},
		{ID: "d03", Title: "二次函数的图像", Summary: "配套课件，动态演示抛物线的平移。",
			Type: "课件", Stage: "初中", Grade: "九年级", Subject: "数学", Edition: "人教版", Volume: "上册",
			License: "cc-by-nc", PriceFen: 0, Rating: 4.0, Downloads: 300, PublishedAt: day("2024-05-10")},
		{ID: "d04", Title: "一次函数的图像", Summary: "八年级一次函数图像的画法与性质。",
			Type: "教案", Stage: "初中", Grade: "八年级", Subject: "数学", Edition: "北师大版", Volume: "上册",
			License: "public", PriceFen: 0, Rating: 4.0, Downloads: 80, PublishedAt: day("2023-09-01")},
		{ID: "d05", Title: "勾股定理的证明", Summary: "介绍赵爽弦图等多种证明方法。",
			Type: "课件", Stage: "初中", Grade: "八年级", Subject: "数学", Edition: "人教版", Volume: "下册",
			License: "paid", PriceFen: 500, Rating: 3.5, Downloads: 45, PublishedAt: day("2023-03-15")},
		{ID: "d06", Title: "七年级上册数学期末复习", Summary: "覆盖有理数、整式、一元一次方程的期末复习题。",
			Type: "试卷", Stage: "初中", Grade: "七年级", Subject: "数学", Edition: "人教版", Volume: "上册",
			License: "paid", PriceFen: 500, Rating: 4.2, Downloads: 510, PublishedAt: day("2024-01-05")},
		{ID: "d07", Title: "Unit 3 My School 单元课件", Summary: "Lessons about classrooms and school life for grade four.",
			Type: "课件", Stage: "小学", Grade: "四年级", Subject: "英语", Edition: "人教PEP版", Volume: "上册",
			License: "cc-by-sa", PriceFen: 0, Rating: 4.6, Downloads: 95, PublishedAt: day("2024-09-01")},
		{ID: "d08", Title: "静夜思 朗读微课", Summary: "小学一年级古诗朗读与字词讲解。",
			Type: "微课", Stage: "小学", Grade: "一年级", Subject: "语文", Edition: "部编版", Volume: "下册",
			License: "public", PriceFen: 0, Rating: 4.9, Downloads: 1000, PublishedAt: day("2022-02-20")},
		{ID: "d09", Title: `<script>alert("x")</script> 光合作用趣味实验`, Summary: `用 <b>水草</b> & 试管观察气泡`,
			Type: "素材", Stage: "初中", Grade: "七年级", Subject: "生物学", Edition: "人教版", Volume: "上册",
			License: "cc-by-nd", PriceFen: 0, Rating: 3.0, Downloads: 10, PublishedAt: day("2021-06-01")},
		{ID: "d10", Title: "牛顿第二定律", Summary: "高一物理新授课教学设计，含实验探究加速度与力、质量的关系。",
			Type: "教案", Stage: "高中", Grade: "高一", Subject: "物理", Edition: "人教版", Volume: "全一册",
			License: "paid", PriceFen: 1200, Rating: 4.7, Downloads: 60, PublishedAt: day("2024-02-29")},
		{ID: "d11", Title: "化学方程式的书写", Summary: "九年级化学配平方法练习。",
			Type: "练习", Stage: "初中", Grade: "九年级", Subject: "化学", Edition: "沪教版", Volume: "上册",
			License: "cc-by-nc-sa", PriceFen: 0, Rating: 4.2, Downloads: 75, PublishedAt: day("2023-11-11")},
		{ID: "d12", Title: "中国的地形", Summary: "八年级地理：地势西高东低，呈三级阶梯分布。",
			Type: "学案", Stage: "初中", Grade: "八年级", Subject: "地理", Edition: "湘教版", Volume: "上册",
			License: "cc-by-nc-nd", PriceFen: 0, Rating: 3.8, Downloads: 33, PublishedAt: day("2023-10-01")},
		{ID: "d13", Title: "会计基础 网络课程", Summary: "中职财经商贸类专业会计基础在线课程，共十二讲。",
			Type: "网络课程", Stage: "中职", Grade: "中职一年级", Subject: "财经商贸大类",
			License: "paid", PriceFen: 9900, Rating: 4.1, Downloads: 20, PublishedAt: day("2024-06-18")},
		{ID: "d14", Title: "校本教研 听评课服务", Summary: "为学校提供听课、评课与教研指导。",
			Type: "服务", Stage: "小学", Grade: "五年级", Subject: "语文",
			License: "paid", PriceFen: 20000, Rating: 0, Downloads: 0, PublishedAt: day("2024-07-01")},
		{ID: "d15", Title: "圆的面积", Summary: "六年级数学：化圆为方，推导圆面积公式。",
			Type: "课件", Stage: "小学", Grade: "六年级", Subject: "数学", Edition: "人教版", Volume: "上册",
			License: "cc-by", PriceFen: 0, Rating: 4.5, Downloads: 120, PublishedAt: day("2024-03-01")},
		{ID: "d16", Title: "圆的面积", Summary: "六年级数学：化圆为方，推导圆面积公式。",
			Type: "课件", Stage: "小学", Grade: "六年级", Subject: "数学", Edition: "人教版", Volume: "上册",
			License: "cc-by", PriceFen: 0, Rating: 4.5, Downloads: 120, PublishedAt: day("2024-03-01")},
		{ID: "d17", Title: "古诗三首", Summary: "三年级语文古诗教学设计与朗读指导。",
			Type: "教案", Stage: "小学", Grade: "三年级", Subject: "语文", Edition: "部编版", Volume: "上册",
			License: "paid", PriceFen: 300, Rating: 4.0, Downloads: 80, PublishedAt: day("2023-09-01")},
		{ID: "d18", Title: "电路的连接", Summary: "九年级物理学生实验指导与评价量表。",
			Type: "学案", Stage: "初中", Grade: "九年级", Subject: "物理", Edition: "沪科版", Volume: "全一册",
			License: "public", PriceFen: 0, Rating: 3.5, Downloads: 45, PublishedAt: day("2022-12-12")},
	}
}
