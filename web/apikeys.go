package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apikeys"
	"admincenter/internal/apperr"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/templates"
)

func (s *Server) apiKeys(c echo.Context) error {
	return s.renderAPIKeys(c, http.StatusOK, templates.APIKeysView{})
}

// renderAPIKeys shows the keys with v's form, or the secret of a new key.
func (s *Server) renderAPIKeys(c echo.Context, status int, v templates.APIKeysView) error {
	sh, err := s.shell(c, "API keys", "api-keys")
	if err != nil {
		return err
	}
	keys, err := s.APIKeys.List(c.Request().Context(), mustUser(c).OrgID())
	if err != nil {
		return err
	}
	now := s.Now()
	for _, k := range keys {
		row := templates.APIKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scope: k.Scope.Label(), CreatedBy: k.CreatedByEmail,
			CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, LastUsedIP: k.LastUsedIP, ExpiresAt: k.ExpiresAt,
			State: "Active", StateKind: "ok", Revocable: k.RevokedAt == nil}
		switch {
		case k.RevokedAt != nil:
			row.State, row.StateKind, row.Why = "Revoked", "", "on "+text.Time(*k.RevokedAt)+" by "+k.RevokedByEmail
		case !k.Active(now):
			row.State, row.StateKind = "Expired", ""
		case !k.CreatorAdmin:
			row.State, row.StateKind, row.Why = "Not working", "warn", "its creator is no longer an Owner or Administrator"
		}
		v.Keys = append(v.Keys, row)
	}
	for _, d := range apikeys.Expiries {
		o := templates.Option{Value: strconv.Itoa(int(d / (24 * time.Hour))), Label: "Never"}
		o.Selected = o.Value == v.Form.Value("expiry")
		if d > 0 {
			o.Label = "In " + text.Count(int(d/(24*time.Hour)), "day")
		}
		v.Expiries = append(v.Expiries, o)
	}
	c.Response().Header().Set("Cache-Control", "no-store") // a new key's secret must not be kept
	return render(c, status, templates.APIKeysPage(sh, v))
}

func (s *Server) createAPIKey(c echo.Context) error {
	values := map[string]string{"name": c.FormValue("name"), "scope": c.FormValue("scope"), "expiry": c.FormValue("expiry")}
	days, err := strconv.Atoi(values["expiry"])
	if err != nil {
		days = -1 // refused by the service, by field
	}
	k, secret, err := s.APIKeys.Create(c.Request().Context(), mustUser(c).ID, values["name"], apikeys.Scope(values["scope"]), time.Duration(days)*24*time.Hour)
	if err != nil {
		f, ferr := formOf(err, values)
		if ferr != nil {
			return ferr
		}
		return s.renderAPIKeys(c, statusOf[apperr.CodeOf(err)], templates.APIKeysView{Form: f})
	}
	return s.renderAPIKeys(c, http.StatusCreated, templates.APIKeysView{NewSecret: secret, NewName: k.Name})
}

func (s *Server) revokeAPIKey(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	k, err := s.APIKeys.Revoke(c.Request().Context(), mustUser(c).ID, id)
	if err != nil {
		return err
	}
	if err := s.flash(c, k.Name+" was revoked: scripts using it no longer work."); err != nil {
		return err
	}
	return redirect(c, paths.APIKeys)
}
