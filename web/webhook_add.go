package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/internal/webhooks"
	"admincenter/templates"
)

func (s *Server) newWebhookForm(c echo.Context) error {
	sh, err := s.shell(c, "Add endpoint", "webhooks")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.NewWebhookPage(sh, webhookForm(templates.Form{}, webhooks.Input{All: true})))
}

// addWebhook adds the endpoint and shows its page with its secret, once.
func (s *Server) addWebhook(c echo.Context) error {
	in, values, err := webhookInput(c)
	if err != nil {
		return err
	}
	ep, secret, err := s.Webhooks.Create(c.Request().Context(), mustUser(c).ID, in)
	if err != nil {
		sh, serr := s.shell(c, "Add endpoint", "webhooks")
		if serr != nil {
			return serr
		}
		return renderForm(c, err, values, func(f templates.Form) templ.Component {
			return templates.NewWebhookPage(sh, webhookForm(f, in))
		})
	}
	if err := s.keepSecret(c, ep.ID, secret); err != nil {
		return err
	}
	if err := s.flash(c, "The endpoint was added. Send a test event to try it."); err != nil {
		return err
	}
	return redirect(c, paths.Webhook(ep.ID))
}

// webhookInput reads the endpoint form, and its values to show again.
func webhookInput(c echo.Context) (webhooks.Input, map[string]string, error) {
	form, err := c.FormParams()
	if err != nil {
		return webhooks.Input{}, nil, err
	}
	in := webhooks.Input{URL: form.Get("url"), All: form.Get("events") == "all", Events: form["event"]}
	return in, map[string]string{"url": in.URL}, nil
}

// webhookForm is the endpoint form with f's values and problems, and in's
// events chosen.
func webhookForm(f templates.Form, in webhooks.Input) templates.WebhookForm {
	w := templates.WebhookForm{Form: f, All: in.All, Chosen: map[string]bool{}}
	for _, e := range in.Events {
		w.Chosen[e] = true
	}
	for _, t := range webhooks.Types {
		if len(w.Groups) == 0 || w.Groups[len(w.Groups)-1].Name != t.Group {
			w.Groups = append(w.Groups, templates.EventGroup{Name: t.Group})
		}
		g := &w.Groups[len(w.Groups)-1]
		g.Choices = append(g.Choices, templates.EventChoice{Name: t.Name, Words: t.Words})
	}
	return w
}

// The signing secret of an endpoint just added, or just rotated, is kept
// in the session for the one page that shows it: the page it redirects
// to, so that reloading that page neither shows it again nor makes
// another.
const keySecret = "webhook_secret"

func (s *Server) keepSecret(c echo.Context, endpointID int64, secret string) error {
	sess := session(c)
	sess.Values[keySecret] = strconv.FormatInt(endpointID, 10) + " " + secret
	return s.saveSession(c, sess)
}

// takeSecret returns the secret kept for the endpoint, and forgets it.
func (s *Server) takeSecret(c echo.Context, endpointID int64) (string, error) {
	sess := session(c)
	kept, _ := sess.Values[keySecret].(string)
	id, secret, _ := strings.Cut(kept, " ")
	if id != strconv.FormatInt(endpointID, 10) {
		return "", nil
	}
	delete(sess.Values, keySecret)
	return secret, s.saveSession(c, sess)
}
