// Package paths builds the product's addresses. Every link on a page,
// every redirect of a handler and every link in an email is made here, so
// that a route and the links to it cannot drift apart; web/routes.go
// registers the same paths, and a test there checks that each one built
// here is routed.
package paths

import (
	"net/url"
	"strconv"
	"strings"
)

// Pages without parameters.
const (
	Home            = "/"
	SignUp          = "/signup"
	Login           = "/login"
	Logout          = "/logout"
	VerifyEmail     = "/verify-email"
	ResendEmail     = "/verify-email/resend"
	ForgotPassword  = "/password/forgot"
	ResetPassword   = "/password/reset"
	Invitation      = "/invitations/accept"
	InvitedSignUp   = "/invitations/signup"
	Accounts        = "/accounts"
	NewOrganization = "/organizations/new"
	Organizations   = "/organizations"
	Admin           = "/admin"
	Domains         = "/admin/domains"
	NewDomain       = "/admin/domains/new"
	Users           = "/admin/users"
	InviteUser      = "/admin/users/invite"
	Invitations     = "/admin/users#invitations"
	Audit           = "/admin/audit"
	AuditCSV        = "/admin/audit.csv"
	APIKeys         = "/admin/api-keys"
	APIDocs         = "/api/docs"
	OpenAPI         = "/api/openapi.json"
	Mailbox         = "/dev/mailbox"
)

func id(n int64) string { return strconv.FormatInt(n, 10) }

// APIKeyRevoke revokes an API key.
func APIKeyRevoke(key int64) string { return APIKeys + "/" + id(key) + "/revoke" }

// Domain is a domain's page.
func Domain(domainID int64) string { return Domains + "/" + id(domainID) }

// DomainTab is a domain's page open on a method's tab: dns, https or
// unsure.
func DomainTab(domainID int64, tab string) string {
	return Domain(domainID) + "?" + url.Values{"tab": {tab}}.Encode()
}

// Domain's actions and parts.
func DomainVerify(domainID int64) string   { return Domain(domainID) + "/verify" }
func DomainFile(domainID int64) string     { return Domain(domainID) + "/verification-file" }
func DomainDelete(domainID int64) string   { return Domain(domainID) + "/delete" }
func DomainAddBack(domainID int64) string  { return Domain(domainID) + "/add-back" }
func DomainSettings(domainID int64) string { return Domain(domainID) + "/settings" }

// The managed users a domain's expiry would remove, as a page and as CSV.
func AtRisk(domainID int64) string    { return Domain(domainID) + "/at-risk" }
func AtRiskCSV(domainID int64) string { return Domain(domainID) + "/at-risk.csv" }

// Reports of a domain's users, and the fragment of their table.
func Reports(domainID int64) string          { return Domain(domainID) + "/imports" }
func NewUsersReport(domainID int64) string   { return Reports(domainID) + "/new-users" }
func LeftOut(domainID int64) string          { return Reports(domainID) + "/left-out" }
func ReportsTable(domainID int64) string     { return Reports(domainID) + "/table" }
func Report(domainID, importID int64) string { return Reports(domainID) + "/" + id(importID) }

// A report's parts and actions.
func ReportCSV(domainID, importID int64) string  { return Report(domainID, importID) + "/report.csv" }
func ResultsCSV(domainID, importID int64) string { return Report(domainID, importID) + "/results.csv" }
func ReportLive(domainID, importID int64) string { return Report(domainID, importID) + "/live" }
func StartImport(domainID, importID int64) string {
	return Report(domainID, importID) + "/start"
}
func Notify(domainID, importID int64) string     { return Report(domainID, importID) + "/notify" }
func NotifyLive(domainID, importID int64) string { return Notify(domainID, importID) + "/live" }
func Upload(domainID, importID int64) string     { return Report(domainID, importID) + "/upload" }

