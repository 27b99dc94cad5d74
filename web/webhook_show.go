package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/webhooks"
	"admincenter/templates"
)

// webhook shows an endpoint, its actions and a page of its delivery log.
func (s *Server) webhook(c echo.Context) error {
	return s.renderWebhook(c, http.StatusOK, templates.WebhookView{})
}

// renderWebhook shows the endpoint of the path with v's message and, if v
// has one, v's settings form.
func (s *Server) renderWebhook(c echo.Context, status int, v templates.WebhookView) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ep, err := s.Webhooks.Get(ctx, mustUser(c).OrgID(), id)
	if err != nil {
		return err
	}
	log, err := s.Webhooks.Log(ctx, ep, pageParam(c))
	if err != nil {
		return err
	}
	sh, err := s.shell(c, ep.URL, "webhooks")
	if err != nil {
		return err
	}
	if v.Secret, err = s.takeSecret(c, ep.ID); err != nil {
		return err
	}
	v.ID, v.URL, v.Events, v.Enabled, v.DisabledReason = ep.ID, ep.URL, webhooks.EventsWords(ep.Events), ep.Enabled, ep.DisabledReason
	v.CreatedAt, v.RotatedAt = ep.CreatedAt, ep.SecretRotatedAt
	v.Timeout, v.RetryFor = text.Duration(s.Webhooks.RequestTimeout()), text.Duration(s.Webhooks.RetryFor())
	if v.Settings.Groups == nil {
		v.Settings = webhookForm(templates.Form{Values: map[string]string{"url": ep.URL}},
			webhooks.Input{All: ep.AllEvents(), Events: ep.Types()})
	}
	v.Pager = templates.Pager{Number: log.Number, Pages: log.Pages(), Total: log.Total, Noun: "delivery", Path: paths.Webhook(ep.ID)}
	for _, d := range log.Items {
		v.Deliveries = append(v.Deliveries, deliveryRow(d, ep.Enabled))
	}
	return render(c, status, templates.WebhookPage(sh, v))
}

// saveWebhook changes the endpoint's address and events.
func (s *Server) saveWebhook(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	in, values, err := webhookInput(c)
	if err != nil {
		return err
	}
	if _, err := s.Webhooks.Update(c.Request().Context(), mustUser(c).ID, id, in); err != nil {
		f, ferr := formOf(err, values)
		if ferr != nil || apperr.CodeOf(err) == apperr.Forbidden {
			return err
		}
		return s.renderWebhook(c, statusOf[apperr.CodeOf(err)], templates.WebhookView{Settings: webhookForm(f, in), EditOpen: true})
	}
	if err := s.flash(c, "Changes saved."); err != nil {
		return err
	}
	return redirect(c, paths.Webhook(id))
}
