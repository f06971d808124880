package dashboard

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The browser tests load the report and dashboard pages in headless
// Chromium and check what it rendered: the DOM after parsing, and the
// pixels of a screenshot.

// chromium returns the path of the Chromium binary or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("headless Chromium not found; install it with `apt-get install chromium` to run the browser test")
	return ""
}

// runChromium runs headless Chromium with networking features off and a
// fresh profile, and returns its standard output.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\nstderr (last 2000 bytes): %s", args, err, tail(stderr.String(), 2000))
	}
	return out
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// dumpDOM returns the DOM that Chromium built from target, serialised.
func dumpDOM(t *testing.T, bin, target string) string {
	t.Helper()
	return string(runChromium(t, bin, "--dump-dom", target))
}

// screenshot returns a screenshot of target at the given viewport size.
func screenshot(t *testing.T, bin, target string, width, height int) image.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shot.png")
	runChromium(t, bin, "--screenshot="+path, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), target)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return img
}

var (
	svgElement = regexp.MustCompile(`(?s)<svg[^>]*class="plot"[^>]*>.*?</svg>`)
	pathData   = regexp.MustCompile(`<path d="(M[^"]+)"`)
)

// checkPlots checks that dom has want plot SVGs, each drawing paths.
func checkPlots(t *testing.T, name, dom string, want int) {
	t.Helper()
	svgs := svgElement.FindAllString(dom, -1)
	if len(svgs) != want {
		t.Errorf("%s: %d rendered plot SVGs, want %d", name, len(svgs), want)
	}
	for i, svg := range svgs {
		// A plot has at least its background, two axes and one data path.
		if n := len(pathData.FindAllString(svg, -1)); n < 4 {
			t.Errorf("%s: plot %d has %d non-empty paths, want at least 4", name, i+1, n)
		}
		if !strings.Contains(svg, "<text") {
			t.Errorf("%s: plot %d has no text (title, labels)", name, i+1)
		}
	}
}

func TestBrowserRendersReport(t *testing.T) {
	bin := chromium(t)
	html, view := writeTestReport(t)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	fileURL := (&url.URL{Scheme: "file", Path: path}).String()

	dom := dumpDOM(t, bin, fileURL)
	for _, want := range []string{
		"<h1>Fleet report</h1>", `<h2 id="summary-h">Summary</h2>`, `<h2 id="surrogates-h">Surrogates</h2>`,
		`<h2 id="codesign-h">Co-design</h2>`, "Power trace (estimated, not measured)",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered report lacks %q", want)
		}
	}
	checkPlots(t, "report", dom, 4+len(view.Surrogates)+1+len(view.CoDesign.Fronts))

	// Headless Chromium paints nothing when a fragment scrolls the page,
	// so the screenshot is of a short report whose trace is near the top.
	records := liveRecords()
	var short strings.Builder
	if err := WriteReport(&short, ReportView{Measurements: records[:1], Details: records[:1], GeneratedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	shortPath := filepath.Join(t.TempDir(), "short.html")
	if err := os.WriteFile(shortPath, []byte(short.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	img := screenshot(t, bin, (&url.URL{Scheme: "file", Path: shortPath}).String(), 1280, 2000)
	checkTracePixels(t, img)
}

func TestBrowserRendersDashboardPages(t *testing.T) {
	bin := chromium(t)
	src := newTestSource(t)
	srv := newTestServer(t, src, "")
	measurement := srv.URL + "/measurements/" + url.PathEscape("job-x86-1#1")

	dom := dumpDOM(t, bin, measurement)
	for _, want := range []string{"<h1>Measurement</h1>", "job-x86-1#1", "Power trace of job-x86-1#1", "Latency per iteration"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered measurement page lacks %q", want)
		}
	}
	checkPlots(t, "measurement page", dom, 2)

	dom = dumpDOM(t, bin, srv.URL+"/surrogates")
	if !strings.Contains(dom, "<h1>Surrogates</h1>") {
		t.Error("rendered surrogates page lacks its heading")
	}
	checkPlots(t, "surrogates page", dom, len(src.surrogates))

	checkTracePixels(t, screenshot(t, bin, measurement, 1280, 1600))
}

// Colours of the trace plot as a browser paints them: the power line is
// palette[0]; the timed-window band is windowTint blended over white.
var (
	traceBlue   = [3]int{0x00, 0x72, 0xb2}
	bandOnWhite = [3]int{246, 219, 159}
)

// checkTracePixels finds the trace plot in a screenshot by the colour of
// its power line and checks that the plot region is drawn, not blank. The
// line must span a good part of the page width, the shaded window must be
// there, and the pixel brightness inside the region must vary.
func checkTracePixels(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	box := image.Rectangle{Min: b.Max, Max: b.Min}
	blue, band := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgb(img, x, y)
			if near(c, traceBlue, 10) {
				blue++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
			if near(c, bandOnWhite, 12) {
				band++
			}
		}
	}
	if blue < 300 {
		t.Fatalf("screenshot has %d pixels of the trace colour, want at least 300: the plot did not render", blue)
	}
	if box.Dx() < 300 || box.Dy() < 50 {
		t.Errorf("trace line spans %v, want at least 300×50 px", box)
	}
	if band < 2000 {
		t.Errorf("screenshot has %d pixels of the timed-window band colour, want at least 2000", band)
	}

	var sum, sq float64
	n := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			c := rgb(img, x, y)
			l := 0.299*float64(c[0]) + 0.587*float64(c[1]) + 0.114*float64(c[2])
			sum += l
			sq += l * l
			n++
		}
	}
	mean := sum / float64(n)
	std := math.Sqrt(max(0, sq/float64(n)-mean*mean))
	t.Logf("trace plot region %v: %d line pixels, %d band pixels, brightness std %.1f", box, blue, band, std)
	if std < 15 {
		t.Errorf("brightness in the plot region %v has standard deviation %.1f, want at least 15: the region looks blank", box, std)
	}
}

func rgb(img image.Image, x, y int) [3]int {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}

func near(c, want [3]int, tol int) bool {
	for i := range c {
		if d := c[i] - want[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}
