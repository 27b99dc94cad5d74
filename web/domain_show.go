package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"admincenter/internal/domains"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/verify"
	"admincenter/templates"
)

func (s *Server) domain(c echo.Context) error {
	return s.renderDomain(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderDomain(c echo.Context, status int, f templates.Form) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	p, err := s.Domains.Page(c.Request().Context(), mustUser(c).OrgID(), id)
	if err != nil {
		return err
	}
	d := p.Domain
	sh, err := s.shell(c, d.UnicodeName, "domains")
	if err != nil {
		return err
	}
	// This page says it all: no banner about itself.
	sh.Banners = slices.DeleteFunc(sh.Banners, func(b templates.Banner) bool { return b.Link == paths.Domain(d.ID) })
	v := s.domainView(d, c.QueryParam("tab"))
	v.Form, v.Org, v.Activity, v.AtRisk = f, sh.OrgName, auditRows(p.Activity), p.AtRisk
	v.AddedBy = cmp.Or(p.AddedBy, "—")
	if len(p.Removed) > 0 {
		v.AddBack = &templates.AddBackView{Count: len(p.Removed), Date: p.Expiry.StartedAt}
		for _, r := range p.Removed {
			v.AddBack.People = append(v.AddBack.People, r.Name+" <"+r.Email+">")
		}
	}
	v.History, v.LastCheck = checkRows(p.Checks, d)
	if v.Outage != nil && len(v.History) > 0 {
		v.Outage.Last = v.History[0].Summary
	}
	if v.Bulk, err = s.bulkImportView(c, d, sh.OrgName); err != nil {
		return err
	}
	return render(c, status, templates.DomainPage(sh, v))
}

// checkRows turns a domain's checks, newest first, into its history and
// the diagnostics of the last check, the method tried first first. Each
// check of the domain is one row of the history, whatever number of
// methods it tried, saying what decided (the proof found, or the result of
// the method that matters); a run of identical rows folds into one.
func checkRows(checks []domains.Check, d domains.Domain) ([]templates.CheckRow, []templates.Diagnostic) {
	var history []templates.CheckRow
	for _, run := range runsOf(checks) {
		ch := decisiveOf(run, d)
		row := templates.CheckRow{
			At: ch.CheckedAt, Method: ch.Method.Label(), Outcome: outcomeLabel(ch.Outcome), OutcomeKind: outcomeKind(ch.Outcome),
			Trigger: map[bool]string{true: "Automatic", false: "Verify Domain"}[ch.Automatic], Summary: ch.Summary, Times: 1,
		}
		if n := len(history); n > 0 && sameRow(history[n-1], row) {
			history[n-1].Times++
			history[n-1].Since = row.At
			continue
		}
		history = append(history, row)
	}
	var last []templates.Diagnostic
	if runs := runsOf(checks); len(runs) > 0 {
		for _, ch := range slices.Backward(runs[0]) { // newest first: the method tried first comes last
			last = append(last, diagnosticOf(ch, d))
		}
	}
	for i := range last {
		last[i].Open = i == 0 && last[i].Open
	}
	return history, last
}

// runsOf groups checks, newest first, into the runs they were made in: a
// run tries one method or both at the same moment.
func runsOf(checks []domains.Check) [][]domains.Check {
	var runs [][]domains.Check
	for i, ch := range checks {
		if i > 0 && ch.CheckedAt.Equal(checks[i-1].CheckedAt) && ch.Automatic == checks[i-1].Automatic {
			runs[len(runs)-1] = append(runs[len(runs)-1], ch)
			continue
		}
		runs = append(runs, []domains.Check{ch})
	}
	return runs
}

// decisiveOf is the check of a run that says what it decided: the one
// that found the proof; else, for a domain that was verified, the one of
// the method that verified it; else the method tried first.
func decisiveOf(run []domains.Check, d domains.Domain) domains.Check {
	for _, ch := range run {
		if ch.Outcome == verify.Found {
			return ch
		}
	}
	for _, ch := range run {
		if ch.Method == d.VerifiedMethod {
			return ch
		}
	}
	return run[len(run)-1]
}

func sameRow(a, b templates.CheckRow) bool {
	return a.Method == b.Method && a.Outcome == b.Outcome && a.Trigger == b.Trigger && a.Summary == b.Summary
}

func (s *Server) domainView(d domains.Domain, tab string) templates.DomainView {
	asked := tab == "dns" || tab == "https" || tab == "unsure"
	if !asked {
		tab = string(d.Method)
		if d.VerifiedMethod != "" {
			tab = string(d.VerifiedMethod)
		}
	}
	fileURL := verify.FileURL(d.Name, d.FileName, s.Config.VerifyHTTPSPort)
	v := templates.DomainView{
		ID: d.ID, Unicode: d.UnicodeName, ASCII: asciiIfDifferent(d),
		Status: d.Status.Label(), StatusKind: statusKinds[d.Status], State: string(d.Status), Tab: tab,
		Token: d.Token, TXTHost: "_twilio", TXTName: d.TXTName(), FileName: d.FileName, FileURL: fileURL,
		DigCommand: "dig +short TXT " + d.TXTName(),
		VerifiedAt: d.VerifiedAt, VerifiedBy: d.VerifiedMethod.Label(),
		LastChecked: d.LastCheckedAt, NextCheck: d.NextCheckAt, AddedAt: d.CreatedAt,
		Schedule: s.schedule(d), WindowEnds: d.WindowEndsAt, Deadline: d.DeadlineAt,
		CheckMethod: string(d.VerifiedMethod), SetupOpen: asked,
	}
	v.VerifiedWhere = d.TXTName()
	if d.VerifiedMethod == verify.HTTPS {
		v.VerifiedWhere = fileURL
	}
	if from, failing := s.Domains.MissingFrom(d); failing && d.Status == domains.Verified {
		v.Outage = &templates.OutageView{Since: *d.InconclusiveSince, CountsFrom: from}
	}
	if d.DeadlineAt != nil {
		v.TimeLeft = text.Left(d.DeadlineAt.Sub(s.Now()))
		v.Status += " · " + v.TimeLeft + " left"
	}
	v.ITEmail = itEmail(d, fileURL, s.Config.RecheckInterval)
	v.RecheckEvery, v.GracePeriod, v.Window = text.Every(s.Config.RecheckInterval), text.Duration(s.Config.GracePeriod), text.Duration(s.Config.PropagationWindow)
	v.RetryEvery = text.Every(s.Domains.RetryInterval())
	return v
}

// schedule says what the automatic checks do next: "window" (checks
// until the end of a propagation window), "recheck" (every re-check
// interval), or a sentence when there is no next check.
func (s *Server) schedule(d domains.Domain) string {
	window := text.Duration(s.Config.PropagationWindow)
	switch {
	case d.Status == domains.Failed:
		return "None: no proof was found within " + window + " of the last Verify Domain click. Put the record or file in place, then click Verify Domain to check again and start a new " + window + " window."
	case d.NextCheckAt == nil && d.Status == domains.Pending:
		return "None yet: click Verify Domain when the record or file is in place; we then keep checking for " + window + "."
	case d.NextCheckAt == nil:
		return "—"
	case d.Status == domains.Pending && d.WindowEndsAt != nil:
		return "window"
	case d.InconclusiveSince != nil:
		return "retry"
	}
	return "recheck"
}

func outcomeLabel(o verify.Outcome) string {
	switch o {
	case verify.Found:
		return "Found"
	case verify.Absent:
		return "Not found"
	}
	return "Could not check"
}

func outcomeKind(o verify.Outcome) string {
	switch o {
	case verify.Found:
		return "ok"
	case verify.Absent:
		return "danger"
	}
	return "warn"
}

// diagnosticOf turns a stored check report into what the page shows.
func diagnosticOf(ch domains.Check, dom domains.Domain) templates.Diagnostic {
	var r verify.Result
	json.Unmarshal([]byte(ch.Diagnostics), &r) // a report that cannot be read still shows its summary
	d := templates.Diagnostic{
		Method: ch.Method.Label(), Outcome: outcomeLabel(ch.Outcome), OutcomeKind: outcomeKind(ch.Outcome),
		Summary: ch.Summary, Open: ch.Outcome != verify.Found && dom.Status != domains.Verified,
	}
	if dom.VerifiedMethod != "" && ch.Method != dom.VerifiedMethod && ch.Outcome != verify.Found &&
		(dom.Status == domains.Verified || dom.Status == domains.Revalidating) {
		// The method nobody chose is no alarm: it is simply not in use.
		d.Outcome, d.OutcomeKind, d.Open = "Not in use", "", false
	}
	if ch.Outcome != verify.Found {
		d.Expected = dom.Token
	}
	if r.DNS != nil {
		for _, q := range r.DNS.Queries {
			over := strings.ToUpper(q.Transport)
			if q.Direct {
				over += ", direct"
			}
			d.DNSQueries = append(d.DNSQueries, templates.DNSQueryRow{
				Server: q.Server, Name: q.Name, Type: q.Type, Transport: over, Answer: q.Answer(), Took: took(q.Duration),
			})
		}
		d.CNAMEs, d.Values, d.More = r.DNS.CNAMEs, r.DNS.Values, r.DNS.More
		authorities(&d, r.DNS)
	}
	for _, m := range r.Mistakes {
		d.Mistakes = append(d.Mistakes, templates.MistakeRow{Found: m.Found, Fix: m.Fix})
	}
	if r.HTTPS != nil {
		d.URL, d.Error, d.Excerpt = r.HTTPS.URL, r.HTTPS.Error, r.HTTPS.Excerpt
		if c := r.HTTPS.Certificate; c != nil {
			d.Certificate = &templates.CertificateView{Subject: c.Subject, Issuer: c.Issuer,
				NotBefore: c.NotBefore, NotAfter: c.NotAfter, Names: strings.Join(c.Names, ", ")}
		}
		for _, h := range r.HTTPS.Hops {
			result := h.Error
			if h.Status != 0 {
				result = fmt.Sprintf("%d %s", h.Status, http.StatusText(h.Status))
			}
			d.Hops = append(d.Hops, templates.HopRow{URL: h.URL, Address: h.Address, Result: result, Location: h.Location})
		}
	}
	return d
}

// nameserverAnswers says what each kind of answer of a zone's nameserver
// means, and how it looks.
var nameserverAnswers = map[string][2]string{
	verify.ServesRecord: {"Serves the record", "ok"},
	verify.NoSuchName:   {"No such name", "danger"},
	verify.NoTXT:        {"No TXT record", "danger"},
	verify.OtherValues:  {"Other values", "danger"},
	verify.Alias:        {"Alias", ""},
	verify.NoAnswer:     {"No answer", "warn"},
}

// authorities shows what the zone's own nameservers answered, and what the
// resolver said of the answer.
func authorities(d *templates.Diagnostic, r *verify.DNSReport) {
	d.Zone, d.Propagation, d.AuthorityProblem, d.NegativeUntil = r.Zone, r.Propagation(), r.AuthorityProblem, r.NegativeUntil
	for _, ns := range r.Nameservers {
		label, detail := nameserverAnswers[ns.Answer], ns.Detail
		if detail == "" {
			detail = strings.Join(ns.Values, ", ")
		}
		d.Nameservers = append(d.Nameservers, templates.NameserverRow{
			Name: ns.Name, Address: ns.Address, Answer: label[0], Kind: label[1], Detail: detail})
	}
	switch {
	case r.Authenticated:
		d.DNSSEC = "DNSSEC: the resolver validated the answer's signature."
	case len(r.Queries) > 0 && r.Queries[0].Rcode != "":
		d.DNSSEC = "DNSSEC: the answer is not authenticated (the zone is not signed, or the resolver does not validate signatures)."
	}
}

// itEmail is the ready email for the IT team, with both options.
func itEmail(d domains.Domain, fileURL string, recheck time.Duration) templates.EmailDraft {
	subject := "Please help us verify " + d.UnicodeName
	body := fmt.Sprintf(`Hello,

We need to prove that our organization owns %[1]s. Could you set up ONE of these two options, whichever is easier for you?

Option 1: a DNS TXT record
Add this record in the DNS of %[1]s:
  Host:  _twilio   (the full name is %[2]s)
  Type:  TXT
  Value: %[3]s
  TTL:   3600
You can check it with: dig +short TXT %[2]s

Option 2: an HTML file on our website (HTTPS only)
Publish the attached file, %[4]s, so that it is served at:
  %[5]s
The site must answer over HTTPS with a valid certificate.

Please keep the record or the file in place afterwards: it is checked %[6]s, and removing it would make us lose the domain.

Thank you!
`, d.UnicodeName, d.TXTName(), d.Token, d.FileName, fileURL, text.Every(recheck))
	return templates.EmailDraft{
		Subject: subject, Body: body,
		Mailto: "mailto:?subject=" + mailtoEscape(subject) + "&body=" + mailtoEscape(body),
	}
}

// mailtoEscape percent-encodes for a mailto link (RFC 6068): spaces as
// %20, since mail programs show a + as it is.
func mailtoEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// took shows a query's time to the tenth of a millisecond.
func took(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
