// Package demodata owns Ziyuan's demo catalogue: about 240 realistic teaching resources for the
// demo accounts of market.DemoAccounts (li.teacher, chen.teacher, gongyi.editor, xuehai.vendor),
// each with its description (market.Meta), small real files, the items it derives from, and the
// claims and ratings it receives from demo students and teachers.
//
// Items is deterministic: the same resources, files and bytes on every call and every run (no
// clock, no randomness; claims and ratings are chosen by an FNV hash of the item's key; ZIP
// entries carry a fixed time). Only a change of Go release may change the compressed bytes of
// the DOCX and PPTX files, never their content. The
// slice is in publication order: every ParentKeys entry names an earlier item, so a seeder can
// create, submit and approve the items one by one and then resolve ParentKeys to resource IDs.
// The package only describes; it imports market for its types and never touches a database.
//
// What the data obeys (and the tests check): every classification is canonical in the embedded
// taxonomy (catalog.DefaultTaxonomy); 服务 is sold only by the vendor; 网络课程 carries a Course
// and no files; the public licence is used only by accounts of public, bureau or school
// institutions; paid offers have prices in fen; derivatives respect their parents' licences
// (no -nd parents, share-alike keeps the licence, non-commercial and public parents give free
// children, a paid parent only its own owner's children); claims go to free items only, never
// by the owner nor by zhang.xiaohong (no guardian consent), and only claimers rate.
//
// Files are generated here with the standard library: DOCX (WordprocessingML with core
// properties), PPTX (PresentationML with a slide master, a layout and a theme, which PowerPoint
// requires), Markdown and PDF. Each is a few kilobytes, is accepted by files.Inspect, and carries
// text written from the item's own title, points and exercises, so that search, exact-duplicate
// and near-duplicate detection see distinct real text. The PDFs are written by hand with the
// standard Helvetica font and no embedded font, which has no Chinese glyphs: PDF text is English
// only, and PDFs are used for English-language items (worksheets). A 微课 is delivered as its
// slides and script, not as a video.
package demodata
