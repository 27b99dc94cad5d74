package mail

import (
	"fmt"
	"strings"
	"time"

	"admincenter/internal/text"
)

// The product's emails. Each takes what it needs and returns the message;
// callers enqueue it in the transaction of the change it reports.

func VerifyEmail(to, name, link string, valid time.Duration) Email {
	return Email{To: to, Subject: "Verify your email address", Body: fmt.Sprintf(`Hello %s,

Please confirm that %s is your email address by opening this link:

%s

The link is valid for %s. If you did not sign up, you can ignore this email.
`, name, to, link, text.Duration(valid))}
}

func PasswordReset(to, name, link string, valid time.Duration) Email {
	return Email{To: to, Subject: "Reset your password", Body: fmt.Sprintf(`Hello %s,

Someone asked to reset the password of %s. To choose a new password, open this link:

%s

The link is valid for %s and can be used once. If you did not ask for this, you can ignore this email: your password stays the same.
`, name, to, link, text.Duration(valid))}
}

func RemovedFromOrganization(to, name, org, by string) Email {
	return Email{To: to, Subject: "You are no longer managed by " + org, Body: fmt.Sprintf(`Hello %s,

%s removed you from the organization %s.

You can still sign in with your email and password. The accounts you used in %s stay with the organization.
`, name, by, org, org)}
}

func RoleChanged(to, name, org, role, by string) Email {
	return Email{To: to, Subject: "Your role in " + org + " changed", Body: fmt.Sprintf(`Hello %s,

%s changed your role in the organization %s to %s.
`, name, by, org, role)}
}

func OwnershipTransferred(to, name, org, by string) Email {
	return Email{To: to, Subject: "You are now the Owner of " + org, Body: fmt.Sprintf(`Hello %s,

%s transferred the ownership of the organization %s to you. You are now its Owner; %s is an Administrator.
`, name, by, org, by)}
}

func Invitation(to, org, inviter, role, link string, expires time.Time) Email {
	return Email{To: to, Subject: "You are invited to join " + org, Body: fmt.Sprintf(`Hello,

%s invited you to join the organization %s as %s.

To accept, open this link:

%s

The link is valid until %s. If you already have a login with this email address, sign in when asked; if not, you will create one.
`, inviter, org, role, link, text.Time(expires))}
}

func usersSentence(n int64, deadline time.Time) string {
	if n == 0 {
		return fmt.Sprintf("If it is not verified again by %s, the domain will be deleted from the organization. No managed user would be removed.", text.Time(deadline))
	}
	return fmt.Sprintf("If it is not verified again by %s, the domain will be deleted from the organization, and the managed users with an address at it (%s) will be removed.",
		text.Time(deadline), text.Count(n, "user"))
}

// whoAtRisk links to the list of the users who would be removed, when
// there are any.
func whoAtRisk(n int64, link string) string {
	if n == 0 || link == "" {
		return ""
	}
	return "\nWho they are, with their accounts:\n\n" + link + "\n"
}

func RevalidationRequired(to, name, org, domain, why string, deadline time.Time, atRisk int64, atRiskLink, link string) Email {
	return Email{To: to, Subject: "Action needed: re-validate " + domain, Body: fmt.Sprintf(`Hello %s,

The proof that %s owns %s is missing. Our check found:

  %s

%s Until it is verified again, nobody can be added to %s with a %s address.
%s
Put the DNS record or the HTML file back in place, then click Verify Domain on the domain's page:

%s
`, name, org, domain, why, usersSentence(atRisk, deadline), org, domain, whoAtRisk(atRisk, atRiskLink), link)}
}

func RevalidationReminder(to, name, org, domain, left string, deadline time.Time, atRisk int64, atRiskLink, link string) Email {
	return Email{To: to, Subject: left + " left to re-validate " + domain, Body: fmt.Sprintf(`Hello %s,

%s still needs re-validation: %s left. %s
%s
Put the DNS record or the HTML file back in place, then click Verify Domain on the domain's page:

%s
`, name, domain, left, usersSentence(atRisk, deadline), whoAtRisk(atRisk, atRiskLink), link)}
}

func DomainRestored(to, name, org, domain, link string) Email {
	return Email{To: to, Subject: domain + " is verified again", Body: fmt.Sprintf(`Hello %s,

The proof for %s is back: the domain is verified again for %s, and nobody will be removed.

%s
`, name, domain, org, link)}
}

