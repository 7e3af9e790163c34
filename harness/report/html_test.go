package report_test

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/thor-trading/cutover-harness/harness/report"
)

// TestWriteFiles: Write leaves the four files a run directory promises.
func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	if err := failReport(t).Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.json", "report.md", "report.html", "junit.xml"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (size %d)", name, err, sizeOf(st))
		}
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}

// TestHTMLSelfContained checks the markup itself: no script, nothing a
// browser would fetch, values escaped, the findings list cut where it
// says.
func TestHTMLSelfContained(t *testing.T) {
	b, err := failReport(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("report.html contains a <script> element (a finding's detail was not escaped?)")
	}
	if !strings.Contains(page, "a &lt;script&gt;alert(&#34;not run&#34;)&lt;/script&gt; &amp; friends") {
		t.Error("a finding's detail is not shown escaped")
	}
	// The only URLs allowed are XML namespace names, which are never fetched.
	for _, m := range regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"#][^"]*)"|url\(([^)]*)\)|@import`).FindAllStringSubmatch(page, -1) {
		t.Errorf("report.html refers to an outside resource: %s", m[0])
	}
	if !strings.Contains(page, `Content-Security-Policy" content="default-src 'none'`) {
		t.Error("report.html lacks its Content-Security-Policy")
	}
	// intraday_bars stores 130 findings: 50 shown, 80 more in report.json,
	// and 60 counted that the diff did not store.
	for _, want := range []string{"… and 80 more in report.json.", "60 more were counted but not stored", "190 findings (missing_in_ws×160, duplicate×30): the first 50 shown"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// chartInfo is what the browser says about one inline chart.
type chartInfo struct {
	ID     string  `json:"id"`
	Class  string  `json:"cls"`
	Width  float64 `json:"w"`
	Height float64 `json:"h"`
	Shapes int     `json:"shapes"`
	Texts  int     `json:"texts"`
}

type pageInfo struct {
	Verdict    string      `json:"verdict"`
	Incomplete string      `json:"incomplete"`
	Charts     []chartInfo `json:"charts"`
	NoData     []string    `json:"nodata"`
	Scripts    int         `json:"scripts"`
	Body       string      `json:"body"`
}

const inspectJS = `(() => ({
  verdict: document.querySelector('#verdict-word')?.innerText ?? '',
  incomplete: document.querySelector('#incomplete')?.innerText ?? '',
  charts: Array.from(document.querySelectorAll('svg.chart')).map(s => {
    const b = s.getBoundingClientRect();
    return {id: s.id, cls: s.getAttribute('class'), w: b.width, h: b.height,
            shapes: s.querySelectorAll('path,circle,rect,line,polyline,polygon').length,
            texts: s.querySelectorAll('text').length};
  }),
  nodata: Array.from(document.querySelectorAll('[data-nodata]')).map(e => e.id),
  scripts: document.scripts.length,
  body: document.body.innerText,
}))()`

// TestHTMLInChromium opens report.html for a PASS, a FAIL and an
// INCOMPLETE report in headless Chromium (Debian's chromium, driven by
// chromedp), checks what a reader sees (the verdict, every chart drawn
// and not empty, a note where there is no data), that the page logs no
// error and fetches nothing but itself, and saves a full-page screenshot
// of each into $HARNESS_ARTIFACTS (default: a temporary directory).
func TestHTMLInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (%v): run `make deps` (apt-get install chromium); `make test` does it first. This test does not skip.", err)
	}
	artifacts := os.Getenv("HARNESS_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	artifacts, err = filepath.Abs(artifacts)
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// Start the browser on a context without a deadline: it lives as long
	// as the context of its first Run. Bound the start from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", chromium, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("starting %s: no answer within 60s", chromium)
	}

	lagIDs := func(prefix string, features ...string) []string {
		var ids []string
		for _, f := range features {
			ids = append(ids, prefix+f)
		}
		return ids
	}
	all := []string{"account_balance", "positions", "intraday_bars", "global_market"}
	for _, c := range []struct {
		name    string
		r       *report.Report
		verdict string
		charts  []string // ids of the charts that must be drawn
		nodata  []string // ids of the charts that must be a "no data" note
		text    []string // what the page must say
	}{
		{
			name: "pass", r: passReport(t), verdict: "PASS",
			charts: append(lagIDs("chart-lag-", all...), lagIDs("chart-lagdist-", all...)...),
			nodata: []string{"chart-timeline"},
			text:   []string{"4 features: 4 PASS", "No findings anywhere in the session.", "Provenance", "1a3537b6bae1"},
		},
		{
			name: "fail", r: failReport(t), verdict: "FAIL",
			charts: append(append(lagIDs("chart-lag-", all...), lagIDs("chart-lagdist-", all...)...), "chart-timeline", "chart-delivery-positions"),
			text: []string{
				"2 PASS, 2 FAIL", "1 WS frame no feature can claim", `a <script>alert("not run")</script> & friends`,
				`"market_value":   float64(512325)`, "190 findings (missing_in_ws×160, duplicate×30): the first 50 shown",
			},
		},
		{
			name: "incomplete", r: incompleteReport(t), verdict: "INCONCLUSIVE",
			charts: []string{"chart-lag-account_balance", "chart-lagdist-account_balance"},
			nodata: append(append(lagIDs("chart-lag-", all[1:]...), lagIDs("chart-lagdist-", all[1:]...)...), "chart-timeline"),
			text:   []string{"INCOMPLETE", "the run did not complete (interrupted)", "never connected", "No lag data"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := c.r.Write(dir); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "report.html")
			pageURL := (&url.URL{Scheme: "file", Path: path}).String()

			var mu sync.Mutex
			var problems, requests []string
			tab, cancelTab := chromedp.NewContext(browser, chromedp.WithListener(func(ev any) {
				mu.Lock()
				defer mu.Unlock()
				switch ev := ev.(type) {
				case *runtime.EventConsoleAPICalled:
					if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
						var args []string
						for _, a := range ev.Args {
							args = append(args, string(a.Value)+a.Description)
						}
						problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
					}
				case *runtime.EventExceptionThrown:
					d := ev.ExceptionDetails
					msg := d.Text
					if d.Exception != nil {
						msg += " " + d.Exception.Description
					}
					problems = append(problems, "exception: "+msg)
				case *log.EventEntryAdded:
					if ev.Entry.Level == log.EntryLevelError {
						problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
					}
				case *network.EventRequestWillBeSent:
					requests = append(requests, ev.Request.URL)
				case *network.EventLoadingFailed:
					problems = append(problems, fmt.Sprintf("loading failed: %s %s", ev.ErrorText, ev.BlockedReason))
				}
			}))
			defer cancelTab()
			// The first Run opens the tab: no deadline on it (see chromedp.Run).
			if err := chromedp.Do(tab); err != nil {
				t.Fatalf("opening a tab: %v", err)
			}
			ctx, cancel := context.WithTimeout(tab, 60*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible("#verdict-word")); err != nil {
				t.Fatalf("loading %s: %v", pageURL, err)
			}
			info, err := chromedp.Run(ctx, chromedp.Evaluate[pageInfo](inspectJS))
			if err != nil {
				t.Fatalf("inspecting the page: %v", err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			shot := filepath.Join(artifacts, "report-"+c.name+".png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"report.html", "junit.xml"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					_ = os.WriteFile(filepath.Join(artifacts, c.name+"-"+name), b, 0o644)
				}
			}
			t.Logf("screenshot: %s (%d bytes)", shot, len(png))

			if info.Verdict != c.verdict {
				t.Errorf("verdict shown %q, want %q", info.Verdict, c.verdict)
			}
			if c.r.Incomplete != strings.Contains(info.Incomplete, "INCOMPLETE") {
				t.Errorf("INCOMPLETE banner %q, report incomplete %v", info.Incomplete, c.r.Incomplete)
			}
			if info.Scripts != 0 {
				t.Errorf("the page has %d scripts, want none", info.Scripts)
			}
			drawn := map[string]chartInfo{}
			for _, ch := range info.Charts {
				drawn[ch.ID] = ch
			}
			for _, id := range c.charts {
				ch, ok := drawn[id]
				switch {
				case !ok:
					t.Errorf("chart %s is not on the page (drawn: %v)", id, slices.Sorted(maps.Keys(drawn)))
				case ch.Width < 100 || ch.Height < 50:
					t.Errorf("chart %s is %.0f×%.0f px: not visible", id, ch.Width, ch.Height)
				case ch.Shapes < 10 || ch.Texts < 3:
					t.Errorf("chart %s has %d shapes and %d texts: empty", id, ch.Shapes, ch.Texts)
				case !strings.Contains(ch.Class, "chart"):
					t.Errorf("chart %s has class %q", id, ch.Class)
				}
			}
			if len(info.Charts) != len(c.charts) {
				t.Errorf("%d charts on the page, want %d", len(info.Charts), len(c.charts))
			}
			slices.Sort(info.NoData)
			want := slices.Sorted(slices.Values(c.nodata))
			if !slices.Equal(info.NoData, want) {
				t.Errorf("no-data notes %v, want %v", info.NoData, want)
			}
			for _, s := range c.text {
				if !strings.Contains(info.Body, s) {
					t.Errorf("the page does not say %q", s)
				}
			}

			mu.Lock()
			defer mu.Unlock()
			for _, p := range problems {
				t.Errorf("browser: %s", p)
			}
			if len(requests) == 0 {
				t.Errorf("no request seen for the page itself: is the network listener working?")
			}
			for _, u := range requests {
				if !samePage(u, pageURL) {
					t.Errorf("the page requested %s: report.html must need nothing but itself", u)
				}
			}
		})
	}
}

func samePage(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == "file" && ub.Scheme == "file" && ua.Path == ub.Path
}