// Member is a managed user's page; its actions follow.
func Member(userID int64) string         { return Users + "/" + id(userID) }
func MemberRole(userID int64) string     { return Member(userID) + "/role" }
func MemberRemove(userID int64) string   { return Member(userID) + "/remove" }
func MemberTransfer(userID int64) string { return Member(userID) + "/transfer-ownership" }

// UsersOfImport is the Users page showing the users an import brought in.
func UsersOfImport(importID int64) string {
	return Users + "?" + url.Values{"import": {id(importID)}}.Encode()
}

// An invitation's actions.
func InvitationResend(invitationID int64) string {
	return "/admin/invitations/" + id(invitationID) + "/resend"
}
func InvitationCancel(invitationID int64) string {
	return "/admin/invitations/" + id(invitationID) + "/cancel"
}

// AuditFilter is a filter of the audit log as its links carry it: the
// fields of the log's GET form, each left out of the link when empty.
type AuditFilter struct {
	Actor  string // a part of the actor's email
	Action string // an action code
	Domain string // a domain's id
	From   string // the first day, YYYY-MM-DD
	To     string // the last day, YYYY-MM-DD
}

// Query is the filter as the parameters of a link.
func (f AuditFilter) Query() url.Values {
	q := url.Values{}
	for _, p := range []struct{ name, value string }{
		{"actor", f.Actor}, {"action", f.Action}, {"domain", f.Domain}, {"from", f.From}, {"to", f.To},
	} {
		if p.value != "" {
			q.Set(p.name, p.value)
		}
	}
	return q
}

// AuditFiltered is the audit log showing the entries f keeps.
func AuditFiltered(f AuditFilter) string { return withQuery(Audit, f.Query()) }

// AuditCSVFiltered is the CSV of the audit log's entries that f keeps.
func AuditCSVFiltered(f AuditFilter) string { return withQuery(AuditCSV, f.Query()) }

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Webhooks lists the organization's webhook endpoints; NewWebhook adds one.
const (
	Webhooks   = "/admin/webhooks"
	NewWebhook = Webhooks + "/new"
)

// Webhook is a webhook endpoint's page, with its delivery log; its
// actions follow.
func Webhook(endpointID int64) string        { return Webhooks + "/" + id(endpointID) }
func WebhookEnable(endpointID int64) string  { return Webhook(endpointID) + "/enable" }
func WebhookDisable(endpointID int64) string { return Webhook(endpointID) + "/disable" }
func WebhookSecret(endpointID int64) string  { return Webhook(endpointID) + "/rotate-secret" }
func WebhookTest(endpointID int64) string    { return Webhook(endpointID) + "/test" }
func WebhookDelete(endpointID int64) string  { return Webhook(endpointID) + "/delete" }
func WebhookRedeliver(endpointID, deliveryID int64) string {
	return Webhook(endpointID) + "/deliveries/" + id(deliveryID) + "/redeliver"
}

// MailboxMessage is a message of the development mailbox.
func MailboxMessage(messageID int64) string { return Mailbox + "/" + id(messageID) }

// LoginThen is the sign-in page, going on to next afterwards.
func LoginThen(next string) string { return Login + "?" + url.Values{"next": {next}}.Encode() }

// WithToken is a page of a one-time link: an email's link to verify an
// address, reset a password or accept an invitation.
func WithToken(page, token string) string { return page + "?" + url.Values{"token": {token}}.Encode() }

// Absolute is path on the site at base, for emails.
func Absolute(base *url.URL, path string) string {
	if base == nil {
		return ""
	}
	ref, err := url.Parse(path)
	if err != nil {
		return ""
	}
	u := *base
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/")+ref.Path, ""
	u.RawQuery, u.Fragment = ref.RawQuery, ref.Fragment
	return u.String()
}

// DomainsWhere is the Domains list filtered by a part of the name and by
// a status; an empty one is left out, so that no filter is the plain list.
func DomainsWhere(name, status string) string {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if status != "" {
		q.Set("status", status)
	}
	if len(q) == 0 {
		return Domains
	}
	return Domains + "?" + q.Encode()
}
