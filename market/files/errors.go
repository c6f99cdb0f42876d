package files

import (
	"errors"
	"fmt"
	"strings"
)

// Class is how the market should treat a refusal. Its values are the market's error codes, so
// that the mapping is the identity: invalid → 400, too_large → 413, unsupported_media_type → 415.
type Class string

const (
	ClassInvalid     Class = "invalid"
	ClassTooLarge    Class = "too_large"
	ClassUnsupported Class = "unsupported_media_type"
)

// Reason says precisely what was wrong with an upload. Tests and callers compare reasons with
// errors.Is against the Err* values below; people read Text.
type Reason string

const (
	ReasonEmpty        Reason = "empty"          // a file of zero bytes
	ReasonTooLarge     Reason = "too_large"      // over Limits.MaxSize
	ReasonType         Reason = "type"           // content of a type we do not accept
	ReasonExecutable   Reason = "executable"     // a program (ELF, PE, Mach-O, …)
	ReasonScript       Reason = "script"         // HTML, SVG or text carrying <script>
	ReasonExtension    Reason = "extension"      // a name ending in an executable or active extension
	ReasonMismatch     Reason = "mismatch"       // content of one type named as another
	ReasonMacro        Reason = "macro"          // an Office document with VBA macros
	ReasonEncoding     Reason = "encoding"       // text in neither UTF-8, UTF-16 nor GB18030
	ReasonZipSlip      Reason = "zip_slip"       // an archive entry that would land outside the target
	ReasonSymlink      Reason = "symlink"        // an archive entry that is a symbolic link
	ReasonNested       Reason = "nested_archive" // an archive inside a ZIP upload
	ReasonBomb         Reason = "zip_bomb"       // an entry or archive expanding beyond Limits.MaxRatio
	ReasonExpansion    Reason = "expansion"      // an archive expanding beyond Limits.MaxExpanded
	ReasonEntries      Reason = "entries"        // more than Limits.MaxEntries entries
	ReasonEncrypted    Reason = "encrypted"      // a password-protected archive or document
	ReasonCorrupt      Reason = "corrupt"        // unreadable, truncated or self-contradictory
	ReasonCompression  Reason = "compression"    // an archive using a compression method we cannot read
	ReasonDuplicate    Reason = "duplicate"      // two archive entries with the same name
	ReasonEmptyArchive Reason = "empty_archive"  // an archive without any file
)

// Error is a refused upload. Name is the sanitised file name, Entry the archive entry at fault
// (if any), Limit the limit that was exceeded, Detail what the content was detected to be.
type Error struct {
	Class  Class
	Reason Reason
	Name   string
	Entry  string
	Limit  string
	Detail string
	// Err is the underlying cause, for logs only.
	Err error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Reason.
var (
	ErrEmpty        = &Error{Class: ClassInvalid, Reason: ReasonEmpty}
	ErrTooLarge     = &Error{Class: ClassTooLarge, Reason: ReasonTooLarge}
	ErrType         = &Error{Class: ClassUnsupported, Reason: ReasonType}
	ErrExecutable   = &Error{Class: ClassUnsupported, Reason: ReasonExecutable}
	ErrScript       = &Error{Class: ClassUnsupported, Reason: ReasonScript}
	ErrExtension    = &Error{Class: ClassUnsupported, Reason: ReasonExtension}
	ErrMismatch     = &Error{Class: ClassUnsupported, Reason: ReasonMismatch}
	ErrMacro        = &Error{Class: ClassUnsupported, Reason: ReasonMacro}
	ErrEncoding     = &Error{Class: ClassUnsupported, Reason: ReasonEncoding}
	ErrZipSlip      = &Error{Class: ClassInvalid, Reason: ReasonZipSlip}
	ErrSymlink      = &Error{Class: ClassInvalid, Reason: ReasonSymlink}
	ErrNested       = &Error{Class: ClassInvalid, Reason: ReasonNested}
	ErrBomb         = &Error{Class: ClassInvalid, Reason: ReasonBomb}
	ErrExpansion    = &Error{Class: ClassInvalid, Reason: ReasonExpansion}
	ErrEntries      = &Error{Class: ClassInvalid, Reason: ReasonEntries}
	ErrEncrypted    = &Error{Class: ClassInvalid, Reason: ReasonEncrypted}
	ErrCorrupt      = &Error{Class: ClassInvalid, Reason: ReasonCorrupt}
	ErrCompression  = &Error{Class: ClassUnsupported, Reason: ReasonCompression}
	ErrDuplicate    = &Error{Class: ClassInvalid, Reason: ReasonDuplicate}
	ErrEmptyArchive = &Error{Class: ClassInvalid, Reason: ReasonEmptyArchive}
)

var sentinels = []*Error{
	ErrEmpty, ErrTooLarge, ErrType, ErrExecutable, ErrScript, ErrExtension, ErrMismatch, ErrMacro,
	ErrEncoding, ErrZipSlip, ErrSymlink, ErrNested, ErrBomb, ErrExpansion, ErrEntries, ErrEncrypted,
	ErrCorrupt, ErrCompression, ErrDuplicate, ErrEmptyArchive,
}

// Reasons lists every reason, so that callers can prove their own tables complete.
func Reasons() []Reason {
	out := make([]Reason, len(sentinels))
	for i, s := range sentinels {
		out[i] = s.Reason
	}
	return out
}

// newError builds a refusal of the given reason; its class comes from the reason's sentinel.
func newError(reason Reason, name string) *Error {
	e := &Error{Reason: reason, Name: name, Class: ClassInvalid}
	for _, s := range sentinels {
		if s.Reason == reason {
			e.Class = s.Class
		}
	}
	return e
}

func (e *Error) entry(entry string) *Error   { e.Entry = entry; return e }
func (e *Error) limit(limit string) *Error   { e.Limit = limit; return e }
func (e *Error) detail(detail string) *Error { e.Detail = detail; return e }
func (e *Error) cause(err error) *Error      { e.Err = err; return e }

// Is reports whether target is the sentinel of e's reason (or an equal *Error).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && (t.Name == "" || t.Name == e.Name)
}

