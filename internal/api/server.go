package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"admincenter/internal/apikeys"
	"admincenter/internal/apiview"
	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/orgs"
	"admincenter/internal/paging"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// Server answers the API's operations with the product's services, on
// behalf of the caller the authentication put in the context.
type Server struct {
	Domains   *domains.Service
	Imports   *imports.Service
	Orgs      *orgs.Service
	Audit     *audit.Log
	HTTPSPort int
}

var _ StrictServerInterface = (*Server)(nil)

// Caller is who a request acts for: the key and its creator.
type Caller struct {
	Key  apikeys.Key
	User users.User
}

type callerKey struct{}

// WithCaller puts the caller in ctx.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func caller(ctx context.Context) Caller { c, _ := ctx.Value(callerKey{}).(Caller); return c }

func org(ctx context.Context) int64   { return caller(ctx).Key.OrganizationID }
func actor(ctx context.Context) int64 { return caller(ctx).User.ID }

// The cursor of a page is opaque to clients: the number of the page it
// starts, encoded.
func pageOf(cursor *string) (int, error) {
	if cursor == nil || *cursor == "" {
		return 1, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*cursor)
	n, perr := strconv.Atoi(strings.TrimPrefix(string(raw), "p"))
	if err != nil || perr != nil || n < 1 || !strings.HasPrefix(string(raw), "p") {
		return 0, apperr.Field("cursor", "This cursor is not one the API gave: pass the next_cursor of the previous page as it is.")
	}
	return n, nil
}

func nextCursor(page, pages int) *string {
	if page >= pages {
		return nil
	}
	c := base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.Itoa(page+1)))
	return &c
}

func limitOf(l *int) int {
	if l == nil {
		return 50
	}
	return *l
}

func (s *Server) domain(ctx context.Context, d domains.Domain) (apiview.Domain, error) {
	atRisk, err := s.Domains.UsersAtRisk(ctx, d)
	return apiview.DomainOf(d, atRisk, s.HTTPSPort), err
}

