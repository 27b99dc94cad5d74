package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/invites"
	"admincenter/internal/paths"
	"admincenter/internal/users"
	"admincenter/templates"
)

func invitationView(o invites.Offer, token string) templates.InvitationView {
	return templates.InvitationView{Token: token, Email: o.Email, Organization: o.OrganizationName,
		Inviter: o.InviterName, Role: o.Role.Label(), HasLogin: o.HasLogin}
}

// invitation is the link in the invitation email.
func (s *Server) invitation(c echo.Context) error {
	token := c.QueryParam("token")
	o, err := s.Invites.Lookup(c.Request().Context(), token)
	if err != nil {
		return s.invitationGone(c, err)
	}
	v := invitationView(o, token)
	if u, ok := currentUser(c); ok {
		v.SignedInAs = u.Email
	}
	return render(c, http.StatusOK, templates.InvitationPage(v))
}

func (s *Server) invitationGone(c echo.Context, err error) error {
	if apperr.CodeOf(err) != apperr.NotFound {
		return err
	}
	return render(c, http.StatusNotFound, templates.MessagePage("Invitation not valid", apperr.MessageOf(err), "Go to the sign-in page", paths.Login, false))
}

// acceptInvitation makes the signed-in person a member.
func (s *Server) acceptInvitation(c echo.Context) error {
	token := c.FormValue("token")
	o, err := s.Invites.Accept(c.Request().Context(), token, mustUser(c).ID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return s.invitationGone(c, err)
	}
	if err != nil {
		v := invitationView(o, token)
		v.SignedInAs = mustUser(c).Email
		f, ferr := formOf(err, nil)
		if ferr != nil || o.ID == 0 {
			return err
		}
		v.Form = f
		return render(c, statusOf[apperr.CodeOf(err)], templates.InvitationPage(v))
	}
	if err := s.flash(c, "Welcome to "+o.OrganizationName+": you joined as "+o.Role.Label()+"."); err != nil {
		return err
	}
	return redirect(c, "/")
}

// signUpInvited creates the login of an invited person and makes them a
// member in one step.
func (s *Server) signUpInvited(c echo.Context) error {
	token := c.FormValue("token")
	f := users.SignUpForm{Name: c.FormValue("name"), Password: c.FormValue("password")}
	u, o, err := s.Invites.SignUpAndAccept(c.Request().Context(), token, f)
	if apperr.CodeOf(err) == apperr.NotFound {
		return s.invitationGone(c, err)
	}
	if err != nil {
		form, ferr := formOf(err, map[string]string{"name": f.Name})
		if ferr != nil || o.ID == 0 {
			return err
		}
		v := invitationView(o, token)
		v.Form = form
		return render(c, statusOf[apperr.CodeOf(err)], templates.InvitationPage(v))
	}
	return s.signInAndGo(c, u, "Welcome to "+o.OrganizationName+": you joined as "+o.Role.Label()+".", "/")
}

func (s *Server) signInAndGo(c echo.Context, u users.User, notice, next string) error {
	if err := s.signIn(c, u, notice); err != nil {
		return err
	}
	return redirect(c, next)
}
