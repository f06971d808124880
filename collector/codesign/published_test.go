package codesign

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edgetran/edgetran/shared/dataset"
	"github.com/edgetran/edgetran/shared/pubdata"
)

// publishedPath is the published EdgeTran co-design dataset.
var publishedPath = filepath.Join(pubdata.Dir(), "codesign_dataset.json")

var loadPublished = sync.OnceValues(func() (Data, error) {
	imp, err := dataset.LoadFile(publishedPath, dataset.Options{Format: dataset.FormatAuto})
	if err != nil {
		return Data{}, err
	}
	return dataFromImport(imp), nil
})

func dataFromImport(imp *dataset.Import) Data {
	d := Data{Aliases: map[string]string{}}
	for _, r := range imp.Records {
		d.Measurements = append(d.Measurements, r.Measurement)
		if r.Accuracy != nil {
			d.Accuracy = append(d.Accuracy, *r.Accuracy)
		}
		d.Aliases[r.Measurement.Target.Key()] = r.Device
	}
	return d
}

// publishedData returns the published measurements or skips the test when
// the data folder is absent.
func publishedData(tb testing.TB) Data {
	tb.Helper()
	if _, err := os.Stat(publishedPath); err != nil {
		tb.Skipf("published EdgeTran data not found at %s: %v", publishedPath, err)
	}
	d, err := loadPublished()
	if err != nil {
		tb.Fatalf("load published data: %v", err)
	}
	return d
}
