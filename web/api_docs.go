package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"admincenter/templates"
)

// apiDocsView reads the document for the docs page.
func apiDocsView(spec *openapi3.T) templates.APIDocsView {
	// The description's Markdown code marks read as noise on a page.
	v := templates.APIDocsView{Title: spec.Info.Title, Version: spec.Info.Version, Description: strings.ReplaceAll(spec.Info.Description, "`", "")}
	for _, path := range slices.Sorted(maps.Keys(spec.Paths.Map())) {
		item := spec.Paths.Value(path)
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			o := templates.APIOperation{ID: op.OperationID, Method: method, Path: "/api/v1" + path, Summary: op.Summary, Scope: "read"}
			if method != http.MethodGet {
				o.Scope = "read and write"
			}
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				o.Params = append(o.Params, templates.APIField{Name: p.Value.Name, Type: p.Value.In + ", " + typeOf(p.Value.Schema),
					Description: p.Value.Description, Required: p.Value.Required})
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					o.Body = typeOf(mt.Schema)
				}
			}
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				r := op.Responses.Value(code)
				f := templates.APIField{Name: code, Description: deref(r.Value.Description)}
				for ct, mt := range r.Value.Content {
					f.Type = ct + ", " + typeOf(mt.Schema)
				}
				o.Responses = append(o.Responses, f)
			}
			v.Operations = append(v.Operations, o)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Components.Schemas)) {
		sc := spec.Components.Schemas[name].Value
		s := templates.APISchema{Name: name, Description: sc.Description}
		for _, prop := range slices.Sorted(maps.Keys(sc.Properties)) {
			s.Fields = append(s.Fields, templates.APIField{Name: prop, Type: typeOf(sc.Properties[prop]),
				Description: sc.Properties[prop].Value.Description, Required: slices.Contains(sc.Required, prop)})
		}
		v.Schemas = append(v.Schemas, s)
	}
	return v
}

// typeOf names a schema: its reference, or its type and format.
func typeOf(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	if ref.Ref != "" {
		return ref.Ref[strings.LastIndexByte(ref.Ref, '/')+1:]
	}
	s := ref.Value
	t := strings.Join(s.Type.Slice(), " or ")
	switch {
	case t == "array":
		return "array of " + typeOf(s.Items)
	case len(s.Enum) > 0:
		var values []string
		for _, e := range s.Enum {
			if e != nil {
				values = append(values, fmt.Sprint(e))
			}
		}
		t += ": " + strings.Join(values, ", ")
	case s.Format != "":
		t += " (" + s.Format + ")"
	}
	if s.Nullable {
		t += ", or null"
	}
	return t
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
