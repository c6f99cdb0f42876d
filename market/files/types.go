package files

// Kind is the broad type of an accepted upload, as the market and its pages need it.
type Kind string

const (
	KindPDF      Kind = "pdf"
	KindDOCX     Kind = "docx"
	KindPPTX     Kind = "pptx"
	KindXLSX     Kind = "xlsx"
	KindDOC      Kind = "doc" // legacy Word (OLE2)
	KindPPT      Kind = "ppt" // legacy PowerPoint (OLE2)
	KindXLS      Kind = "xls" // legacy Excel (OLE2)
	KindImage    Kind = "image"
	KindAudio    Kind = "audio"
	KindVideo    Kind = "video"
	KindText     Kind = "text"
	KindMarkdown Kind = "markdown"
	KindZIP      Kind = "zip"
)

// format is one accepted file format: what content sniffing found.
type format struct {
	kind Kind
	mime string
	// ext is the canonical extension, added to names that have none.
	ext string
	// family groups extensions under which this format may be named: a JPEG called .png opens
	// everywhere, a PDF called .docx does not.
	family family
	// label describes the format in mismatch messages.
	label string
}

type family string

const (
	famPDF          family = "pdf"
	famDocument     family = "document"
	famPresentation family = "presentation"
	famSpreadsheet  family = "spreadsheet"
	famImage        family = "image"
	famAudio        family = "audio"
	famVideo        family = "video"
	famText         family = "text"
	famZIP          family = "zip"
)

