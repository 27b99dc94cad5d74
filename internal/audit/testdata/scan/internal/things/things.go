// Actions recorded directly, through a method and through two functions.
package things

import (
	"example/internal/audit"
	csvsafe "example/internal/other"
)

type change struct{}

func (c *change) event(action, details string) {
	audit.Record(nil, nil, nil, nil, action, nil, details)
}

func tell(who any, what string) { announce(what) }

func announce(code string) { audit.NewEntry(nil, nil, nil, code, nil, nil) }

func use(c *change) {
	audit.Record(nil, nil, nil, nil, "thing.created", nil, "")
	c.event("thing.changed", "")
	tell(nil, "thing.announced")
	csvsafe.Record([]string{"not an action"}) // another package's Record
}
