package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func (s *Server) enableWebhook(c echo.Context) error {
	return s.webhookChange(c, 0, func(ctx context.Context, actorID, id int64) (string, error) {
		_, err := s.Webhooks.SetEnabled(ctx, actorID, id, true)
		return "The endpoint is enabled: it gets events again.", err
	})
}

func (s *Server) disableWebhook(c echo.Context) error {
	return s.webhookChange(c, 0, func(ctx context.Context, actorID, id int64) (string, error) {
		_, err := s.Webhooks.SetEnabled(ctx, actorID, id, false)
		return "The endpoint is disabled: it gets no events until it is enabled again.", err
	})
}

func (s *Server) rotateWebhookSecret(c echo.Context) error {
	return s.webhookChange(c, 1, func(ctx context.Context, actorID, id int64) (string, error) {
		ep, secret, err := s.Webhooks.RotateSecret(ctx, actorID, id)
		if err != nil {
			return "", err
		}
		return "The secret was rotated: requests are signed with the new one from now on.", s.keepSecret(c, ep.ID, secret)
	})
}

func (s *Server) sendWebhookTest(c echo.Context) error {
	return s.webhookChange(c, 0, func(ctx context.Context, actorID, id int64) (string, error) {
		return "A test event is on its way: its delivery shows below in a few seconds.", s.Webhooks.SendTest(ctx, actorID, id)
	})
}

func (s *Server) redeliverWebhook(c echo.Context) error {
	delivery, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil || delivery < 1 {
		return apperr.New(apperr.NotFound, "There is no page at this address.")
	}
	return s.webhookChange(c, 0, func(ctx context.Context, actorID, id int64) (string, error) {
		return "The event is sent again, with the same id.", s.Webhooks.Redeliver(ctx, actorID, id, delivery)
	})
}

func (s *Server) deleteWebhook(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if ok, err := acknowledged(c, 1); err != nil || !ok {
		return s.notAcknowledged(c, err)
	}
	ep, err := s.Webhooks.Delete(c.Request().Context(), mustUser(c).ID, id)
	if err != nil {
		return err
	}
	if err := s.flash(c, ep.URL+" was deleted: it gets no more events."); err != nil {
		return err
	}
	return redirect(c, paths.Webhooks)
}

// webhookChange runs one change of the endpoint of the path, once the acks
// boxes of its dialog are ticked, and goes back to its page with done; a
// change refused for the endpoint's state is said there instead.
func (s *Server) webhookChange(c echo.Context, acks int, change func(ctx context.Context, actorID, id int64) (string, error)) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if ok, err := acknowledged(c, acks); err != nil || !ok {
		return s.notAcknowledged(c, err)
	}
	done, err := change(c.Request().Context(), mustUser(c).ID, id)
	if apperr.CodeOf(err) == apperr.Conflict {
		return s.renderWebhook(c, http.StatusConflict, templates.WebhookView{Message: templates.Form{Message: apperr.MessageOf(err)}})
	}
	if err != nil {
		return err
	}
	if err := s.flash(c, done); err != nil {
		return err
	}
	return redirect(c, paths.Webhook(id))
}

func (s *Server) notAcknowledged(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return s.renderWebhook(c, http.StatusUnprocessableEntity, templates.WebhookView{Message: templates.Form{
		Message: "Nothing changed: tick the box to confirm that you understand what this does."}})
}