var (
	fmtPDF  = format{KindPDF, "application/pdf", "pdf", famPDF, "PDF"}
	fmtDOCX = format{KindDOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", famDocument, "Word document"}
	fmtPPTX = format{KindPPTX, "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx", famPresentation, "PowerPoint presentation"}
	fmtXLSX = format{KindXLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", famSpreadsheet, "Excel workbook"}
	fmtDOC  = format{KindDOC, "application/msword", "doc", famDocument, "Word 97-2003 document"}
	fmtPPT  = format{KindPPT, "application/vnd.ms-powerpoint", "ppt", famPresentation, "PowerPoint 97-2003 presentation"}
	fmtXLS  = format{KindXLS, "application/vnd.ms-excel", "xls", famSpreadsheet, "Excel 97-2003 workbook"}
	fmtPNG  = format{KindImage, "image/png", "png", famImage, "PNG image"}
	fmtJPEG = format{KindImage, "image/jpeg", "jpg", famImage, "JPEG image"}
	fmtGIF  = format{KindImage, "image/gif", "gif", famImage, "GIF image"}
	fmtWEBP = format{KindImage, "image/webp", "webp", famImage, "WebP image"}
	fmtMP3  = format{KindAudio, "audio/mpeg", "mp3", famAudio, "MP3 audio"}
	fmtWAV  = format{KindAudio, "audio/wav", "wav", famAudio, "WAV audio"}
	fmtOGG  = format{KindAudio, "audio/ogg", "ogg", famAudio, "Ogg audio"}
	fmtM4A  = format{KindAudio, "audio/mp4", "m4a", famAudio, "M4A audio"}
	fmtMP4  = format{KindVideo, "video/mp4", "mp4", famVideo, "MP4 video"}
	fmtWEBM = format{KindVideo, "video/webm", "webm", famVideo, "WebM video"}
	fmtText = format{KindText, "text/plain; charset=utf-8", "txt", famText, "plain text"}
	fmtMD   = format{KindMarkdown, "text/markdown; charset=utf-8", "md", famText, "Markdown text"}
	fmtZIP  = format{KindZIP, "application/zip", "zip", famZIP, "a ZIP archive"}
)

// labelZH gives the Chinese label of a format for mismatch messages.
var labelZH = map[string]string{
	"PDF": "PDF 文档", "Word document": "Word 文档", "PowerPoint presentation": "PowerPoint 演示文稿",
	"Excel workbook": "Excel 工作簿", "Word 97-2003 document": "Word 97-2003 文档",
	"PowerPoint 97-2003 presentation": "PowerPoint 97-2003 演示文稿", "Excel 97-2003 workbook": "Excel 97-2003 工作簿",
	"PNG image": "PNG 图片", "JPEG image": "JPEG 图片", "GIF image": "GIF 图片", "WebP image": "WebP 图片",
	"MP3 audio": "MP3 音频", "WAV audio": "WAV 音频", "Ogg audio": "Ogg 音频", "M4A audio": "M4A 音频",
	"MP4 video": "MP4 视频", "WebM video": "WebM 视频", "plain text": "纯文本", "Markdown text": "Markdown 文本",
	"a ZIP archive": "ZIP 压缩包",
	// Details of refusals.
	"ELF executable": "Linux ELF", "Windows executable (PE/MZ)": "Windows PE/MZ",
	"Mach-O executable": "macOS Mach-O", "Mach-O or Java class file": "Mach-O 或 Java 类文件",
	"WebAssembly module": "WebAssembly", "Android DEX": "Android DEX", "script (#!)": "#! 脚本",
	"binary data": "无法识别的二进制数据", "unknown binary data": "无法识别的二进制数据",
	"HTML": "网页（HTML）", "SVG": "SVG 图形", "XML": "XML", "<script>": "<script> 脚本",
	"RAR archive": "RAR 压缩包", "7-Zip archive": "7-Zip 压缩包", "gzip archive": "gzip 压缩包",
	"bzip2 archive": "bzip2 压缩包", "xz archive": "xz 压缩包", "Zstandard archive": "Zstandard 压缩包",
	"tar archive": "tar 归档", "Windows cabinet": "Windows CAB 压缩包", "BMP image": "BMP 图片",
	"TIFF image": "TIFF 图片", "HEIC image": "HEIC 图片", "HEIF image": "HEIF 图片", "AVIF image": "AVIF 图片",
	"RTF document": "RTF 文档", "FLAC audio": "FLAC 音频", "Flash video": "Flash 视频",
	"Windows Media file": "Windows Media 文件", "AVI video": "AVI 视频", "Matroska (MKV) video": "MKV 视频",
	"QuickTime (MOV) video": "QuickTime（MOV）视频", "3GP video": "3GP 视频", "Canon raw image": "佳能 RAW 图片",
	"OLE2 compound file (not Word, PowerPoint or Excel; an installer or message?)": "OLE2 复合文件（不是 Word、PowerPoint 或 Excel，可能是安装包或邮件）",
}

// extFamily maps the extensions we know to the family they promise. Extensions not listed are
// unknown: a binary format gets its canonical extension added, text keeps them (.py, .tex).
var extFamily = map[string]family{
	"pdf": famPDF,
	"doc": famDocument, "docx": famDocument, "dot": famDocument, "dotx": famDocument, "rtf": famDocument, "wps": famDocument,
	"ppt": famPresentation, "pptx": famPresentation, "pps": famPresentation, "ppsx": famPresentation, "pot": famPresentation, "potx": famPresentation, "dps": famPresentation,
	"xls": famSpreadsheet, "xlsx": famSpreadsheet, "xlt": famSpreadsheet, "xltx": famSpreadsheet, "et": famSpreadsheet,
	"png": famImage, "jpg": famImage, "jpeg": famImage, "jpe": famImage, "jfif": famImage, "gif": famImage, "webp": famImage, "bmp": famImage, "tif": famImage, "tiff": famImage, "heic": famImage, "avif": famImage, "ico": famImage,
	"mp3": famAudio, "wav": famAudio, "ogg": famAudio, "oga": famAudio, "opus": famAudio, "m4a": famAudio, "aac": famAudio, "flac": famAudio, "wma": famAudio, "amr": famAudio,
	"mp4": famVideo, "m4v": famVideo, "webm": famVideo, "mov": famVideo, "avi": famVideo, "mkv": famVideo, "flv": famVideo, "wmv": famVideo, "3gp": famVideo,
	"txt": famText, "text": famText, "md": famText, "markdown": famText, "mdown": famText, "mkd": famText, "csv": famText, "tsv": famText, "log": famText,
	"zip": famZIP, "rar": famZIP, "7z": famZIP, "tar": famZIP, "gz": famZIP, "tgz": famZIP, "bz2": famZIP, "xz": famZIP,
}

// markdownExts decide Markdown among text files: the content cannot tell.
var markdownExts = map[string]bool{"md": true, "markdown": true, "mdown": true, "mkd": true}

// blockedExts are refused whatever the content: a double click on them runs code (Windows
// Script Host, installers, shortcuts, shells), a browser renders them as active pages, or they
// are macro-enabled Office formats.
var blockedExts = map[string]bool{
	"exe": true, "dll": true, "com": true, "scr": true, "pif": true, "msi": true, "msp": true, "msix": true,
	"appx": true, "bat": true, "cmd": true, "ps1": true, "psm1": true, "vbs": true, "vbe": true, "js": true,
	"jse": true, "wsf": true, "wsh": true, "hta": true, "cpl": true, "lnk": true, "url": true, "reg": true,
	"inf": true, "jar": true, "apk": true, "ipa": true, "app": true, "dmg": true, "pkg": true, "deb": true,
	"rpm": true, "sh": true, "bash": true, "zsh": true, "csh": true, "ksh": true, "command": true, "run": true,
	"sys": true, "drv": true, "ocx": true, "so": true, "dylib": true, "elf": true,
	"html": true, "htm": true, "xhtml": true, "shtml": true, "mht": true, "mhtml": true, "svg": true,
	"svgz": true, "xml": true, "xsl": true, "xslt": true, "swf": true, "chm": true,
	"docm": true, "dotm": true, "pptm": true, "potm": true, "ppsm": true, "xlsm": true, "xltm": true,
	"xlam": true, "ppam": true,
}
