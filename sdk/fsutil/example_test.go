package fsutil_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/fsutil"
)

// WriteFile replaces a file in one step; WriteWith streams the new content
// through a buffered writer. A fill that fails leaves the old file as it was.
func ExampleWriteWith() {
	dir, err := os.MkdirTemp("", "fsutil-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "result.json")

	if err := fsutil.WriteFile(path, []byte(`{"val_accuracy": 61.5}`)); err != nil {
		log.Fatal(err)
	}
	err = fsutil.WriteWith(path, func(w io.Writer) error {
		fmt.Fprint(w, `{"val_accuracy": `)
		return fmt.Errorf("the run was interrupted")
	})
	fmt.Println("error:", err)
	data, _ := os.ReadFile(path)
	fmt.Println(string(data))
	left, _ := os.ReadDir(dir)
	fmt.Println(len(left), "file in the folder")
	// Output:
	// error: the run was interrupted
	// {"val_accuracy": 61.5}
	// 1 file in the folder
}
