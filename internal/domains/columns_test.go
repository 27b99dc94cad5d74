package domains

import (
	"reflect"
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
