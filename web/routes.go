package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"admincenter/internal/imports"
)

// routes registers every route of the Admin Center in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.showMetrics)
	e.GET("/static/:hash/:name", serveStatic)

	get, post := s.page(http.MethodGet), s.page(http.MethodPost)
	get("/", s.home)
	get("/signup", s.signUpForm)
	post("/signup", s.signUp)
	get("/login", s.loginForm)
	post("/login", s.login)
	post("/logout", s.logout)
	get("/verify-email", s.verifyEmailForm)
	post("/verify-email", s.verifyEmail)
	post("/verify-email/resend", s.resendVerification, requireUser)
	get("/password/forgot", s.forgotPasswordForm)
	post("/password/forgot", s.forgotPassword)
	get("/password/reset", s.resetPasswordForm)
	post("/password/reset", s.resetPassword)

	get("/invitations/accept", s.invitation)
	post("/invitations/accept", s.acceptInvitation, requireUser)
	post("/invitations/signup", s.signUpInvited)

	get("/accounts", s.accounts, requireUser)
	post("/accounts", s.createAccount, requireUser)
	get("/organizations/new", s.newOrganizationForm, requireUser)
	post("/organizations", s.createOrganization, requireUser)

	get("/admin", s.adminHome, requireAdmin)
	get("/admin/domains", s.domains, requireAdmin)
	get("/admin/domains/new", s.newDomainForm, requireAdmin)
	post("/admin/domains/new", s.addDomain, requireAdmin)
	get("/admin/domains/:id", s.domain, requireAdmin)
	post("/admin/domains/:id/verify", s.verifyDomain, requireAdmin)
	get("/admin/domains/:id/verification-file", s.verificationFile, requireAdmin)
	post("/admin/domains/:id/delete", s.deleteDomain, requireAdmin)
	post("/admin/domains/:id/add-back", s.addBack, requireAdmin)
	bulk := []echo.MiddlewareFunc{requireAdmin, s.requireBulkImport}
	post("/admin/domains/:id/imports", s.requestReport(imports.All), bulk...)
	post("/admin/domains/:id/imports/new-users", s.requestReport(imports.New), bulk...)
	get("/admin/domains/:id/imports/left-out", s.leftOut, bulk...)
	post("/admin/domains/:id/imports/left-out", s.requestReport(imports.LeftOut), bulk...)
	get("/admin/domains/:id/imports/table", s.importsTableFragment, bulk...)
	get("/admin/domains/:id/imports/:import", s.showImport, bulk...)
	get("/admin/domains/:id/imports/:import/report.csv", s.reportCSV, bulk...)
	get("/admin/domains/:id/imports/:import/results.csv", s.resultsCSV, bulk...)
	get("/admin/domains/:id/imports/:import/start", s.startImportPanel, bulk...)
	post("/admin/domains/:id/imports/:import/start", s.startImport, bulk...)
	get("/admin/domains/:id/imports/:import/notify", s.notifyForm, bulk...)
	post("/admin/domains/:id/imports/:import/notify", s.notifyUsers, bulk...)
	s.upload("/admin/domains/:id/imports/:import/upload", s.uploadReport, bulk...)
	post("/admin/domains/:id/settings", s.saveDomainSettings, bulk...)
	get("/admin/users", s.members, requireAdmin)
	get("/admin/users/invite", s.inviteForm, requireAdmin)
	post("/admin/users/invite", s.invite, requireAdmin)
	post("/admin/invitations/:id/resend", s.resendInvitation, requireAdmin)
	post("/admin/invitations/:id/cancel", s.cancelInvitation, requireAdmin)
	get("/admin/users/:id", s.member, requireAdmin)
	post("/admin/users/:id/role", s.changeRole, requireAdmin)
	post("/admin/users/:id/remove", s.removeMember, requireAdmin)
	post("/admin/users/:id/transfer-ownership", s.transferOwnership, requireAdmin)
	get("/admin/audit", s.auditLog, requireAdmin)

	if s.Config.Dev && s.Config.SMTPURL == nil {
		e.GET("/dev/mailbox", s.mailbox)
		e.GET("/dev/mailbox/:id", s.mailMessage)
	}
}

// page returns a function that registers page routes of one method: they
// limit the request body to 1 MB, load the session and check the CSRF
// token first. Unknown paths get none of it, so stray requests write
// nothing.
func (s *Server) page(method string) func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	return func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		first := []echo.MiddlewareFunc{middleware.BodyLimit("1M"), s.countInFlight, s.withSession, s.csrf}
		s.echo.Add(method, path, h, append(first, m...)...)
	}
}

// upload registers the POST route of a file upload, far larger than other
// forms: the person's rights are checked first, then the body is read
// (readUpload), then the CSRF token, so that a file over the limit gets
// its page with why, in the signed-in shell.
func (s *Server) upload(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	chain := append([]echo.MiddlewareFunc{s.countInFlight, s.withSession}, m...)
	s.echo.Add(http.MethodPost, path, h, append(chain, s.readUpload, s.csrf)...)
}