func DomainExpired(to, name, org, domain string, removed []string, link string) Email {
	list := "No managed user was removed."
	if len(removed) > 0 {
		list = fmt.Sprintf("Managed users removed from %s (%s); they keep their logins, and their accounts stay with the organization:\n\n  %s",
			org, text.Count(len(removed), "user"), strings.Join(removed, "\n  "))
	}
	return Email{To: to, Subject: domain + " was deleted from " + org, Body: fmt.Sprintf(`Hello %s,

%s was not re-validated before its deadline, so it was deleted from %s.

%s

To add them back, add %s again and verify it: its page will then offer to add these users back in one click.

%s
`, name, domain, org, list, domain, link)}
}

func RemovedByExpiry(to, name, org, domain string) Email {
	return Email{To: to, Subject: "You are no longer managed by " + org, Body: fmt.Sprintf(`Hello %s,

%s could not keep %s verified, so people with %s addresses were removed from the organization, you among them.

You can still sign in with your email and password. The accounts you used in %s stay with the organization.
`, name, org, domain, domain, org)}
}

func AddedBack(to, name, org, role string) Email {
	return Email{To: to, Subject: "You are managed by " + org + " again", Body: fmt.Sprintf(`Hello %s,

%s verified your email domain again and added you back to the organization as %s.
`, name, org, role)}
}

func Imported(to, name, org, domain, by string, accounts int) Email {
	what := "Your login"
	switch accounts {
	case 0:
	case 1:
		what = "Your login and your account"
	default:
		what = fmt.Sprintf("Your login and your %d accounts", accounts)
	}
	return Email{To: to, Subject: "You are now managed by " + org, Body: fmt.Sprintf(`Hello %s,

%s verified that it owns %s and imported the people who signed up with %s addresses into the organization, you among them. %s now belong to %s; you are a Standard User.

You sign in as before, with the same email and password. The organization's Owner and Administrators can now see and manage your accounts, change your role, and remove you from the organization.

If you have questions, ask %s.
`, name, org, domain, domain, what, org, by)}
}

func AutoAdded(to, name, org, domain string) Email {
	return Email{To: to, Subject: "You are now managed by " + org, Body: fmt.Sprintf(`Hello %s,

%s owns %s and adds everyone who signs up with a %s address to the organization. You are now a Standard User of %s; your accounts belong to the organization too.

You sign in as before. The organization's Owner and Administrators can see and manage your accounts, change your role, and remove you from the organization.
`, name, org, domain, domain, org)}
}

func ImportFinished(to, name, org, domain string, imported, notImported int, link string) Email {
	return Email{To: to, Subject: fmt.Sprintf("Import from %s finished: %d imported", domain, imported), Body: fmt.Sprintf(`Hello %s,

The import of the users of %s into %s is finished: %d imported, %d not imported.

The summary, with the reason for each user who was not imported:

%s
`, name, domain, org, imported, notImported, link)}
}

// ImportNotice tells a user that their organization is about to import
// them; the Admin Center shows it as a template too (to is then empty).
func ImportNotice(to, org, domain, contact string) Email {
	return Email{To: to, Subject: org + " will manage your login", Body: fmt.Sprintf(`Hello,

You signed up with your %[2]s email address. %[1]s owns %[2]s and will soon import the people who signed up with %[2]s addresses into its organization, you among them.

What changes for you:
- Your login becomes a managed user of %[1]s, with the role Standard User.
- The accounts you own move with you and belong to %[1]s from then on.
- The Owner and Administrators of %[1]s can see and manage these accounts, change your role, and remove you from the organization.

What stays the same: you sign in as before, with the same email address and password, and your accounts keep working.

If you have questions, or if an account should not move to %[1]s, please contact %[3]s before the import.
`, org, domain, contact)}
}

func WebhookDisabled(to, name, org, endpoint string, failingFor time.Duration, last, link string) Email {
	return Email{To: to, Subject: "A webhook endpoint of " + org + " was disabled", Body: fmt.Sprintf(`Hello %s,

Every delivery to the webhook endpoint %s failed for %s, so it was disabled: it receives no events until it is enabled again. The last attempt:

  %s

Events from now on are not kept for it. Once the endpoint answers again, enable it on its page; deliveries that were still being retried then go out:

%s
`, name, endpoint, text.Duration(failingFor), last, link)}
}
