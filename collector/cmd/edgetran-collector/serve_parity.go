package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/collector/view"
)

// refreshParity re-fits the dashboard's cross-validated parity plots every
// period while the number of stored measurements changes, starting right
// away. Cross-validation fits five models per target and measure, so it runs
// on a timer rather than on every new measurement.
func refreshParity(ctx context.Context, st store.Store, src *view.Source, period time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	fitted := -1
	for {
		if n, err := st.CountMeasurements(ctx); err == nil && n != fitted {
			if err := fitParity(ctx, st, src); err != nil {
				log.Warn("parity plots not refreshed", "err", err)
			} else {
				fitted = n
				log.Debug("parity plots refreshed", "measurements", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func fitParity(ctx context.Context, st store.Store, src *view.Source) error {
	ms, err := store.All(ctx, st, store.Query{})
	if err != nil {
		return err
	}
	fits, err := view.CrossValidate(ctx, ms, view.FitOptions{Kind: surrogate.KindGBDT})
	if err != nil {
		return err
	}
	src.SetSurrogates(view.Views(fits))
	return nil
}