func (s *Server) ListDomains(ctx context.Context, r ListDomainsRequestObject) (ListDomainsResponseObject, error) {
	page, err := pageOf(r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	var f domains.Filter
	if r.Params.Status != nil {
		f.Status = domains.Status(*r.Params.Status)
	}
	l, err := s.Domains.Listing(ctx, org(ctx), f, domains.Whole)
	if err != nil {
		return nil, err
	}
	warnings, err := s.Domains.Warnings(ctx, org(ctx))
	if err != nil {
		return nil, err
	}
	atRisk := map[int64]int64{}
	for _, w := range warnings {
		atRisk[w.DomainID] = w.UsersAtRisk
	}
	size := limitOf(r.Params.Limit)
	all := l.Domains
	from := min((page-1)*size, len(all))
	out := ListDomains200JSONResponse{Data: []Domain{}, NextCursor: nextCursor(page, paging.Count(int64(len(all)), size))}
	for _, d := range all[from:min(from+size, len(all))] {
		out.Data = append(out.Data, apiview.DomainOf(d, atRisk[d.ID], s.HTTPSPort))
	}
	return out, nil
}

func (s *Server) AddDomain(ctx context.Context, r AddDomainRequestObject) (AddDomainResponseObject, error) {
	d, err := s.Domains.Add(ctx, actor(ctx), r.Body.Name)
	if err != nil {
		return nil, err
	}
	v, err := s.domain(ctx, d)
	return AddDomain201JSONResponse(v), err
}

func (s *Server) GetDomain(ctx context.Context, r GetDomainRequestObject) (GetDomainResponseObject, error) {
	d, err := s.Domains.Get(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	v, err := s.domain(ctx, d)
	return GetDomain200JSONResponse(v), err
}

func (s *Server) DeleteDomain(ctx context.Context, r DeleteDomainRequestObject) (DeleteDomainResponseObject, error) {
	// The services act in the caller's organization: another's id is not found.
	if _, err := s.Domains.Delete(ctx, actor(ctx), r.Id); err != nil {
		return nil, err
	}
	return DeleteDomain204Response{}, nil
}

func (s *Server) VerifyDomain(ctx context.Context, r VerifyDomainRequestObject) (VerifyDomainResponseObject, error) {
	method := verify.DNS
	if r.Body != nil && r.Body.Method != nil {
		method = verify.Method(*r.Body.Method)
	}
	d, report, err := s.Domains.Verify(ctx, actor(ctx), r.Id, method)
	if err != nil {
		return nil, err
	}
	v, err := s.domain(ctx, d)
	if err != nil {
		return nil, err
	}
	out := VerifyDomain200JSONResponse{Domain: v, Checks: []CheckResult{}}
	for _, res := range report.Results {
		out.Checks = append(out.Checks, checkResult(res))
	}
	return out, nil
}

// checkResult shows what one method asked and found.
func checkResult(res verify.Result) CheckResult {
	ms := int(res.Duration.Milliseconds())
	c := CheckResult{Method: CheckResultMethod(res.Method), Outcome: CheckResultOutcome(res.Outcome), Summary: res.Summary, DurationMs: &ms}
	if len(res.Mistakes) > 0 {
		mistakes := make([]struct {
			Fix   string `json:"fix"`
			Found string `json:"found"`
			Kind  string `json:"kind"`
		}, len(res.Mistakes))
		for i, m := range res.Mistakes {
			mistakes[i].Fix, mistakes[i].Found, mistakes[i].Kind = m.Fix, m.Found, m.Kind
		}
		c.Mistakes = &mistakes
	}
	var evidence any = res.DNS
	if res.HTTPS != nil {
		evidence = res.HTTPS
	}
	if raw, err := json.Marshal(evidence); err == nil {
		var report map[string]any
		if json.Unmarshal(raw, &report) == nil && report != nil {
			c.Report = &report
		}
	}
	return c
}

func (s *Server) ListChecks(ctx context.Context, r ListChecksRequestObject) (ListChecksResponseObject, error) {
	page, err := pageOf(r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	size := limitOf(r.Params.Limit)
	p, err := s.Domains.Checks(ctx, org(ctx), r.Id, page, size)
	if err != nil {
		return nil, err
	}
	out := ListChecks200JSONResponse{Data: []Check{}, NextCursor: nextCursor(page, paging.Count(p.Total, size))}
	for _, c := range p.Items {
		out.Data = append(out.Data, Check{Id: c.ID, CheckedAt: c.CheckedAt.UTC(), Method: CheckMethod(c.Method),
			Outcome: CheckOutcome(c.Outcome), Automatic: c.Automatic, Summary: c.Summary})
	}
	return out, nil
}

func (s *Server) GetDomainSettings(ctx context.Context, r GetDomainSettingsRequestObject) (GetDomainSettingsResponseObject, error) {
	d, err := s.Domains.Get(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return GetDomainSettings200JSONResponse{SignupPolicy: DomainSettingsSignupPolicy(d.SignupPolicy)}, nil
}

func (s *Server) PutDomainSettings(ctx context.Context, r PutDomainSettingsRequestObject) (PutDomainSettingsResponseObject, error) {
	if err := s.Imports.SetPolicy(ctx, actor(ctx), r.Id, imports.SignupPolicy(r.Body.SignupPolicy)); err != nil {
		return nil, err
	}
	d, err := s.Domains.Get(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return PutDomainSettings200JSONResponse{SignupPolicy: DomainSettingsSignupPolicy(d.SignupPolicy)}, nil
}

func (s *Server) ListUsersAtRisk(ctx context.Context, r ListUsersAtRiskRequestObject) (ListUsersAtRiskResponseObject, error) {
	page, err := pageOf(r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	d, err := s.Domains.Get(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	p, err := s.Domains.AtRisk(ctx, d, page)
	if err != nil {
		return nil, err
	}
	out := ListUsersAtRisk200JSONResponse{Data: []User{}, NextCursor: nextCursor(page, p.Pages())}
	for _, u := range p.Items {
		v := user(u.User)
		accounts := make([]struct {
			Id   string `json:"id"`
			Name string `json:"name"`
		}, len(u.Accounts))
		for i, a := range u.Accounts {
			accounts[i].Id, accounts[i].Name = a.ID, a.Name
		}
		v.Accounts = &accounts
		out.Data = append(out.Data, v)
	}
	return out, nil
}

func user(u users.User) User {
	return User{Id: u.ID, Email: u.Email, Name: u.Name, Role: UserRole(roleName(u.Role)), Status: u.Status()}
}

func roleName(r users.Role) string {
	switch r {
	case users.Owner:
		return "owner"
	case users.Admin:
		return "administrator"
	}
	return "standard"
}

func (s *Server) CreateImport(ctx context.Context, r CreateImportRequestObject) (CreateImportResponseObject, error) {
	scope := imports.All
	if r.Body != nil && r.Body.Scope != nil {
		scope = imports.Scope(*r.Body.Scope)
	}
	imp, err := s.Imports.Request(ctx, actor(ctx), r.Id, scope, false)
	if err != nil {
		return nil, err
	}
	return CreateImport202JSONResponse(apiview.ImportOf(imp)), nil
}

func (s *Server) GetImport(ctx context.Context, r GetImportRequestObject) (GetImportResponseObject, error) {
	imp, err := s.Imports.ByID(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return GetImport200JSONResponse(apiview.ImportOf(imp)), nil
}

func (s *Server) ListImportUsers(ctx context.Context, r ListImportUsersRequestObject) (ListImportUsersResponseObject, error) {
	page, err := pageOf(r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	imp, err := s.Imports.ByID(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	size := limitOf(r.Params.Limit)
	p, err := s.Imports.Rows(ctx, imp, page, size)
	if err != nil {
		return nil, err
	}
	out := ListImportUsers200JSONResponse{Data: []ImportUser{}, NextCursor: nextCursor(page, paging.Count(p.Total, size))}
	for _, row := range p.Items {
		u := ImportUser{UserId: row.UserID, Email: row.Email, Name: row.Name, SignedUpAt: row.SignedUpAt.UTC(),
			EmailVerified: row.EmailVerified, AccountIds: strings.Fields(row.AccountIDs), Reason: string(row.Reason),
			Eligible: row.Reason == imports.Eligible, Included: row.Included, Outcome: string(row.Outcome)}
		if row.OutcomeReason != "" {
			reason := string(row.OutcomeReason)
			u.OutcomeReason = &reason
		}
		if u.AccountIds == nil {
			u.AccountIds = []string{}
		}
		out.Data = append(out.Data, u)
	}
	return out, nil
}

func (s *Server) GetImportCSV(ctx context.Context, r GetImportCSVRequestObject) (GetImportCSVResponseObject, error) {
	imp, err := s.Imports.ByID(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	// Streamed: the report is written as the client reads it.
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.Imports.WriteReport(ctx, pw, imp)) }()
	return GetImportCSV200TextcsvResponse{Body: pr}, nil
}

func (s *Server) StartImport(ctx context.Context, r StartImportRequestObject) (StartImportResponseObject, error) {
	imp, err := s.Imports.ByID(ctx, org(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	var exclude []int64
	if r.Body != nil && r.Body.ExcludeUserIds != nil {
		exclude = *r.Body.ExcludeUserIds
	}
	if imp, err = s.Imports.StartExcluding(ctx, actor(ctx), imp.DomainID, imp.ID, exclude); err != nil {
		return nil, err
	}
	return StartImport202JSONResponse(apiview.ImportOf(imp)), nil
}

func (s *Server) ListUsers(ctx context.Context, r ListUsersRequestObject) (ListUsersResponseObject, error) {
	page, err := pageOf(r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	var f orgs.MemberFilter
	switch {
	case r.Params.Import != nil:
		imp, err := s.Imports.ByID(ctx, org(ctx), *r.Params.Import)
		if err != nil {
			return nil, err
		}
		f.Among = s.Imports.ImportedUserIDs(imp.ID)
	case r.Params.Domain != nil:
		name, err := domains.Normalize(*r.Params.Domain, &domains.Blocklist{})
		if err != nil {
			return nil, apperr.Field("domain", err.Error())
		}
		f.Among = s.Domains.DB.Model(&users.User{}).Select("id").Where(domains.AtDomain("email", name.ASCII))
	}
	p, err := s.Orgs.Members(ctx, org(ctx), f, page)
	if err != nil {
		return nil, err
	}
	out := ListUsers200JSONResponse{Data: []User{}, NextCursor: nextCursor(page, p.Pages())}
	for _, m := range p.Items {
		out.Data = append(out.Data, user(m.User))
	}
	return out, nil
}

func (s *Server) ListAudit(ctx context.Context, r ListAuditRequestObject) (ListAuditResponseObject, error) {
	page, err := pageOf(r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	var f audit.Filter
	if r.Params.Action != nil {
		f.Action = *r.Params.Action
	}
	if r.Params.Since != nil {
		f.From = *r.Params.Since
	}
	if r.Params.Until != nil {
		f.Until = *r.Params.Until
	}
	if r.Params.Domain != nil {
		d, err := s.Domains.Get(ctx, org(ctx), *r.Params.Domain)
		if err != nil {
			return nil, apperr.Field("domain", "There is no domain with this id in the organization.")
		}
		f.Domain = &audit.Domain{ID: d.ID, Name: d.Name, Unicode: d.UnicodeName, At: domains.AtDomain}
	}
	p, err := s.Audit.Page(ctx, org(ctx), f, page)
	if err != nil {
		return nil, err
	}
	out := ListAudit200JSONResponse{Data: []AuditEntry{}, NextCursor: nextCursor(page, p.Pages())}
	for _, e := range p.Items {
		out.Data = append(out.Data, AuditEntry{Id: e.ID, Time: e.CreatedAt.UTC(), Actor: e.Actor, Action: e.Action,
			TargetType: e.TargetType, TargetId: e.TargetID, Target: e.Target, Details: e.Details})
	}
	return out, nil
}
