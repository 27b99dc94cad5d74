package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"admincenter/internal/imports"
)

// routes registers every route of the Admin Center in one place, so that
// the URL of a page leads to its handler at a glance: a list, longer than
// a function should be, on purpose. Links to them are built by package
// paths.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.showMetrics)
	e.GET("/static/:hash/:name", serveStatic)

	pages := s.pages()
	pages.get("/", s.home)
	pages.get("/signup", s.signUpForm)
	pages.post("/signup", s.signUp)
	pages.get("/login", s.loginForm)
	pages.post("/login", s.login)
	pages.post("/logout", s.logout)
	pages.get("/verify-email", s.verifyEmailForm)
	pages.post("/verify-email", s.verifyEmail)
	pages.get("/password/forgot", s.forgotPasswordForm)
	pages.post("/password/forgot", s.forgotPassword)
	pages.get("/password/reset", s.resetPasswordForm)
	pages.post("/password/reset", s.resetPassword)
	pages.get("/invitations/accept", s.invitation)
	pages.post("/invitations/signup", s.signUpInvited)

	people := pages.group("", requireUser)
	people.post("/verify-email/resend", s.resendVerification)
	people.post("/invitations/accept", s.acceptInvitation)
	people.get("/accounts", s.accounts)
	people.post("/accounts", s.createAccount)
	people.get("/organizations/new", s.newOrganizationForm)
	people.post("/organizations", s.createOrganization)

	admin := pages.group("/admin", requireAdmin)
	admin.get("", s.adminHome)
	admin.get("/domains", s.domains)
	admin.get("/domains/new", s.newDomainForm)
	admin.post("/domains/new", s.addDomain)
	admin.get("/domains/:id", s.domain)
	admin.post("/domains/:id/verify", s.verifyDomain)
	admin.get("/domains/:id/verification-file", s.verificationFile)
	admin.post("/domains/:id/delete", s.deleteDomain)
	admin.post("/domains/:id/add-back", s.addBack)
	admin.get("/domains/:id/at-risk", s.atRisk)
	admin.get("/domains/:id/at-risk.csv", s.atRiskCSV)
	admin.get("/users", s.members)
	admin.get("/users/invite", s.inviteForm)
	admin.post("/users/invite", s.invite)
	admin.get("/users/:id", s.member)
	admin.post("/users/:id/role", s.changeRole)
	admin.post("/users/:id/remove", s.removeMember)
	admin.post("/users/:id/transfer-ownership", s.transferOwnership)
	admin.post("/invitations/:id/resend", s.resendInvitation)
	admin.post("/invitations/:id/cancel", s.cancelInvitation)
	admin.get("/audit", s.auditLog)
	admin.get("/audit.csv", s.auditCSV)
	admin.get("/api-keys", s.apiKeys)
	admin.post("/api-keys", s.createAPIKey)
	admin.post("/api-keys/:id/revoke", s.revokeAPIKey)
	admin.get("/webhooks", s.webhooks)
	admin.get("/webhooks/new", s.newWebhookForm)
	admin.post("/webhooks/new", s.addWebhook)
	admin.get("/webhooks/:id", s.webhook)
	admin.post("/webhooks/:id", s.saveWebhook)
	admin.post("/webhooks/:id/enable", s.enableWebhook)
	admin.post("/webhooks/:id/disable", s.disableWebhook)
	admin.post("/webhooks/:id/rotate-secret", s.rotateWebhookSecret)
	admin.post("/webhooks/:id/test", s.sendWebhookTest)
	admin.post("/webhooks/:id/deliveries/:delivery/redeliver", s.redeliverWebhook)
	admin.post("/webhooks/:id/delete", s.deleteWebhook)

	// Bulk User Import: a gated feature, whose routes do not exist for an
	// organization that does not have it.
	bulk := admin.group("/domains/:id", s.requireBulkImport)
	bulk.post("/settings", s.saveDomainSettings)
	bulk.post("/imports", s.requestReport(imports.All))
	bulk.post("/imports/new-users", s.requestReport(imports.New))
	bulk.get("/imports/left-out", s.leftOut)
	bulk.post("/imports/left-out", s.requestReport(imports.LeftOut))
	bulk.get("/imports/table", s.importsTableFragment)
	report := bulk.group("/imports/:import")
	report.get("", s.showImport)
	report.get("/live", s.importLiveFragment)
	report.get("/report.csv", s.reportCSV)
	report.get("/results.csv", s.resultsCSV)
	report.get("/start", s.startImportPanel)
	report.post("/start", s.startImport)
	report.get("/notify", s.notifyForm)
	report.post("/notify", s.notifyUsers)
	report.get("/notify/live", s.notifyLiveFragment)
	report.upload("/upload", s.uploadReport)

	if s.Config.Dev && s.Config.SMTPURL == nil {
		e.GET("/dev/mailbox", s.mailbox)
		e.GET("/dev/mailbox/:id", s.mailMessage)
	}
}

// group registers page routes under a prefix, with middleware said once
// for all of them, after the page's own: a body limit of 1 MB, the
// session, the CSRF check. Unlike an echo.Group, it adds no catch-all
// route: an unknown path gets none of it, so a stray request neither
// writes a session nor is sent to sign in.
type group struct {
	s      *Server
	prefix string
	mw     []echo.MiddlewareFunc
}

func (s *Server) pages() group { return group{s: s} }

// group is a group under a longer prefix, with more middleware.
func (g group) group(prefix string, mw ...echo.MiddlewareFunc) group {
	return group{s: g.s, prefix: g.prefix + prefix, mw: append(g.mw[:len(g.mw):len(g.mw)], mw...)}
}

func (g group) get(path string, h echo.HandlerFunc)  { g.add(http.MethodGet, path, h) }
func (g group) post(path string, h echo.HandlerFunc) { g.add(http.MethodPost, path, h) }

func (g group) add(method, path string, h echo.HandlerFunc) {
	s := g.s
	chain := append([]echo.MiddlewareFunc{middleware.BodyLimit("1M"), s.countInFlight, s.withSession, s.csrf}, g.mw...)
	s.echo.Add(method, g.prefix+path, h, chain...)
}

// upload registers the POST route of a file upload, far larger than other
// forms: the person's rights are checked first, then the body is read
// (readUpload), then the CSRF token, so that a file over the limit gets
// its page with why, in the signed-in shell.
func (g group) upload(path string, h echo.HandlerFunc) {
	s := g.s
	chain := append(append([]echo.MiddlewareFunc{s.countInFlight, s.withSession}, g.mw...), s.readUpload, s.csrf)
	s.echo.Add(http.MethodPost, g.prefix+path, h, chain...)
}
