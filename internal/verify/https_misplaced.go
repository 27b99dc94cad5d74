package verify

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
)

// misplaced looks for the file where people put it by mistake: on plain
// HTTP, and on www. only. The look-ups run at once, within the check's own
// time, through the same address policy, and each sends one request without
// following redirects: they explain a missing proof, they never make one.
func (h *httpsCheck) misplaced() []Mistake {
	here, domain := h.report.URL, h.target.Domain
	plain := plainURL(domain, h.target.FileName, h.httpPort)
	www := FileURL("www."+domain, h.target.FileName, h.port)
	places := []struct {
		url     string
		mistake Mistake
	}{
		{plain, Mistake{Kind: "plain-http",
			Found: fmt.Sprintf("The file is served over plain HTTP at %s, but not over HTTPS.", plain),
			Fix:   fmt.Sprintf("Serve it over HTTPS at %s: we only accept HTTPS, so that nobody on the path can forge it.", here)}},
		{www, Mistake{Kind: "www-only",
			Found: fmt.Sprintf("The file is served at %s, but not at %s.", www, here),
			Fix: fmt.Sprintf("Put it at %s too, or redirect %s to %s: we follow redirects over HTTPS within your domain.",
				here, FileURL(domain, "", h.port), FileURL("www."+domain, "", h.port))}},
	}
	served := make([]bool, len(places))
	var wg sync.WaitGroup
	for i, p := range places {
		if !h.visited(p.url) {
			wg.Go(func() { served[i] = h.serves(p.url) })
		}
	}
	wg.Wait()
	var found []Mistake
	for i, p := range places {
		if served[i] {
			found = append(found, p.mistake)
		}
	}
	return found
}

// serves reports whether rawURL answers 200 OK with the token, judged as the
// check judges its last answer. What the request learns on the way is kept
// apart, so that it cannot change the check's report.
func (h *httpsCheck) serves(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	apart := &httpsCheck{Checker: h.Checker, parent: h.parent, ctx: h.ctx, target: h.target, report: &HTTPSReport{}}
	resp, _, _ := apart.request(u, &HTTPHop{URL: rawURL})
	if resp == nil {
		return false
	}
	outcome, _ := apart.judge(u, resp)
	return outcome == Found
}

// visited reports whether the check itself already asked for rawURL.
func (h *httpsCheck) visited(rawURL string) bool {
	for _, hop := range h.report.Hops {
		if hop.URL == rawURL {
			return true
		}
	}
	return false
}

// plainURL is the address of the file over plain HTTP, the port written only
// when it is not HTTP's own.
func plainURL(domain, fileName string, port int) string {
	u, _ := url.Parse(FileURL(domain, fileName, 0))
	u.Scheme = "http"
	if port != 80 {
		u.Host = net.JoinHostPort(u.Host, strconv.Itoa(port))
	}
	return u.String()
}

// ordinal writes the n-th of a few: "1st", "2nd", "3rd", "4th".
func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return strconv.Itoa(n) + "th"
}
