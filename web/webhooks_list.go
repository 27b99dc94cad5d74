package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"admincenter/internal/webhooks"
	"admincenter/templates"
)

// webhooks lists the organization's endpoints, each with its newest
// delivery.
func (s *Server) webhooks(c echo.Context) error {
	list, err := s.Webhooks.List(c.Request().Context(), mustUser(c).OrgID())
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Webhooks", "webhooks")
	if err != nil {
		return err
	}
	v := templates.WebhooksView{Limit: webhooks.Limit}
	for _, e := range list {
		row := templates.WebhookRow{ID: e.ID, URL: e.URL, Events: webhooks.EventsWords(e.Events), Enabled: e.Enabled, DisabledReason: e.DisabledReason}
		if e.Last != nil {
			state := deliveryState(*e.Last, e.Enabled)
			row.Last = &state
		}
		v.Rows = append(v.Rows, row)
	}
	return render(c, http.StatusOK, templates.WebhooksPage(sh, v))
}

// deliveryState says where a delivery is: waiting for its first attempt,
// being sent, retried after failures, paused with its endpoint, delivered
// or given up; and since when.
func deliveryState(d webhooks.LogEntry, enabled bool) templates.DeliveryState {
	at := d.CreatedAt
	if n := len(d.History); n > 0 {
		at = d.History[n-1].At
	}
	switch {
	case d.Status == webhooks.Delivered:
		return templates.DeliveryState{Label: "Delivered", Kind: "ok", At: at}
	case d.Status == webhooks.Failed:
		return templates.DeliveryState{Label: "Failed", Kind: "danger", At: at}
	case !enabled:
		return templates.DeliveryState{Label: "Paused", Kind: "", At: at}
	case d.ClaimToken != "":
		return templates.DeliveryState{Label: "Sending", Kind: "info", At: at}
	case len(d.History) > 0:
		return templates.DeliveryState{Label: "Retrying", Kind: "warn", At: at}
	}
	return templates.DeliveryState{Label: "Waiting", Kind: "info", At: at}
}

// deliveryRow is a delivery of an endpoint, enabled or not, as the log
// shows it.
func deliveryRow(d webhooks.LogEntry, enabled bool) templates.DeliveryRow {
	row := templates.DeliveryRow{ID: d.ID, EventID: d.PublicID, Type: d.Type, CreatedAt: d.CreatedAt, State: deliveryState(d, enabled),
		Attempts: len(d.History), Redeliver: d.Status != webhooks.Pending && enabled}
	if enabled && d.Status == webhooks.Pending && d.ClaimToken == "" && len(d.History) > 0 {
		next := d.NextAttemptAt
		row.Next = &next
	}
	for _, a := range d.History {
		row.History = append(row.History, attemptRow(a))
	}
	if n := len(row.History); n > 0 {
		row.Last = &row.History[n-1]
	}
	return row
}

func attemptRow(a webhooks.Attempt) templates.AttemptRow {
	row := templates.AttemptRow{Number: a.Number, At: a.At, Answer: "No answer", Latency: latency(a.DurationMS),
		Response: a.Response, Error: a.Error}
	if a.HTTPStatus != 0 {
		row.Answer = statusText(a.HTTPStatus)
	}
	if row.Error == "Answered "+row.Answer+"." {
		row.Error = "" // the answer says it all
	}
	return row
}

// latency writes how long an attempt took: "35 ms", "2.4 s".
func latency(ms int64) string {
	if ms < 1000 {
		return strconv.FormatInt(ms, 10) + " ms"
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + " s"
}

// statusText is a status with Go's reason phrase, not the endpoint's.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}
