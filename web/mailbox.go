package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/mail"
	"admincenter/templates"
)

func mailRow(m mail.Message) templates.MailRow {
	return templates.MailRow{ID: m.ID, To: m.Recipient, Subject: m.Subject, Body: m.Body, At: m.CreatedAt}
}

// mailbox lists the outbox in development, where no SMTP server is set.
func (s *Server) mailbox(c echo.Context) error {
	list, err := s.Outbox.Recent(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	rows := make([]templates.MailRow, len(list))
	for i, m := range list {
		rows[i] = mailRow(m)
	}
	return render(c, http.StatusOK, templates.MailboxPage(rows))
}

func (s *Server) mailMessage(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.Outbox.ByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.MailPage(mailRow(m)))
}
