package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
)

func TestBrowserSignUpToAdminCenter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		b := newTab(t, a)

		b.open("/signup")
		b.fill("name", "Nina Newcomer")
		b.fill("email", "nina@initech.test")
		b.fill("password", "short")
		b.press("Sign up")
		b.waitText("Use at least 10 characters for your password.")
		b.fill("password", "a long enough password")
		b.press("Sign up")
		b.waitText("We sent a verification link to nina@initech.test")
		b.inspect("signup-done")

		b.open("/dev/mailbox")
		b.do(chromedpClickLink("Verify your email address"))
		b.waitText("Please confirm that nina@initech.test is your email address")
		b.do(chromedpClickPartialLink("/verify-email?token="))
		b.waitText("Confirm that nina@initech.test is your email address.")
		b.press("Verify my email")
		b.waitText("is verified")

		b.press("Create an organization")
		b.waitText("Create an organization")
		b.press("Create organization")
		b.waitText("Enter a name for your organization.")
		b.fill("name", "Initech")
		b.press("Create organization")
		b.waitText("Organization “Initech” created. You are its Owner.")
		b.waitText("No domains yet")
		if p := b.path(); p != "/admin/domains" {
			t.Fatalf("after creating the organization: %s", p)
		}
		b.inspect("admin-domains-empty")

		b.press("Users")
		b.waitText("Nina Newcomer")
		b.waitText("nina@initech.test")
		b.waitText("Owner")
		b.inspect("admin-users")

		b.press("Sign out")
		b.waitText("Sign in")
		b.open("/admin/users")
		b.waitText("Sign in")
		if p := b.path(); !strings.HasPrefix(p, "/login") {
			t.Fatalf("signed out, /admin/users went to %s", p)
		}
	})
}

func TestBrowserStandardUserRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		b := newTab(t, a)
		b.signIn("sam@acme.test")
		b.waitText("Your accounts")
		b.open("/admin/users")
		b.waitText("The Admin Center is only for the Owner and Administrators")
		b.inspect("forbidden")
	})
}

func TestBrowserPostWithoutCSRFRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		b := newTab(t, a)
		b.signIn("owner@acme.test")
		b.open(fmt.Sprintf("/admin/users/%d", a.userID("sam@acme.test")))
		b.waitText("Save role")
		eval[bool](b, `document.querySelectorAll('input[name="_csrf"]').forEach(e => e.remove()); true`)
		b.do(chromedpClickID("role-admin"))
		b.press("Save role")
		b.waitText("did not come from this site")
		if a.user("sam@acme.test").Role != "standard" {
			t.Fatal("the role changed without a CSRF token")
		}
	})
}

func TestBrowserOtherOrganizationsUserNotFound(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		b := newTab(t, a)
		b.signIn("owner@acme.test")
		b.open(fmt.Sprintf("/admin/users/%d", a.userID("owner@globex.test")))
		b.waitText("Page not found")
		b.waitText("No such user in this organization.")
	})
}

func TestBrowserRemoveUserWithConfirmation(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	b := newTab(t, a)
	b.signIn("admin@acme.test")
	b.open(fmt.Sprintf("/admin/users/%d", a.userID("sam@acme.test")))
	b.press("Remove user")
	b.waitText("Remove Sam Standard from the organization?")
	if disabled := eval[bool](b, `document.querySelector('#remove-dialog button[type=submit]').disabled`); !disabled {
		t.Fatal("the remove button is enabled before the acknowledgements")
	}
	b.inspect("remove-dialog")
	b.do(chromedpClickID("remove-dialog-ack-0"), chromedpClickID("remove-dialog-ack-1"))
	b.do(chromedpClickCSS("#remove-dialog button[type=submit]"))
	b.waitText("The user was removed from the organization.")
	if a.user("sam@acme.test").Managed() {
		t.Fatal("still managed")
	}
}

func TestBrowserNarrowScreen(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	b := newTab(t, a)
	b.narrow()
	b.signIn("owner@acme.test")
	b.open("/admin/users")
	b.waitText("Sam Standard")
	width := eval[int](b, `document.documentElement.scrollWidth`)
	if width > 390 {
		t.Fatalf("the page is %dpx wide on a 390px screen", width)
	}
	b.inspect("users-390")
}

// After a refused password the focus is on the password field, and a copy
// button's "Copied" is told to screen readers.
func TestBrowserFocusAndAnnouncements(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	b := newTab(t, a)
	b.open("/login")
	b.fill("email", "owner@acme.test")
	b.fill("password", "not-the-password")
	b.press("Sign in")
	b.waitText("Incorrect email or password.")
	if id := eval[string](b, `document.activeElement.id`); id != "f-password" {
		t.Errorf("after a refused password the focus is on %q", id)
	}
	b.signIn("owner@acme.test")
	c := a.client()
	c.login("owner@acme.test")
	id := addDomain(t, c, "initech.test")
	b.open(fmt.Sprintf("/admin/domains/%d?tab=dns", id))
	b.do(chromedpClickCSS(`[data-copy="txt-value"]`))
	deadline := time.Now().Add(5 * time.Second)
	for eval[string](b, `document.getElementById("announce").textContent`) != "Copied" {
		if time.Now().After(deadline) {
			t.Fatal("copying was not announced")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
