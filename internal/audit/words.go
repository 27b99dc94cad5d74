package audit

// Action is an action the product records, with the words a person reads
// for it. The code is what the log stores and what operators search for.
type Action struct {
	Code  string
	Words string
}

// Group is a set of related actions, as the audit log's filter offers
// them.
type Group struct {
	Name    string
	Actions []Action
}

// Groups lists every action the product records, in words, grouped the
// way a person looks for them. It is the one table of these words: the
// audit log, its filter, its CSV and a domain's Activity all read it, and
// a test fails when a package records an action that is not here.
var Groups = []Group{
	{"Domains", []Action{
		{"domain.added", "Domain added"},
		{"domain.verified", "Domain verified"},
		{"domain.verification_failed", "Verification failed"},
		{"domain.verification_restarted", "Verification restarted"},
		{"domain.verification_refused", "Verification refused: verified by another organization"},
		{"domain.revalidation_required", "Re-validation required"},
		{"domain.revalidation_reminder", "Re-validation reminder sent"},
		{"domain.restored", "Domain re-validated"},
		{"domain.expired", "Domain expired and deleted"},
		{"domain.deleted", "Domain deleted"},
	}},
	{"Bulk User Import", []Action{
		{"import.report_requested", "Report requested"},
		{"import.report_ready", "Report ready"},
		{"import.file_uploaded", "Edited report uploaded"},
		{"import.notify_requested", "Notice to users requested"},
		{"import.notified", "Users notified"},
		{"import.started", "Import started"},
		{"user.imported", "User imported"},
		{"import.completed", "Import completed"},
		{"import.failed", "Import failed"},
		{"domain.signup_policy_changed", "New sign-ups setting changed"},
		{"user.auto_added", "User added at sign-up"},
	}},
	{"Users and roles", []Action{
		{"member.role_changed", "Role changed"},
		{"ownership.transferred", "Ownership transferred"},
		{"member.removed", "User removed"},
		{"member.added_back", "User added back"},
	}},
	{"API keys", []Action{
		{"apikey.created", "API key created"},
		{"apikey.revoked", "API key revoked"},
	}},
	{"Invitations", []Action{
		{"invitation.sent", "Invitation sent"},
		{"invitation.resent", "Invitation resent"},
		{"invitation.cancelled", "Invitation cancelled"},
		{"invitation.accepted", "Invitation accepted"},
	}},
	{"Sign-in and logins", []Action{
		{"user.signed_up", "Signed up"},
		{"user.email_verified", "Email address verified"},
		{"user.verification_resent", "Verification email resent"},
		{"user.signed_in", "Signed in"},
		{"user.signed_out", "Signed out"},
		{"user.password_reset_requested", "Password reset requested"},
		{"user.password_reset", "Password reset"},
		{"account.created", "Account created"},
	}},
	{"Webhooks", []Action{
		{"webhook.created", "Webhook endpoint added"},
		{"webhook.updated", "Webhook endpoint changed"},
		{"webhook.enabled", "Webhook endpoint enabled"},
		{"webhook.disabled", "Webhook endpoint disabled"},
		{"webhook.auto_disabled", "Webhook endpoint disabled after failing"},
		{"webhook.secret_rotated", "Webhook signing secret rotated"},
		{"webhook.test_sent", "Webhook test event sent"},
		{"webhook.redelivered", "Webhook event sent again"},
		{"webhook.deleted", "Webhook endpoint deleted"},
	}},
	{"Organization", []Action{
		{"organization.created", "Organization created"},
		{"organization.feature_changed", "Feature switched on or off"},
	}},
}

var words = func() map[string]string {
	m := map[string]string{}
	for _, g := range Groups {
		for _, a := range g.Actions {
			m[a.Code] = a.Words
		}
	}
	return m
}()

// Describe returns an action in words: "Domain verified" for
// domain.verified. An action it does not know (one recorded by an older
// version, say) is returned as it is, so that nothing is hidden.
func Describe(code string) string {
	if w, ok := words[code]; ok {
		return w
	}
	return code
}

// Known reports whether code is an action the product records.
func Known(code string) bool {
	_, ok := words[code]
	return ok
}
