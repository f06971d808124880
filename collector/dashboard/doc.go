// Package dashboard renders the collector's web pages and its offline
// report: devices and targets, measurements with their power traces,
// surrogate parity plots and co-design results.
//
// The package depends on no other collector package. The collector fills
// the view types of this package and implements the Source interface, which
// the dashboard only reads. Plots are drawn on the server with gonum/plot into
// SVG and inlined into the HTML, so every page and the report work without
// JavaScript, and the report is one file that opens offline.
//
// Every figure carries its Basis. A number that was estimated (no power
// meter) or predicted (a surrogate) is labelled as such wherever it is
// shown, on pages, plots and in the CSV download.
//
// Routes, relative to Options.Prefix:
//
//	GET /                           devices and targets
//	GET /measurements               filterable, paginated table (query: device, target, arch, provenance, page, limit)
//	GET /measurements.csv           the filtered rows as CSV, every page
//	GET /measurements/{id}          one measurement: power trace and per-iteration latency
//	GET /measurements/{id}/trace.svg  the power trace plot alone
//	GET /surrogates                 parity plots per target and measure
//	GET /codesign                   convergence, Pareto fronts and the best pair
//	GET /report.html                the self-contained report, built from the live source
package dashboard
