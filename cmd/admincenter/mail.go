package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"admincenter/internal/mail"
	"admincenter/internal/text"
)

const mailUsage = "usage: admincenter mail retry [--failed]"

// Mail runs the operator commands about email:
//
//	admincenter mail retry [--failed]
func (m *Main) Mail(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "retry" {
		return usageError{errors.New(mailUsage)}
	}
	fs := flag.NewFlagSet("mail retry", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	failed := fs.Bool("failed", false, "")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{fmt.Errorf("%v; %s", err, mailUsage)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected %q; %s", fs.Arg(0), mailUsage)}
	}
	defer m.Close()
	if err := m.open(ctx); err != nil {
		return err
	}
	r, err := (&mail.Outbox{DB: m.DB}).Requeue(ctx, m.Now(), *failed)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Re-queued: %d waiting for their next attempt, %d that had failed.\n", r.Waiting, r.Failed)
	if r.StillFailed > 0 {
		fmt.Fprintf(m.Stdout, "Left failed: %d (add --failed to send them again).\n", r.StillFailed)
	}
	if m.Config.SMTPURL == nil {
		fmt.Fprintln(m.Stdout, "SMTP_URL is not set, so nothing is sent from here; a running server with SMTP_URL sends them within seconds.")
		return nil
	}
	return m.sendDueMail(ctx)
}

// sendDueMail runs one delivery pass and prints each attempt.
func (m *Main) sendDueMail(ctx context.Context) error {
	fmt.Fprintf(m.Stdout, "Sending the due messages through %s:\n", m.Config.SMTPURL.Host)
	s := m.newSender()
	attempts := 0
	s.OnAttempt = func(msg mail.Message, err error) {
		attempts++
		switch {
		case err == nil:
			fmt.Fprintf(m.Stdout, "  sent    #%d to %s: %q\n", msg.ID, msg.Recipient, msg.Subject)
		case msg.FailedAt != nil:
			fmt.Fprintf(m.Stdout, "  failed  #%d to %s: %v; given up\n", msg.ID, msg.Recipient, err)
		default:
			fmt.Fprintf(m.Stdout, "  not yet #%d to %s: %v; next attempt %s\n", msg.ID, msg.Recipient, err,
				text.Precise(msg.NextAttemptAt))
		}
	}
	sent, err := s.SendDue(ctx)
	fmt.Fprintf(m.Stdout, "Sent: %d of %d.\n", sent, attempts)
	if err != nil {
		return err
	}
	if sent < attempts {
		return fmt.Errorf("not sent: %d of %d (see above)", attempts-sent, attempts)
	}
	return nil
}

// newSender delivers the outbox through SMTP_URL.
func (m *Main) newSender() *mail.Sender {
	return &mail.Sender{
		DB: m.DB, Server: m.Config.SMTPURL, From: "no-reply@" + m.Config.BaseURL.Hostname(),
		Now: m.Now, Interval: 5 * time.Second, MaxAge: m.Config.MailMaxAge,
	}
}
