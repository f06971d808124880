package dataset

import (
	"os"
	"testing"
)

// BenchmarkLoadCodesignFile imports the whole published co-design file
// (648 rows, 0.9 MB), including validation, embedding checks and features.
func BenchmarkLoadCodesignFile(b *testing.B) {
	path := publishedPath(b, "codesign_dataset.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := LoadFile(path, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
