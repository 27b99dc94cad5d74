package mail

import (
	"fmt"
	"time"
)

// The product's emails. Each takes what it needs and returns the message;
// callers enqueue it in the transaction of the change it reports.

func VerifyEmail(to, name, link string) Email {
	return Email{To: to, Subject: "Verify your email address", Body: fmt.Sprintf(`Hello %s,

Please confirm that %s is your email address by opening this link:

%s

The link is valid for 48 hours. If you did not sign up, you can ignore this email.
`, name, to, link)}
}

func PasswordReset(to, name, link string) Email {
	return Email{To: to, Subject: "Reset your password", Body: fmt.Sprintf(`Hello %s,

Someone asked to reset the password of %s. To choose a new password, open this link:

%s

The link is valid for one hour and can be used once. If you did not ask for this, you can ignore this email: your password stays the same.
`, name, to, link)}
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
`, inviter, org, role, link, expires.UTC().Format("2 Jan 2006 15:04 UTC"))}
}