func (e *Error) Unwrap() error { return e.Err }

// Error returns the English message, with the cause for logs.
func (e *Error) Error() string {
	msg := e.Text("en")
	if e.Err != nil {
		return fmt.Sprintf("%s: %s (%v)", e.Class, msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Class, msg)
}

// Text renders the message for a reader of lang: English for "en…", Chinese otherwise (the
// product speaks zh-CN first).
func (e *Error) Text(lang string) string {
	t, ok := errorTexts[e.Reason]
	if !ok {
		t = wholeFileTexts[ReasonCorrupt]
	}
	if e.Entry == "" {
		if w, ok := wholeFileTexts[e.Reason]; ok {
			t = w
		}
	}
	format := t.zh
	if strings.HasPrefix(lang, "en") {
		format = t.en
	}
	name := e.Name
	if name == "" {
		name = "?"
	}
	// Explicit argument indexes let each template use the fields it needs, in either language.
	detail := e.Detail
	if !strings.HasPrefix(lang, "en") && labelZH[detail] != "" {
		detail = labelZH[detail]
	}
	return fmt.Sprintf(format, name, e.Entry, e.Limit, detail)
}

// Chinese and English are shorthands for Text("zh") and Text("en").
func (e *Error) Chinese() string { return e.Text("zh") }
func (e *Error) English() string { return e.Text("en") }

// errorTexts holds the messages: %[1]s is the file name, %[2]s the entry, %[3]s the limit,
// %[4]s the detected type.
var errorTexts = map[Reason]struct{ zh, en string }{
	ReasonEmpty:    {"文件“%[1]s”是空的。", "The file %[1]q is empty."},
	ReasonTooLarge: {"文件“%[1]s”超过了 %[3]s 的大小上限。", "The file %[1]q exceeds the size limit of %[3]s."},
	ReasonType: {"文件“%[1]s”的类型（%[4]s）不受支持。可上传 PDF、Office 文档、图片（PNG、JPEG、GIF、WebP）、音频（MP3、WAV、OGG、M4A）、视频（MP4、WebM）、纯文本、Markdown 和 ZIP 压缩包。",
		"The file %[1]q is of a type we do not accept (%[4]s). Allowed: PDF, Office documents, images (PNG, JPEG, GIF, WebP), audio (MP3, WAV, OGG, M4A), video (MP4, WebM), plain text, Markdown and ZIP."},
	ReasonExecutable: {"文件“%[1]s”是可执行程序或脚本（%[4]s），不允许上传。", "The file %[1]q is an executable program (%[4]s) and cannot be uploaded."},
	ReasonScript:     {"文件“%[1]s”含有网页代码或脚本（%[4]s），不允许上传。", "The file %[1]q contains web page code or a script (%[4]s) and cannot be uploaded."},
	ReasonExtension:  {"不允许上传扩展名为“.%[4]s”的文件（“%[1]s”）。", "Files ending in .%[4]s cannot be uploaded (%[1]q)."},
	ReasonMismatch:   {"文件“%[1]s”的内容是%[4]s，与扩展名不符。请使用正确的扩展名。", "The file %[1]q contains %[4]s, which does not match its extension. Please use the right extension."},
	ReasonMacro:      {"文件“%[1]s”包含宏，不允许上传。请另存为不含宏的格式（如 .docx、.pptx、.xlsx）后重新上传。", "The file %[1]q contains macros and cannot be uploaded. Save it in a macro-free format (such as .docx, .pptx, .xlsx) and upload again."},
	ReasonEncoding:   {"文件“%[1]s”不是 UTF-8、UTF-16 或 GB18030 编码的文本，也不是其他可接受的类型。", "The file %[1]q is neither UTF-8, UTF-16 nor GB18030 text, nor of another accepted type."},
	ReasonZipSlip:    {"文件“%[1]s”中的条目“%[2]s”试图写到解压目录之外。", "The entry %[2]q in %[1]q would be written outside the extraction folder."},
	ReasonSymlink:    {"文件“%[1]s”中的条目“%[2]s”是符号链接，不允许。", "The entry %[2]q in %[1]q is a symbolic link, which is not allowed."},
	ReasonNested:     {"文件“%[1]s”中的条目“%[2]s”本身是压缩包。请不要在压缩包中嵌套压缩包。", "The entry %[2]q in %[1]q is itself an archive. Please do not nest archives."},
	ReasonBomb:       {"文件“%[1]s”中的条目“%[2]s”压缩比异常（超过 %[3]s），疑似压缩炸弹。", "The entry %[2]q in %[1]q expands abnormally (more than %[3]s); it looks like a ZIP bomb."},
	ReasonExpansion:  {"文件“%[1]s”解压后超过 %[3]s，疑似压缩炸弹。", "The file %[1]q expands to more than %[3]s; it looks like a ZIP bomb."},
	ReasonEntries:    {"文件“%[1]s”包含的条目过多（上限 %[3]s 个）。", "The file %[1]q has too many entries (at most %[3]s)."},
	ReasonEncrypted:  {"文件“%[1]s”已加密，无法检查。请去掉密码后重新上传。", "The file %[1]q is encrypted and cannot be checked. Remove the password and upload again."},
	ReasonCorrupt:    {"文件“%[1]s”中的条目“%[2]s”已损坏，无法读取。", "The entry %[2]q in %[1]q is damaged and cannot be read."},
	ReasonCompression: {"文件“%[1]s”中的条目“%[2]s”使用了不支持的压缩方法。请用常见的 ZIP（Deflate）格式重新压缩。",
		"The entry %[2]q in %[1]q uses an unsupported compression method. Please recompress it as an ordinary (Deflate) ZIP."},
	ReasonDuplicate:    {"文件“%[1]s”中有重复的条目“%[2]s”。", "The entry %[2]q appears more than once in %[1]q."},
	ReasonEmptyArchive: {"压缩包“%[1]s”中没有任何文件。", "The archive %[1]q contains no files."},
}

// wholeFileTexts replace errorTexts when a problem concerns no single entry.
var wholeFileTexts = map[Reason]struct{ zh, en string }{
	ReasonBomb:    {"文件“%[1]s”整体压缩比异常（超过 %[3]s），疑似压缩炸弹。", "The archive %[1]q expands abnormally as a whole (more than %[3]s); it looks like a ZIP bomb."},
	ReasonCorrupt: {"文件“%[1]s”已损坏或格式不正确，无法读取。", "The file %[1]q is damaged or malformed and cannot be read."},
}

// ClassOf returns the class of a refusal, and false for errors that are not refusals (I/O
// failures, cancelled contexts), which the market should treat as internal.
func ClassOf(err error) (Class, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Class, true
	}
	return "", false
}

// formatBytes renders a byte limit for people: "200 MiB", "1 GiB", "512 KiB", "100 B".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d B", n)
	}
}
