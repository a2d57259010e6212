package directory

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Search asks for a page of employees, ordered by name.
type Search struct {
	// Text matches, case-insensitively, part of the English or Chinese
	// name, the e-mail address, or the employee number (only of employees
	// whose number the caller may read). "" matches everyone.
	Text string
	// Department limits the answer to that department's employees, and
	// with Subtree to those of its sub-departments too.
	Department string
	Subtree    bool
	// IncludeDeactivated also lists deactivated employees.
	IncludeDeactivated bool
	// Cursor continues a previous page of the same search.
	Cursor string
	// Limit is the page size: 0 for DefaultPageSize, at most MaxPageSize.
	Limit int
}

// Page is one page of employees; Cursor is "" on the last.
type Page struct {
	Employees []Employee `json:"employees"`
	Cursor    string     `json:"cursor,omitempty"`
}

type searchCursor struct {
	F string `json:"f"`
	K string `json:"k"`
}

func (s Search) fingerprint(tenant, user string) string {
	raw, _ := json.Marshal([]any{"lantau-directory-1", tenant, user, strings.ToLower(strings.TrimSpace(s.Text)), s.Department, s.Subtree, s.IncludeDeactivated})
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Employees searches the company's employees (every signed-in person of
// the company may).
func (d *Directory) Employees(ctx context.Context, a identity.Actor, s Search) (Page, error) {
	const op = "directory.Employees"
	if err := authorize(a, PermRead, nil); err != nil {
		return Page{}, err
	}
	var f fields
	limit := s.Limit
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 1 || limit > MaxPageSize:
		f.add("limit", "range", i18n.Text{EN: "must be between 1 and " + strconv.Itoa(MaxPageSize), ZH: "必須介乎 1 至 " + strconv.Itoa(MaxPageSize)})
	}
	if len([]rune(s.Text)) > 100 {
		f.add("q", "too-long", msgTooLong100)
	}
	var after string
	if s.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(s.Cursor)
		var c searchCursor
		if err != nil || json.Unmarshal(raw, &c) != nil || c.F != s.fingerprint(a.Tenant, a.User) || c.K == "" {
			f.add("cursor", "invalid", i18n.Text{EN: "is not a cursor of this search", ZH: "不是此搜尋的游標"})
		}
		after = c.K
	}
	if err := f.err(op); err != nil {
		return Page{}, err
	}
	p, err := d.loadPeople(ctx, a.Tenant)
	if err != nil {
		return Page{}, storeErr(op, err)
	}
	var in map[string]bool
	if s.Department != "" {
		if p.tree.byID[s.Department] == nil {
			return Page{}, noDepartment(op, "no department "+s.Department)
		}
		in = map[string]bool{s.Department: true}
		if s.Subtree {
			in = p.tree.subtree(s.Department)
		}
	}
	within := p.tree.subtreeFunc()
	text := strings.ToLower(strings.TrimSpace(s.Text))
	matches := func(e *Employee) bool {
		switch {
		case in != nil && !in[e.Department]:
			return false
		case !s.IncludeDeactivated && e.Status == StatusDeactivated:
			return false
		case text == "":
			return true
		case strings.Contains(strings.ToLower(e.NameEn), text), strings.Contains(strings.ToLower(e.NameZh), text),
			strings.Contains(strings.ToLower(e.Email), text):
			return true
		}
		return e.EmployeeNumber != "" && strings.Contains(strings.ToLower(e.EmployeeNumber), text) && mayReadPrivate(a, *e, within)
	}
	var found []*Employee
	for _, e := range p.byID {
		if (after == "" || e.sortKey() > after) && matches(e) {
			found = append(found, e)
		}
	}
	slices.SortFunc(found, func(x, y *Employee) int { return strings.Compare(x.sortKey(), y.sortKey()) })
	out := Page{Employees: []Employee{}}
	if len(found) > limit {
		found = found[:limit]
		raw, _ := json.Marshal(searchCursor{F: s.fingerprint(a.Tenant, a.User), K: found[limit-1].sortKey()})
		out.Cursor = base64.RawURLEncoding.EncodeToString(raw)
	}
	ids := make([]string, len(found))
	for i, e := range found {
		ids[i] = e.ID
	}
	settings, err := d.loadSettings(ctx, a.Tenant)
	if err != nil {
		return Page{}, storeErr(op, err)
	}
	st := d.statuses(ctx, a.Tenant, ids)
	for _, e := range found {
		out.Employees = append(out.Employees, p.present(a, settings.DisplayNameFormat, *e, st))
	}
	return out, nil
}

// Members is a page of a department's employees, with those of its
// sub-departments when subtree is set.
func (d *Directory) Members(ctx context.Context, a identity.Actor, department string, subtree bool, cursor string, limit int) (Page, error) {
	const op = "directory.Members"
	if department == "" {
		return Page{}, noDepartment(op, "no department")
	}
	page, err := d.Employees(ctx, a, Search{Department: department, Subtree: subtree, Cursor: cursor, Limit: limit})
	return page, problem.Wrap(op, err)
}
