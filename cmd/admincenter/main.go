// Command admincenter runs the Admin Center and its operator commands.
//
//	admincenter [serve] [--demo]   serve the Admin Center (default)
//	admincenter migrate            apply database migrations and exit
//	admincenter demo               add the demo organizations and users
//	admincenter healthcheck        exit 0 when the local server answers /healthz
//	admincenter domains recheck D  check a domain now and print the diagnostics
//	admincenter domains diagnose D [--token V] [--file F] [--json]  the same without a database
//	admincenter org feature O bulk-import on|off  switch the gated feature
//	admincenter mail retry [--failed]  send waiting (and failed) email now
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	// Every time is UTC, in the database and on the pages.
	time.Local = time.UTC
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `Usage: admincenter [command] [flags]

Commands:
  serve [--demo]   serve the Admin Center (the default command); --demo first
                   adds the demo data and turns on the development mailbox
  migrate          apply the database migrations and exit
  demo             add the demo organizations and users, then print how to sign in
  healthcheck      exit 0 when the server on ADMINCENTER_ADDR answers /healthz
  domains recheck DOMAIN
                   check every organization's entry of DOMAIN now, record the
                   result, and print what was asked and found
  domains diagnose DOMAIN [--token VALUE] [--file NAME] [--json]
                   run the checks of DOMAIN without a database: resolvers,
                   the zone's own nameservers and the usual mistakes (and the
                   HTML file NAME); without --token, judge the value at
                   _twilio; exit 1 when no proof is found
  org feature ORG bulk-import on|off
                   switch Bulk User Import on or off for the organization
                   with this id or exact name (a gated feature)
  mail retry [--failed]
                   make every email waiting for its next attempt due now;
                   --failed also brings back the email given up, retried for
                   ADMINCENTER_MAIL_MAX_AGE again. With SMTP_URL set, then
                   sends the due email and prints what was sent and what not

Configuration comes from environment variables; see README.md.
`

// run is main without the process: it returns the exit status. Status 2
// means bad usage or configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	m := &Main{Getenv: getenv, Stdout: stdout, Stderr: stderr}
	var err error
	switch cmd {
	case "serve":
		err = m.Serve(ctx, args)
	case "migrate":
		err = m.Migrate(ctx)
	case "demo":
		err = m.Demo(ctx)
	case "healthcheck":
		err = m.Healthcheck(ctx)
	case "domains":
		err = m.Domains(ctx, args)
	case "org":
		err = m.Org(ctx, args)
	case "mail":
		err = m.Mail(ctx, args)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "admincenter: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "admincenter:", err)
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// usageError is bad usage or configuration: exit status 2.
type usageError struct{ error }
