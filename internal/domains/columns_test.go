package domains

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm/schema"
)

// The hand-written scan reads every column of a domain, in the order
// GORM names them, so that a column added to Domain cannot be forgotten.
func TestDomainColumnsAreEveryField(t *testing.T) {
	var names []string
	for i := range reflect.TypeFor[Domain]().NumField() {
		names = append(names, schema.NamingStrategy{}.ColumnName("", reflect.TypeFor[Domain]().Field(i).Name))
	}
	if got := strings.Join(strings.Fields(strings.ReplaceAll(domainColumns, ",", " ")), " "); got != strings.Join(names, " ") {
		t.Errorf("domainColumns\n got %s\nwant %s", got, strings.Join(names, " "))
	}
	if n := len((&Domain{}).fields()); n != len(names) {
		t.Errorf("fields() has %d destinations for %d columns", n, len(names))
	}
}

// The columns the Domains list and a claim read have one destination
// each, each a column of a domain.
func TestPartialColumnsAreFields(t *testing.T) {
	whole := strings.Fields(strings.ReplaceAll(domainColumns, ",", " "))
	for _, c := range []struct {
		columns string
		fields  []any
	}{
		{shownColumns, (&Domain{}).shownFields()},
		{claimColumns, (&Domain{}).claimFields()},
	} {
		names := strings.Fields(strings.ReplaceAll(c.columns, ",", " "))
		for _, n := range names {
			if !slices.Contains(whole, n) {
				t.Errorf("%s is not a column of a domain", n)
			}
		}
		if len(c.fields) != len(names) {
			t.Errorf("%d destinations for the %d columns %s", len(c.fields), len(names), c.columns)
		}
	}
}
