package web

// routes registers every route of the Admin Center in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.showMetrics)
	e.GET("/static/:hash/:name", serveStatic)

	pages := e.Group("", s.withSession, s.csrf)
	pages.GET("/", s.home)
	pages.GET("/signup", s.signUpForm)
	pages.POST("/signup", s.signUp)
	pages.GET("/login", s.loginForm)
	pages.POST("/login", s.login)
	pages.POST("/logout", s.logout)
	pages.GET("/verify-email", s.verifyEmail)
	pages.POST("/verify-email/resend", s.resendVerification, requireUser)
	pages.GET("/password/forgot", s.forgotPasswordForm)
	pages.POST("/password/forgot", s.forgotPassword)
	pages.GET("/password/reset", s.resetPasswordForm)
	pages.POST("/password/reset", s.resetPassword)

	pages.GET("/accounts", s.accounts, requireUser)
	pages.POST("/accounts", s.createAccount, requireUser)
	pages.GET("/organizations/new", s.newOrganizationForm, requireUser)
	pages.POST("/organizations", s.createOrganization, requireUser)

	admin := pages.Group("/admin", requireAdmin)
	admin.GET("", s.adminHome)
	admin.GET("/domains", s.domains)
	admin.GET("/users", s.members)
	admin.GET("/users/:id", s.member)
	admin.POST("/users/:id/role", s.changeRole)
	admin.POST("/users/:id/remove", s.removeMember)
	admin.POST("/users/:id/transfer-ownership", s.transferOwnership)
	admin.GET("/audit", s.auditLog)

	if s.Config.Dev && s.Config.SMTPURL == nil {
		e.GET("/dev/mailbox", s.mailbox)
		e.GET("/dev/mailbox/:id", s.mailMessage)
	}
}
