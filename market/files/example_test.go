package files_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"ziyuan/market/files"
)

// The market's upload path: inspect, map refusals to its codes, store the blob, keep the text.
func ExampleInspector() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	in := files.NewInspector(files.Limits{}, tmp) // one per server
	blobs, _ := files.NewLocalBlobs(tmp)          // <data>/blobs in production

	var body io.Reader = bytes.NewReader(docxOf(nil, "勾股定理"))
	u, err := in.Inspect(ctx, `C:\教案\勾股定理.docx`, body)
	if err != nil {
		var fe *files.Error
		if errors.As(err, &fe) {
			// market: &Error{Code: Code(fe.Class), message fe.Text(lang)}
			fmt.Println(fe.Class, fe.Chinese())
			return
		}
		// anything else is internal
		return
	}
	defer u.Close()
	if err := u.Store(ctx, blobs); err != nil {
		return
	}
	fmt.Println(u.Name, u.Kind, u.Text)

	_, err = in.Inspect(ctx, "../../etc/passwd.pdf", bytes.NewReader([]byte("\x7fELF\x02\x01\x01")))
	var fe *files.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.Class, fe.Chinese())
	}
	// Output:
	// 勾股定理.docx docx 勾股定理
	// unsupported_media_type 文件“passwd.pdf”是可执行程序或脚本（Linux ELF），不允许上传。
}
