package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"

	"admincenter/internal/app"
	"admincenter/internal/config"
	"admincenter/internal/paths"
)

// Every address package paths builds is a route, for the method its links
// use: a link cannot point at a page that does not exist.
func TestPathsAreRouted(t *testing.T) {
	s := &Server{Services: &app.Services{Config: &config.Config{Dev: true}}, echo: echo.New()}
	s.routes()
	s.apiRoutes()
	const d, i, u = 7, 8, 9
	get := []string{
		paths.Home, paths.SignUp, paths.Login, paths.VerifyEmail, paths.ForgotPassword, paths.ResetPassword, paths.Invitation,
		paths.Accounts, paths.NewOrganization, paths.Admin, paths.Domains, paths.NewDomain, paths.Users, paths.InviteUser,
		paths.Invitations, paths.Audit, paths.Mailbox, paths.MailboxMessage(u),
		paths.Domain(d), paths.DomainTab(d, "https"), paths.DomainFile(d), paths.AtRisk(d), paths.AtRiskCSV(d), paths.LeftOut(d), paths.ReportsTable(d),
		paths.Report(d, i), paths.ReportLive(d, i), paths.ReportCSV(d, i), paths.ResultsCSV(d, i), paths.StartImport(d, i),
		paths.Notify(d, i), paths.NotifyLive(d, i), paths.Member(u), paths.UsersOfImport(i), paths.LoginThen(paths.Domain(d)),
		paths.WithToken(paths.Invitation, "t"), paths.APIKeys, paths.APIDocs, paths.OpenAPI,
		paths.Webhooks, paths.NewWebhook, paths.Webhook(i),
	}
	post := []string{
		paths.SignUp, paths.Login, paths.Logout, paths.VerifyEmail, paths.ResendEmail, paths.ForgotPassword, paths.ResetPassword,
		paths.Invitation, paths.InvitedSignUp, paths.Accounts, paths.Organizations, paths.NewDomain, paths.InviteUser,
		paths.DomainVerify(d), paths.DomainDelete(d), paths.DomainAddBack(d), paths.DomainSettings(d), paths.Reports(d),
		paths.NewUsersReport(d), paths.LeftOut(d), paths.StartImport(d, i), paths.Notify(d, i), paths.Upload(d, i),
		paths.MemberRole(u), paths.MemberRemove(u), paths.MemberTransfer(u), paths.InvitationResend(i), paths.InvitationCancel(i),
		paths.APIKeys, paths.APIKeyRevoke(i),
		paths.NewWebhook, paths.Webhook(i), paths.WebhookEnable(i), paths.WebhookDisable(i), paths.WebhookSecret(i),
		paths.WebhookTest(i), paths.WebhookDelete(i), paths.WebhookRedeliver(i, u),
	}
	routed := func(method, link string) bool {
		target, err := url.Parse(link)
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		c := s.echo.NewContext(nil, nil)
		s.echo.Router().Find(method, target.Path, c)
		return c.Path() != "" && c.Handler() != nil && c.Path() != "/*"
	}
	for _, link := range get {
		if !routed(http.MethodGet, link) {
			t.Errorf("GET %s is not routed", link)
		}
	}
	for _, link := range post {
		if !routed(http.MethodPost, link) {
			t.Errorf("POST %s is not routed", link)
		}
	}
	if routed(http.MethodGet, "/admin/nowhere") {
		t.Error("an unknown path is routed")
	}
}
