package web_test

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium headless. Without it they are
// skipped, except in CI (CI=true), where they are required.
const chromiumPath = "/usr/bin/chromium"

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func closeBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// tab is one isolated browser tab (its own cookies) on an app.
type tab struct {
	t        *testing.T
	ctx      context.Context
	base     string
	width    int // of the viewport
	mu       *sync.Mutex
	problems *[]string
}

func newTab(t *testing.T, a *app) *tab {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required in CI: %v", err)
		}
		t.Skipf("Chromium not installed at %s", chromiumPath)
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.WindowSize(1280, 900),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-quic", true),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() { cancelCtx(); cancelAlloc() }
		browser.err = chromedp.Do(ctx)
	})
	if browser.err != nil {
		t.Fatalf("start Chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	b := &tab{t: t, ctx: ctx, base: a.url, width: 1280}
	b.watchConsole()
	t.Cleanup(func() {
		b.checkConsole()
		cancelTimeout()
		cancel()
	})
	return b
}

// watchConsole collects the errors the page reports: script exceptions,
// console errors and Content Security Policy violations.
func (b *tab) watchConsole() {
	b.problems = new([]string)
	var mu sync.Mutex
	b.mu = &mu
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A 4xx page is sometimes the point of a test.
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && !strings.Contains(m.Text, "Failed to load resource") {
				mu.Lock()
				*b.problems = append(*b.problems, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
}

func (b *tab) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range *b.problems {
		b.t.Errorf("the browser reported %s", p)
	}
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// fill types into the labelled field with this name.
func (b *tab) fill(name, value string) {
	b.t.Helper()
	b.do(chromedp.Clear(chromedp.ID("f-"+name)), chromedp.SendKeys(chromedp.ID("f-"+name), value))
}

// press clicks the visible button or link whose text is label.
func (b *tab) press(label string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
		document.querySelectorAll("[data-press]").forEach(e => e.removeAttribute("data-press"));
		const el = [...document.querySelectorAll("button, a")]
			.find(e => e.innerText.trim() === %q && e.checkVisibility());
		if (!el) return false;
		el.setAttribute("data-press", "");
		return true;
	})()`, label)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if eval[bool](b, js) {
			// The page may be replaced between finding the element and
			// clicking it (a navigation still under way): then find it
			// again on the new page.
			ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
			err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-press]"), chromedp.NodeVisible))
			cancel()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no visible button or link %q; the page shows:\n%s", label, eval[string](b, "document.body.innerText"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eval runs JavaScript in the page.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitText waits until the page shows text, and fails with what it shows
// instead.
func (b *tab) waitText(text string) {
	b.t.Helper()
	js := fmt.Sprintf(`document.readyState === "complete" && document.body.innerText.includes(%q)`, text)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.screenshot("failed-" + strings.ReplaceAll(b.t.Name(), "/", "-"))
	b.t.Fatalf("the page never showed %q; it shows:\n%s", text, eval[string](b, "document.body.innerText"))
}

func (b *tab) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// screenshot saves a PNG of the page when SCREENSHOTS names a folder.
func (b *tab) screenshot(name string) {
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// narrow switches the tab to a phone-sized viewport.
func (b *tab) narrow() {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(390, 844))
	b.width = 390
}

//go:embed testdata/axe-core/axe.min.js
var axeSource string

// inspect looks at the page as a demanding user would: it must fit the
// viewport without sideways scrolling and have no accessibility violation
// that axe-core finds. It keeps a screenshot named name when SCREENSHOTS
// names a folder.
func (b *tab) inspect(name string) {
	b.t.Helper()
	b.screenshot(fmt.Sprintf("%d-%s", b.width, name))
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > b.width {
		b.t.Errorf("%s is %dpx wide at %dpx: %s", name, w, b.width, eval[string](b, widestElements))
	}
	if !eval[bool](b, `typeof axe !== "undefined"`) {
		eval[bool](b, axeSource+";true")
	}
	report, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
			id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary.split("\n").slice(0, 2).join(" "))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range report {
		b.t.Errorf("%s at %dpx: axe %s (%s): %s\n\t%s", name, b.width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// widestElements names the elements that stick out of the viewport.
const widestElements = `[...document.querySelectorAll("body *")]
	.filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
	.slice(-5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "")).join(", ")`

func (b *tab) signIn(email string) {
	b.t.Helper()
	b.open("/login")
	b.fill("email", email)
	b.fill("password", "demo-password")
	b.press("Sign in")
	b.waitText("Sign out")
}

func chromedpClickID(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.ID(id), chromedp.NodeVisible)
}

func chromedpClickCSS(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible)
}

func chromedpClickLink(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.Search(fmt.Sprintf(`//a[normalize-space()=%q]`, text)), chromedp.NodeVisible)
}

func chromedpClickPartialLink(href string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.Search(fmt.Sprintf(`//a[contains(@href, %q)]`, href)), chromedp.NodeVisible)
}

// value returns the value of the field with this id.
func (b *tab) value(id string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// download clicks a download link and returns the saved file's name and
// content.
func (b *tab) download(label string) (string, []byte) {
	b.t.Helper()
	dir := b.t.TempDir()
	err := chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior:         cdpbrowser.SetDownloadBehaviorBehaviorAllow,
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
			DownloadPath:     dir,
		})
		return err
	}))
	if err != nil {
		b.t.Fatal(err)
	}
	b.press(label)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && len(data) > 0 {
					return e.Name(), data
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s downloaded nothing", label)
	return "", nil
}

// checkNotClipped fails when a table cell that cells names is cut off or
// scrolled: each must fit its own box, inside the viewport, and its
// table's frame must not need to scroll sideways.
func checkNotClipped(t *testing.T, b *tab, cells string) {
	t.Helper()
	clipped := eval[string](b, fmt.Sprintf(`[...document.querySelectorAll(%q)]
		.filter(td => td.checkVisibility() && (td.scrollWidth > td.clientWidth + 1 || td.getBoundingClientRect().right > document.documentElement.clientWidth + 1
			|| (td.closest(".table-wrap") && td.closest(".table-wrap").scrollWidth > td.closest(".table-wrap").clientWidth + 1)))
		.map(td => td.textContent.trim().replace(/\s+/g, " ").slice(0, 60)).join("\n")`, cells))
	if clipped != "" {
		b.screenshot(fmt.Sprintf("clipped-%d", b.width))
		t.Errorf("at %dpx these cells are clipped or scroll:\n%s", b.width, clipped)
	}
}
